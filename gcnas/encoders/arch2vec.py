"""``Arch2Vec``: unsupervised architecture embeddings (Yan et al., NeurIPS 2020), for any search space.

A variational graph autoencoder (:class:`~gcnas.encoders.model.GraphVAE`) is trained
without any accuracy label to reconstruct cell graphs; the mean of a graph's per-node
posterior means is its graph-level vector (for large graphs, the means of consecutive
stretches of them: ``readout_bins``), and a cell's embedding joins the vectors of its graphs
(one for NAS-Bench-201 and IMC, normal and reduce for DARTS: ``space.to_graph``).
Cells that differ in few ops land close together, which is what Bayesian optimisation
in that space relies on.

The layers are sized from the space (``space.node_types``, ``space.max_nodes``), and the
way back from an embedding to a cell goes through the space's decisions: a
:class:`~gcnas.encoders.model.DecisionDecoder` reads the embedding and names every
decision (valid by construction, ``space.from_decisions``), then a short local search
re-encodes the cells one decision away and moves to the one whose embedding is nearest
(:meth:`Arch2Vec.decode`). Measured round trips are in ``docs/encoders.md``.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from gcnas.data.store import atomic_write
from gcnas.encoders.model import DecisionDecoder, GraphVAE, position_pool, reconstruction_stats, vae_loss
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError, NotFittedError
from gcnas.progress import progress as show_progress
from gcnas.spaces import SearchSpace, resolve_space, space_name

__all__ = ["Arch2Vec", "graph_tensors"]

FORMAT = "gcnas.arch2vec"
FORMAT_VERSION = 2  # 2: any space, cells stored as text, the decision decoder
_CHUNK = 4096
_SCHEDULES = ("cosine", "constant")
_FINAL_LR_SHARE = 0.05
_PADDING = -100  # node type of padding (cross_entropy's ignore_index)
_SAME = 1e-4     # embeddings closer than this (L2) are taken as the same cell's
_BEAM = 32       # the decoder's likeliest decision vectors that decode tries before its local search
_NODES_PER_BIN = 16  # readout_bins=None: one stretch of the graph embedding per this many nodes of the largest graph


def _cell_type(space: SearchSpace[Any]) -> type:
    return type(space.sample(0))


def _check_archs(space: SearchSpace[Any], archs: Sequence[Any], what: str = "archs") -> list[Any]:
    kind = _cell_type(space)
    if isinstance(archs, (kind, str)):
        raise InvalidInputError(f"{what} must be a sequence of {kind.__name__} values, got a single "
                                f"{type(archs).__name__}")
    archs = list(archs)
    for i, arch in enumerate(archs):
        if not isinstance(arch, kind):
            raise InvalidInputError(
                f"this Arch2Vec embeds cells of the {space.name!r} space ({kind.__name__}); {what}[{i}] is a "
                f"{type(arch).__name__} ({arch!r:.60}); read text with space.parse(...), and embed "
                "architectures of another space with an encoder trained on that space")
    return archs


def graph_tensors(archs: Sequence[Any], *, space: SearchSpace[Any] | str) -> tuple[torch.Tensor, torch.Tensor,
                                                                                   torch.Tensor]:
    """Dense batch tensors of the cells' graphs (``space.to_graph``), padded to ``space.max_nodes``.

    Args:
        archs: ``B`` architectures of ``space``.
        space: Their space (or its name); it has ``G = len(space.graph_names)`` graphs per cell.

    Returns:
        ``adj (B*G, N, N)`` float32, ``features (B*G, N, T)`` float32 and ``types (B*G, N)``
        long (``-100`` on padding), cell-major: cell ``b``'s graph ``g`` at row ``b*G + g``.

    Example:
        >>> space = get_space("darts")
        >>> adj, features, types = graph_tensors([space.sample(i) for i in range(4)], space=space)
        >>> adj.shape                                    # 4 cells x (normal, reduce), 11 nodes
        torch.Size([8, 11, 11])
    """
    space = resolve_space(space)
    archs = _check_archs(space, archs)
    n, t = space.max_nodes, len(space.node_types)
    graphs = [g for arch in archs for g in space.to_graph(arch)]
    adj = np.zeros((len(graphs), n, n), dtype=np.float32)
    features = np.zeros((len(graphs), n, t), dtype=np.float32)
    types = np.full((len(graphs), n), _PADDING, dtype=np.int64)
    for i, graph in enumerate(graphs):
        size = graph.num_nodes
        adj[i, :size, :size] = graph.adjacency
        features[i, :size] = graph.features
        types[i, :size] = np.asarray(graph.features).argmax(-1)
    return torch.from_numpy(adj), torch.from_numpy(features), torch.from_numpy(types)


class Arch2Vec:
    """arch2vec encoder of one search space: embed cells as vectors, and decode vectors to cells.

    Args:
        latent_dim: Size of every node latent and of each graph's vector; a cell's
            embedding has ``len(space.graph_names) * latent_dim`` entries.
        space: The search space (an instance or its registered name). The network is
            sized from its ``node_types`` and ``max_nodes``; it is recorded by name.
        hidden_dim: Width of the GIN encoder.
        num_layers: GIN layers.
        beta: Weight of the KL term of the loss (per latent unit, against the
            per-node and per-entry reconstruction terms).
        decision_weight: Weight, while training the autoencoder, of naming every decision
            of the space from the cell's embedding (the decision decoder trained jointly, its
            gradient shaping the embedding); 0 (the default) leaves the autoencoder as it was.
        graph_weight: Weight, while training the autoencoder, of decoding every node's
            type from the graph vector. A little makes the embedding informative and
            smoother; much pulls cells apart (measured in ``docs/encoders.md``).
        decoder_epochs: Epochs of a final phase that trains only the decision decoder
            on the frozen embeddings, so :meth:`decode` of embeddings is exact without
            reshaping the latent space (0 skips it; :meth:`decode` then refuses).
        decoder_width: Width of the decision decoder's hidden layers.
        readout_bins: Stretches of a graph's nodes (in topological order) whose mean
            latents its vector joins (1: one mean over all nodes, arch2vec's readout).
            More keep where in the graph each kind of node sits, which a space whose
            decisions are per position needs (the IMC macro space's per-stage choices:
            measured in ``docs/encoders.md``); the embedding grows to ``len(graph_names) *
            readout_bins * latent_dim``. None (the default): the space's ``readout_bins``
            where it declares one (DARTS: 11, one stretch per node), else one stretch per 16
            nodes of ``space.max_nodes``, at least 1 (NAS-Bench-201: 1; IMC, 73 nodes: 4).
        refine_steps: Most moves of :meth:`decode`'s local search (0: the decision
            decoder's answer as is).
        sample_size: Cells drawn to train on when ``fit`` gets none and the space
            cannot be listed (``space.size()`` is None).
        lr: Adam learning rate (the peak one).
        schedule: ``"cosine"`` (decay to 5% of ``lr`` over the epochs of :meth:`fit`)
            or ``"constant"``.
        batch_size: Cells per optimisation step.
        epochs: Default number of epochs of :meth:`fit`.
        holdout: Share of the architectures kept out of training to check
            reconstruction on (0 trains on all).
        seed: Seed of the split, the initialisation, the shuffling and the noise.

    Example:
        >>> enc = Arch2Vec(latent_dim=16, space="darts", sample_size=2000, seed=0).fit()
        >>> cells = [enc.space_.sample(i) for i in range(5)]
        >>> z = enc.encode(cells)                      # (5, 32) float32: normal and reduce
        >>> enc.decode(z)                              # the same 5 cells (or nearly)
    """

    def __init__(self, latent_dim: int = 16, *, space: SearchSpace[Any] | str = "nb201", hidden_dim: int = 128,
                 num_layers: int = 5, beta: float = 0.25, graph_weight: float = 0.1, decoder_epochs: int = 60,
                 decoder_width: int = 256, decision_weight: float = 0.0, refine_steps: int = 8, sample_size: int = 20_000, lr: float = 2e-3,
                 schedule: str = "cosine", batch_size: int = 64, epochs: int = 12, holdout: float = 0.1,
                 seed: int = 0, readout_bins: int | None = None) -> None:
        self.latent_dim = latent_dim
        self.space = space
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.beta = beta
        self.graph_weight = graph_weight
        self.decoder_epochs = decoder_epochs
        self.decoder_width = decoder_width
        self.decision_weight = decision_weight
        self.refine_steps = refine_steps
        self.sample_size = sample_size
        self.lr = lr
        self.schedule = schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.holdout = holdout
        self.seed = seed
        self.readout_bins = readout_bins

    _PARAMS = ("latent_dim", "space", "hidden_dim", "num_layers", "beta", "graph_weight", "decoder_epochs",
               "decoder_width", "decision_weight", "refine_steps", "sample_size", "lr", "schedule", "batch_size", "epochs",
               "holdout", "seed", "readout_bins")

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (scikit-learn style), a registered space by its name."""
        params = {name: getattr(self, name) for name in self._PARAMS}
        try:
            params["space"] = _recorded_name(self.space)
        except InvalidInputError:  # a space that is not registered: kept as given (it cannot be saved)
            pass
        return params

    def _space_name(self) -> str:
        try:
            return _recorded_name(self.space)
        except InvalidInputError as error:
            raise InvalidInputError(f"cannot save this Arch2Vec: a checkpoint records its space by name ({error})"
                                    ) from None

    def _validate_params(self) -> None:
        for name, least in (("latent_dim", 1), ("hidden_dim", 1), ("num_layers", 1), ("batch_size", 1),
                            ("epochs", 1), ("decoder_epochs", 0), ("decoder_width", 1), ("refine_steps", 0),
                            ("sample_size", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise InvalidInputError(f"Arch2Vec {name} must be an int >= {least}, got {value!r}")
        bins = self.readout_bins
        if bins is not None and (isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1):
            raise InvalidInputError(f"Arch2Vec readout_bins must be None or an int >= 1, got {bins!r}")
        if not 0.0 <= float(self.holdout) < 1.0:
            raise InvalidInputError(f"Arch2Vec holdout must be in [0, 1), got {self.holdout!r}")
        if self.schedule not in _SCHEDULES:
            raise InvalidInputError(f"Arch2Vec schedule must be one of {', '.join(_SCHEDULES)}, got {self.schedule!r}")
        if not (float(self.lr) > 0 and float(self.beta) >= 0 and float(self.graph_weight) >= 0
                and float(self.decision_weight) >= 0):
            raise InvalidInputError(f"Arch2Vec needs lr > 0, beta >= 0 and graph_weight >= 0, got lr={self.lr!r} "
                                    f"beta={self.beta!r} graph_weight={self.graph_weight!r}")

    @property
    def embedding_dim(self) -> int:
        """Entries of a cell's embedding: graphs per cell x ``readout_bins`` x ``latent_dim``."""
        space = resolve_space(self.space)
        return len(space.graph_names) * self._bins(space) * int(self.latent_dim)

    def _bins(self, space: SearchSpace[Any]) -> int:
        """``readout_bins``; for None, the space's ``readout_bins``, else one stretch per 16 nodes of its
        largest graph (at least 1)."""
        if self.readout_bins is not None:
            return int(self.readout_bins)
        if getattr(space, "readout_bins", None) is not None:
            return int(space.readout_bins)
        return max(1, space.max_nodes // _NODES_PER_BIN)

    def _build(self, space: SearchSpace[Any]) -> None:
        """The networks, sized from the space (the VAE first: same seed, same VAE as before v2)."""
        self.space_ = space
        self.model_ = GraphVAE(space.max_nodes, len(space.node_types), latent_dim=self.latent_dim,
                               hidden_dim=self.hidden_dim, num_layers=self.num_layers,
                               readout_bins=self._bins(space))
        self.head_ = DecisionDecoder(self.embedding_dim, [d.size for d in space.decisions],
                                     hidden_dim=self.decoder_width)

    # -- training ----------------------------------------------------------------------

    def _split(self, archs: list[Any]) -> tuple[list[Any], list[Any]]:
        order = np.random.default_rng(self.seed).permutation(len(archs))
        num_out = int(round(self.holdout * len(archs))) if len(archs) > 1 else 0
        held = sorted(int(i) for i in order[:num_out])
        kept = sorted(int(i) for i in order[num_out:])
        return [archs[i] for i in kept], [archs[i] for i in held]

    def _training_cells(self, space: SearchSpace[Any]) -> list[Any]:
        """Every cell of a space that can be listed; else ``sample_size`` distinct sampled ones."""
        if space.size() is not None:
            return list(space.enumerate())
        rng = np.random.default_rng([self.seed, 20_000])
        cells: dict[str, Any] = {}
        for _ in range(20 * self.sample_size):
            cell = space.sample(rng)
            cells.setdefault(space.key(cell), cell)
            if len(cells) == self.sample_size:
                break
        return list(cells.values())

    def fit(self, archs: Sequence[Any] | None = None, *, epochs: int | None = None, progress: bool = True,
            checkpoint: str | os.PathLike | None = None) -> Arch2Vec:
        """Train the autoencoder without labels, then the decision decoder.

        Args:
            archs: Cells to train on; ``None`` means every cell of the space, or, for a
                space that cannot be listed, ``sample_size`` distinct cells drawn with
                ``seed``. A seeded ``holdout`` share of them is kept out for checks.
            epochs: Passes over the training part (default ``self.epochs``).
            progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
            checkpoint: File to save the training state to after every epoch; when it
                exists, training resumes from it (same settings and archs required)
                and gives the same model as an uninterrupted run of as many epochs.

        Returns:
            ``self``, with ``space_``, ``model_``, ``head_``, ``history_`` (one dict per
            epoch), ``train_cells_`` and ``holdout_cells_`` (``space.format`` texts) set.
        """
        self._validate_params()
        epochs = self.epochs if epochs is None else epochs
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise InvalidInputError(f"epochs must be a positive int, got {epochs!r}")
        space = resolve_space(self.space)
        archs = self._training_cells(space) if archs is None else _check_archs(space, archs)
        if not archs:
            raise InvalidInputError("Arch2Vec.fit needs at least one architecture")
        train, held = self._split(archs)
        torch.manual_seed(self.seed)
        self._build(space)
        model = self.model_
        joint = float(self.decision_weight) > 0
        # Only a joint run optimises the head with the autoencoder (and so leaves other runs as they were).
        optimizer = torch.optim.Adam([*model.parameters(), *(self.head_.parameters() if joint else [])], lr=self.lr)
        self.history_ = []
        self.train_cells_ = [space.format(a) for a in train]
        self.holdout_cells_ = [space.format(a) for a in held]
        start = self._resume(checkpoint, optimizer) if checkpoint is not None else 0
        adj, features, types = graph_tensors(train, space=space)
        decisions = torch.as_tensor(np.array([space.to_decisions(a) for a in train], dtype=np.int64))
        per_cell = len(space.graph_names)
        steps = math.ceil(len(train) / self.batch_size)
        bar = show_progress(total=epochs * steps, initial=start * steps, desc="encoder pretrain (arch2vec)",
                            unit="step", enabled=progress)
        for epoch in range(start, epochs):
            began = time.perf_counter()
            model.train()
            order = torch.from_numpy(np.random.default_rng([self.seed, epoch]).permutation(len(train)))
            noise = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            sums: dict[str, float] = {}
            for step in range(steps):
                cells = order[step * self.batch_size:(step + 1) * self.batch_size]
                idx = _graph_rows(cells, per_cell)
                for group in optimizer.param_groups:
                    group["lr"] = self._lr_at((epoch * steps + step) / (epochs * steps))
                out = model(adj[idx], features[idx], generator=noise)
                losses = vae_loss(out, adj[idx], types[idx], beta=self.beta, graph_weight=self.graph_weight)
                if joint:
                    blocks = self.head_(out.graph.reshape(len(cells), -1))
                    losses["decisions"] = sum(torch.nn.functional.cross_entropy(block, decisions[cells, k])
                                              for k, block in enumerate(blocks)) / len(blocks)
                    losses["loss"] = losses["loss"] + self.decision_weight * losses["decisions"]
                optimizer.zero_grad()
                losses["loss"].backward()
                optimizer.step()
                for key, value in losses.items():
                    sums[key] = sums.get(key, 0.0) + float(value.detach()) * len(cells)
                bar.update()
            record = {"epoch": epoch + 1, **{k: v / len(train) for k, v in sums.items()},
                      "seconds": time.perf_counter() - began}
            if held:
                record.update({f"holdout_{k}": v for k, v in self._node_reconstruction(held).items()})
            self.history_.append(record)
            bar.set_postfix(loss=f"{record['loss']:.4f}")
            if checkpoint is not None:
                atomic_write(checkpoint, self._payload(optimizer=optimizer, epoch=epoch + 1))
        bar.close()
        began = time.perf_counter()
        self._fit_decision_decoder(train)
        if self.history_:
            self.history_[-1]["decoder_seconds"] = time.perf_counter() - began
        if held and self.decoder_epochs:
            self.history_[-1].update({f"holdout_{k}": v for k, v in self.reconstruction(held).items()})
        model.eval()
        return self

    def _fit_decision_decoder(self, train: list[Any]) -> None:
        """Train the decision decoder alone on the frozen embeddings (the latent space stays as is)."""
        if self.decoder_epochs == 0:
            return
        vectors = torch.from_numpy(self.encode(train))
        targets = torch.as_tensor(np.array([self.space_.to_decisions(a) for a in train], dtype=np.int64))
        torch.manual_seed(self.seed + 1)
        self.head_ = DecisionDecoder(vectors.shape[1], [d.size for d in self.space_.decisions],
                                     hidden_dim=self.decoder_width)
        head = self.head_.train()
        head.set_scale(vectors)
        optimizer = torch.optim.Adam(head.parameters(), lr=self.lr)
        rng = np.random.default_rng([self.seed, self.epochs, 1])
        batch = 4 * self.batch_size
        steps = self.decoder_epochs * math.ceil(len(vectors) / batch)
        step = 0
        for _ in range(self.decoder_epochs):
            order = torch.from_numpy(rng.permutation(len(vectors)))
            for begin in range(0, len(order), batch):
                idx = order[begin:begin + batch]
                for group in optimizer.param_groups:  # the cosine schedule ends on small, exact steps
                    group["lr"] = self._lr_at(step / steps)
                step += 1
                logits = head(vectors[idx])
                loss = sum(torch.nn.functional.cross_entropy(block, targets[idx, k])
                           for k, block in enumerate(logits))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        head.eval()

    def _lr_at(self, progress: float) -> float:
        if self.schedule == "constant":
            return float(self.lr)
        return float(self.lr) * (_FINAL_LR_SHARE + (1 - _FINAL_LR_SHARE) * 0.5 * (1 + math.cos(math.pi * progress)))

    def _resume(self, checkpoint: str | os.PathLike, optimizer: torch.optim.Optimizer) -> int:
        path = Path(checkpoint)
        if not path.exists():
            return 0
        payload = _read_payload(path)
        saved = {k: v for k, v in payload["params"].items() if k != "epochs"}  # more epochs: go on
        wanted = {k: v for k, v in self.get_params().items() if k != "epochs"}
        if saved != wanted or list(payload.get("train_cells", [])) != self.train_cells_:
            raise InvalidInputError(
                f"training checkpoint {str(path)!r} was written with other settings or architectures "
                f"({saved}); delete it to start afresh, or fit with the same settings to resume")
        self.model_.load_state_dict(payload["state_dict"])
        if "head_state_dict" in payload:
            self.head_.load_state_dict(payload["head_state_dict"])
        optimizer.load_state_dict(payload["optimizer"])
        self.history_ = list(payload["history"])
        return int(payload["epoch"])

    # -- encoding and decoding ---------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this Arch2Vec is not fitted; call fit() or Arch2Vec.load(path) first")

    @torch.no_grad()
    def encode_nodes(self, archs: Sequence[Any]) -> np.ndarray:
        """The posterior mean of every node of every graph of each cell.

        Args:
            archs: ``n`` cells of the space.

        Returns:
            ``(n, G, N, latent_dim)`` float32 (``G`` graphs per cell, ``N = space.max_nodes``;
            padding nodes of smaller graphs are included, see :func:`graph_tensors`).
        """
        self._check_fitted()
        archs = _check_archs(self.space_, archs)
        self.model_.eval()
        per_cell, n = len(self.space_.graph_names), self.space_.max_nodes
        out = [self.model_.encode(*graph_tensors(archs[i:i + _CHUNK], space=self.space_)[:2])[0].numpy()
               for i in range(0, len(archs), _CHUNK)]
        nodes = np.concatenate(out) if out else np.zeros((0, n, self.latent_dim), dtype=np.float32)
        return nodes.reshape(len(archs), per_cell, n, self.latent_dim)

    @torch.no_grad()
    def encode(self, archs: Sequence[Any]) -> np.ndarray:
        """Each cell's embedding: the mean node latent of each of its graphs, joined in ``graph_names`` order.

        With ``readout_bins`` > 1, a graph's vector joins the means of that many consecutive
        stretches of its nodes (:func:`~gcnas.encoders.model.position_pool`) instead of one mean.

        Args:
            archs: ``n`` cells of the space.

        Returns:
            ``(n, embedding_dim)`` float32.
        """
        nodes = self.encode_nodes(archs)
        if len(nodes) and self.model_.readout_bins > 1:
            real = graph_tensors(archs, space=self.space_)[2] >= 0
            graphs = position_pool(torch.from_numpy(nodes.reshape(-1, *nodes.shape[2:])), real,
                                   self.model_.readout_bins).numpy()
        else:
            graphs = self._node_means(archs, nodes)
        return graphs.reshape(len(nodes), self.embedding_dim).astype(np.float32)

    def graph_means(self, archs: Sequence[Any]) -> np.ndarray:
        """Each cell's mean node latent per graph, whatever ``readout_bins`` is: arch2vec's own readout.

        With one readout stretch this is :meth:`encode`; with more it is a low-dimensional view
        of the embedding (DARTS: 32 numbers instead of 352) that a surrogate model learns from
        with fewer observations (measured in docs/search.md).

        Args:
            archs: ``n`` cells of the space.

        Returns:
            ``(n, len(graph_names) * latent_dim)`` float32.

        Example:
            >>> encoder = Arch2Vec(space="darts").fit(progress=False)     # embeds in 352 numbers
            >>> encoder.graph_means([get_space("darts").sample(0)]).shape
            (1, 32)
        """
        self._check_fitted()
        nodes = self.encode_nodes(archs)
        return self._node_means(archs, nodes).reshape(len(nodes), -1).astype(np.float32)

    def _node_means(self, archs: Sequence[Any], nodes: np.ndarray) -> np.ndarray:
        """``(n, graphs, latent_dim)``: the mean over each graph's own nodes (padding left out)."""
        if len(nodes) and self._padded(list(archs)):
            real = graph_tensors(archs, space=self.space_)[2].numpy().reshape(nodes.shape[:3]) >= 0
            return (nodes * real[..., None]).sum(2) / np.maximum(real.sum(2), 1)[..., None]
        return nodes.mean(axis=2)  # a plain numpy mean, as before spaces with smaller graphs existed (same numbers)

    def _padded(self, archs: list[Any]) -> bool:
        """Whether some graph of ``archs`` has fewer than ``max_nodes`` nodes."""
        return any(g.num_nodes < self.space_.max_nodes for a in archs for g in self.space_.to_graph(a))

    @torch.no_grad()
    def decode(self, z: np.ndarray | torch.Tensor, *, refine: bool = True,
               return_valid: bool = False) -> list[Any] | tuple[list[Any], np.ndarray]:
        """Cells of the space from latent vectors; every answer is a valid cell.

        Embeddings ``(n, embedding_dim)`` (as :meth:`encode` returns them) are decoded by
        the decision decoder (each decision its most likely value, ``space.from_decisions``)
        and then, with ``refine``, unless that cell encodes to ``z`` already: the decoder's
        32 likeliest other vectors (up to three decisions changed) are encoded and the
        nearest to ``z`` kept, then a local search, at most ``refine_steps`` times, encodes
        the cells one decision away and moves to the nearest, until none is nearer or one
        encodes to ``z`` itself. An embedding of a cell thus decodes to that cell whenever
        the decoder gets within a few decisions of it, and any other point to a cell whose
        embedding is locally nearest.

        Node latents ``(n, G, N, latent_dim)`` (as :meth:`encode_nodes` returns them;
        ``(n, N, latent_dim)`` when ``G`` is 1) are decoded by the node decoder: starting
        from the decision decoder's answer for their mean, each decision in turn takes
        the value whose graphs the node decoder finds most likely, until none changes.

        Args:
            z: Embeddings or node latents (one ``(embedding_dim,)`` vector is allowed).
            refine: Run the local search on embeddings (ignored for node latents).
            return_valid: Also return, per vector, whether the raw decoding was already
                the answer: for embeddings, that it encodes back to ``z`` (within 1e-4);
                for node latents, that the node decoder's own argmax types and wiring are
                exactly the answer's graphs.

        Returns:
            ``n`` cells, and with ``return_valid`` a ``(n,)`` bool array.
        """
        self._check_fitted()
        if not self.decoder_epochs:
            raise NotFittedError("this Arch2Vec was fitted with decoder_epochs=0, so it has no decision decoder; "
                                 "fit with decoder_epochs > 0 to decode")
        z = torch.as_tensor(np.asarray(z, dtype=np.float32))
        per_cell, nodes, d = len(self.space_.graph_names), self.space_.max_nodes, self.latent_dim
        if z.ndim == 1:
            z = z[None]
        if z.ndim == 3 and per_cell == 1:
            z = z[:, None]
        graph_level = z.ndim == 2 and z.shape[-1] == self.embedding_dim
        node_level = z.ndim == 4 and tuple(z.shape[1:]) == (per_cell, nodes, d)
        if not (graph_level or node_level):
            raise InvalidInputError(
                f"cannot decode an array of shape {tuple(z.shape)}: this Arch2Vec has latent_dim={d} and "
                f"{per_cell} graph(s) of {nodes} nodes per cell, so pass (n, {self.embedding_dim}) embeddings "
                f"or (n, {per_cell}, {nodes}, {d}) node latents")
        if not torch.isfinite(z).all():
            raise InvalidInputError("cannot decode latent vectors containing NaN or inf")
        if node_level:
            return self._decode_nodes(z, return_valid)
        values = self._head_values(z)
        archs = [self.space_.from_decisions(v) for v in values]
        if refine and self.refine_steps:
            archs, found = self._refine(z.numpy(), values, archs, self._head_log_probs(z))
        else:
            found = np.linalg.norm(self.encode(archs) - z.numpy(), axis=1) < _SAME
        return (archs, found) if return_valid else archs

    def _head_values(self, z: torch.Tensor) -> list[list[int]]:
        self.head_.eval()
        blocks = self.head_(z)
        return torch.stack([b.argmax(-1) for b in blocks], 1).tolist()

    def _head_log_probs(self, z: torch.Tensor) -> list[np.ndarray]:
        """Per decision, ``(n, size)`` log-probabilities of the decision decoder."""
        self.head_.eval()
        return [torch.log_softmax(block, -1).numpy() for block in self.head_(z)]

    def _refine(self, z: np.ndarray, values: list[list[int]], archs: list[Any],
                log_probs: list[np.ndarray] | None = None) -> tuple[list[Any], np.ndarray]:
        """Towards the cell whose embedding is nearest ``z``: the best of the decoder's likeliest vectors, then
        a local search over single-decision changes."""
        sizes = [dec.size for dec in self.space_.decisions]
        distance = np.linalg.norm(self.encode(archs) - z, axis=1)
        active = [i for i in range(len(archs)) if distance[i] >= _SAME]
        if active and log_probs is not None:
            # The decoder is usually wrong in few decisions, each with a likely runner-up: try its
            # likeliest vectors first, a move of several decisions at once that single changes miss.
            owners, starts = [], []
            for i in active:
                for vector in _likeliest(values[i], [block[i] for block in log_probs], _BEAM):
                    starts.append(vector)
                    owners.append(i)
            cells = [self.space_.from_decisions(v) for v in starts]
            gaps = np.linalg.norm(self.encode(cells) - z[owners], axis=1)
            owners_arr = np.asarray(owners)
            for i in active:
                rows = np.flatnonzero(owners_arr == i)
                best = rows[int(np.argmin(gaps[rows]))]
                if gaps[best] < distance[i]:
                    values[i], archs[i], distance[i] = starts[best], cells[best], gaps[best]
            active = [i for i in active if distance[i] >= _SAME]
        for _ in range(self.refine_steps):
            if not active:
                break
            owners, moves = [], []
            for i in active:
                for k, size in enumerate(sizes):
                    for value in range(size):
                        if value != values[i][k]:
                            moves.append(values[i][:k] + [value] + values[i][k + 1:])
                            owners.append(i)
            cells = [self.space_.from_decisions(v) for v in moves]
            gaps = np.linalg.norm(self.encode(cells) - z[owners], axis=1)
            owners_arr = np.asarray(owners)
            still = []
            for i in active:
                rows = np.flatnonzero(owners_arr == i)
                best = rows[int(np.argmin(gaps[rows]))]
                if gaps[best] < distance[i]:
                    values[i], archs[i], distance[i] = moves[best], cells[best], gaps[best]
                    if distance[i] >= _SAME:
                        still.append(i)
            active = still
        return archs, distance < _SAME

    def _decode_nodes(self, z: torch.Tensor, return_valid: bool) -> list[Any] | tuple[list[Any], np.ndarray]:
        """Coordinate ascent over decisions on the node decoder's likelihood of the cell's graphs."""
        n, per_cell, nodes, _ = z.shape
        flat = z.reshape(n * per_cell, nodes, -1)
        type_logp, adj_logits = self.model_.decode_nodes(flat)
        type_logp = torch.log_softmax(type_logp, -1).reshape(n, per_cell, nodes, -1)
        adj_logits = adj_logits.reshape(n, per_cell, nodes, nodes)
        upper = torch.triu(torch.ones(nodes, nodes, dtype=torch.bool), diagonal=1)
        sizes = [dec.size for dec in self.space_.decisions]

        def loglik(i: int, cells: list[Any]) -> np.ndarray:
            adj, _, types = graph_tensors(cells, space=self.space_)
            adj, types = adj.reshape(len(cells), per_cell, nodes, nodes), types.reshape(len(cells), per_cell, nodes)
            real = types >= 0
            picked = type_logp[i].unsqueeze(0).expand(len(cells), -1, -1, -1).gather(
                -1, types.clamp_min(0).unsqueeze(-1)).squeeze(-1)
            edges = -torch.nn.functional.binary_cross_entropy_with_logits(
                adj_logits[i].unsqueeze(0).expand(len(cells), -1, -1, -1), adj, reduction="none")
            return ((picked * real).sum((1, 2)) + edges[:, :, upper].sum((1, 2))).numpy()

        # The start reads all N nodes (which ones are padding is not known here).
        values = self._head_values(self.model_.readout(flat, torch.ones(flat.shape[:2], dtype=torch.bool)
                                                       ).reshape(n, -1))
        archs = []
        for i in range(n):
            current = values[i]
            best = float(loglik(i, [self.space_.from_decisions(current)])[0])
            for _ in range(len(sizes) + 1):  # sweeps; each improves the likelihood or stops
                changed = False
                for k, size in enumerate(sizes):
                    options = [current[:k] + [value] + current[k + 1:] for value in range(size)]
                    scores = loglik(i, [self.space_.from_decisions(v) for v in options])
                    top = int(np.argmax(scores))
                    if scores[top] > best + 1e-6:
                        current, best, changed = options[top], float(scores[top]), True
                if not changed:
                    break
            archs.append(self.space_.from_decisions(current))
        if not return_valid:
            return archs
        adj, _, types = graph_tensors(archs, space=self.space_)
        raw_types = type_logp.reshape(n * per_cell, nodes, -1).argmax(-1)
        real = types >= 0
        types_ok = ((raw_types == types) | ~real).reshape(n, -1).all(1)
        adj_ok = ((adj_logits.reshape(n * per_cell, nodes, nodes) > 0) == (adj > 0.5))[:, upper]
        return archs, (types_ok & adj_ok.reshape(n, -1).all(1)).numpy()

    @torch.no_grad()
    def _node_reconstruction(self, archs: list[Any]) -> dict[str, float]:
        """Node latents -> types and adjacency, for every graph of each cell."""
        totals = {"op_acc": 0.0, "adj_acc": 0.0, "exact": 0.0}
        per_cell = len(self.space_.graph_names)
        self.model_.eval()
        for begin in range(0, len(archs), _CHUNK):
            adj, features, types = graph_tensors(archs[begin:begin + _CHUNK], space=self.space_)
            mu, _ = self.model_.encode(adj, features)
            type_logits, adj_logits = self.model_.decode_nodes(mu)
            stats = reconstruction_stats(type_logits, adj_logits, adj, types)
            totals["op_acc"] += float(stats["type_acc"].reshape(-1, per_cell).mean(1).sum())
            totals["adj_acc"] += float(stats["adj_acc"].reshape(-1, per_cell).mean(1).sum())
            totals["exact"] += float(stats["exact"].reshape(-1, per_cell).all(1).sum())
        return {k: v / len(archs) for k, v in totals.items()}

    @torch.no_grad()
    def reconstruction(self, archs: Sequence[Any]) -> dict[str, float]:
        """How well ``archs`` are reconstructed, averaged over cells.

        Returns:
            ``op_acc`` / ``adj_acc`` / ``exact`` (node latents -> node types and adjacency,
            no repair), ``graph_head_exact`` (embedding -> decision decoder -> the same
            ``space.key``) and ``graph_exact`` (the same with :meth:`decode`'s local
            search: the round trip latent BO relies on), as fractions in [0, 1].
        """
        self._check_fitted()
        archs = _check_archs(self.space_, archs)
        if not archs:
            raise InvalidInputError("reconstruction needs at least one architecture")
        out = self._node_reconstruction(archs)
        if self.decoder_epochs:
            keys = [self.space_.key(a) for a in archs]
            z = self.encode(archs)
            head = [self.space_.from_decisions(v) for v in self._head_values(torch.from_numpy(z))]
            out["graph_head_exact"] = float(np.mean([self.space_.key(a) == k for a, k in zip(head, keys)]))
            out["graph_exact"] = float(np.mean([self.space_.key(a) == k for a, k in zip(self.decode(z), keys)]))
        return out

    # -- persistence -------------------------------------------------------------------

    def _payload(self, optimizer: torch.optim.Optimizer | None = None, epoch: int | None = None) -> bytes:
        payload = {"format": FORMAT, "version": FORMAT_VERSION, "space": self._space_name(),
                   "node_types": list(self.space_.node_types), "params": self.get_params(),
                   "state_dict": self.model_.state_dict(), "head_state_dict": self.head_.state_dict(),
                   "history": self.history_, "train_cells": self.train_cells_,
                   "holdout_cells": self.holdout_cells_}
        if optimizer is not None:
            payload.update(optimizer=optimizer.state_dict(), epoch=epoch)
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted encoder to ``path`` atomically (a torch file).

        Returns:
            The path written.
        """
        self._check_fitted()
        return atomic_write(path, self._payload())

    def train_archs(self) -> list[Any]:
        """The cells the encoder was trained on (``train_cells_`` read back)."""
        self._check_fitted()
        return [self.space_.parse(text) for text in self.train_cells_]

    def holdout_archs(self) -> list[Any]:
        """The cells kept out of training (``holdout_cells_`` read back)."""
        self._check_fitted()
        return [self.space_.parse(text) for text in self.holdout_cells_]

    @classmethod
    def load(cls, path: str | os.PathLike, *, latent_dim: int | None = None,
             space: SearchSpace[Any] | str | None = None) -> Arch2Vec:
        """Read an encoder written by :meth:`save`.

        A checkpoint of format 1 (NAS-Bench-201 only, before the decision decoder) is
        read too: its decision decoder is trained on load (seconds), as ``fit`` would.

        Args:
            path: The checkpoint file.
            latent_dim: When given, the latent size the caller expects; a checkpoint
                of another size raises instead of silently changing the vectors' size.
            space: When given, the space the caller expects; a checkpoint of another
                space raises.

        Returns:
            The fitted encoder.
        """
        path = Path(path)
        payload = _read_payload(path, space)
        params = {**payload["params"], "space": payload["space"]}
        if latent_dim is not None and params["latent_dim"] != latent_dim:
            raise InvalidInputError(f"arch2vec checkpoint {str(path)!r} has latent_dim={params['latent_dim']}, "
                                    f"not {latent_dim}; retrain with --latent-dim {latent_dim} or load without "
                                    "asking for a size")
        encoder = cls(**params)
        saved_space = resolve_space(payload["space"])
        unpool = payload["state_dict"].get("unpool.0.weight")
        if encoder.readout_bins is None and unpool is not None:  # the default when it was saved, not today's
            saved_bins = int(unpool.shape[1]) // int(encoder.latent_dim)
            if saved_bins != encoder._bins(saved_space):
                encoder.readout_bins = saved_bins
        encoder._build(saved_space)
        try:
            encoder.model_.load_state_dict(payload["state_dict"])
            if "head_state_dict" in payload:
                encoder.head_.load_state_dict(payload["head_state_dict"])
        except RuntimeError as error:
            raise CorruptFileError(f"arch2vec checkpoint {str(path)!r} does not match its own settings "
                                   f"({str(error).splitlines()[0]})") from None
        encoder.model_.eval()
        encoder.history_ = list(payload["history"])
        if "train_cells" in payload:
            encoder.train_cells_ = list(payload["train_cells"])
            encoder.holdout_cells_ = list(payload["holdout_cells"])
        else:  # format 1: cells as their index in the space's listing
            listing = list(encoder.space_.enumerate())
            encoder.train_cells_ = [encoder.space_.format(listing[int(c)]) for c in payload["train_codes"]]
            encoder.holdout_cells_ = [encoder.space_.format(listing[int(c)]) for c in payload["holdout_codes"]]
        if "head_state_dict" not in payload:
            encoder._fit_decision_decoder(encoder.train_archs())
        encoder.head_.eval()
        return encoder

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != type(self)().get_params()[k]}
        return f"Arch2Vec({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _likeliest(best: list[int], log_probs: list[np.ndarray], width: int) -> list[list[int]]:
    """Up to ``width`` decision vectors other than ``best``, likeliest first.

    They change at most three decisions, each to one of the ``width`` cheapest
    single changes (cost: the drop in log-probability from the decision's best value).

    Args:
        best: The most likely value of every decision.
        log_probs: Per decision, the ``(size,)`` log-probabilities.
        width: How many vectors.
    """
    singles = sorted((float(lp[best[k]] - lp[v]), k, v) for k, lp in enumerate(log_probs)
                     for v in range(len(lp)) if v != best[k])[:width]
    combos = []
    for size in (1, 2, 3):
        for group in itertools.combinations(singles, size):
            if len({k for _, k, _ in group}) == size:
                combos.append((sum(c for c, _, _ in group), group))
    combos.sort(key=lambda item: item[0])
    out = []
    for _, group in combos[:width]:
        vector = list(best)
        for _, k, v in group:
            vector[k] = v
        out.append(vector)
    return out


def _graph_rows(cells: torch.Tensor, per_cell: int) -> torch.Tensor:
    """The rows of :func:`graph_tensors` that hold ``cells``' graphs."""
    if per_cell == 1:
        return cells
    return (cells[:, None] * per_cell + torch.arange(per_cell)).reshape(-1)


def _read_payload(path: Path, space: SearchSpace[Any] | str | None = None) -> dict[str, Any]:
    if not path.is_file():
        raise DataNotFoundError(f"arch2vec checkpoint {str(path)!r} does not exist; create it with "
                                "`gcnas encoder pretrain` or Arch2Vec.fit(...).save(path)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a file that is not its format
        raise CorruptFileError(f"{str(path)!r} is not a readable arch2vec checkpoint ({type(error).__name__}: "
                               f"{str(error).splitlines()[0] if str(error) else ''}); pretrain again") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CorruptFileError(f"{str(path)!r} is a torch file but not an arch2vec checkpoint")
    if payload.get("version", 0) > FORMAT_VERSION:
        raise CorruptFileError(f"arch2vec checkpoint {str(path)!r} has format version {payload['version']}, "
                               f"newer than this gcnas reads ({FORMAT_VERSION}); upgrade gcnas")
    name = payload.get("space")
    expected = _recorded_name(space) if space is not None else name
    from gcnas.spaces import space_names

    if name not in space_names() or name != expected:
        raise InvalidInputError(f"arch2vec checkpoint {str(path)!r} was trained on space {name!r}, not "
                                f"{expected!r}; use an encoder pretrained on this space"
                                if name in space_names() else
                                f"arch2vec checkpoint {str(path)!r} was trained on space {name!r}, which this "
                                "gcnas does not know; register it with gcnas.spaces.register_space first")
    if list(payload.get("node_types", [])) != list(resolve_space(name).node_types):
        raise InvalidInputError(f"arch2vec checkpoint {str(path)!r} was trained on space {name!r} with node types "
                                f"{payload.get('node_types')}, not today's {list(resolve_space(name).node_types)}; "
                                "pretrain again")
    return payload


def _recorded_name(space: Any) -> str:
    """The name under which :func:`~gcnas.spaces.get_space` rebuilds ``space`` (checkpoints record it)."""
    if isinstance(space, str):
        resolve_space(space)  # an unknown name raises here, listing the known ones
        return space
    return space_name(resolve_space(space))
