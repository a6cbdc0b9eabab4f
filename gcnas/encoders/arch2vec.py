"""``Arch2Vec``: unsupervised architecture embeddings (Yan et al., NeurIPS 2020).

A variational graph autoencoder (:class:`~gcnas.encoders.model.GraphVAE`) is trained
without any accuracy label to reconstruct cell graphs; the mean of a cell's per-node
posterior means is its embedding. Cells that differ in few ops land close together,
which is what Bayesian optimisation in that space relies on.
"""

from __future__ import annotations

import io
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from gcnas.data.store import atomic_write
from gcnas.encoders.model import GraphVAE, reconstruction_stats, vae_loss
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError, NotFittedError
from gcnas.progress import progress as show_progress
from gcnas.spaces.nb201 import EDGES, NODE_TYPES, OPS, Arch, NB201Space

__all__ = ["Arch2Vec", "graph_tensors"]

FORMAT = "gcnas.arch2vec"
FORMAT_VERSION = 1
_CHUNK = 4096
_NUM_NODES = len(EDGES) + 2  # input, one node per edge-op, output
_SCHEDULES = ("cosine", "constant")
_FINAL_LR_SHARE = 0.05
_OP_TYPES = slice(1, 1 + len(OPS))  # node types of the five ops inside NODE_TYPES


def _check_archs(archs: Sequence[Arch], what: str = "archs") -> list[Arch]:
    if isinstance(archs, (Arch, str)):
        raise InvalidInputError(f"{what} must be a sequence of Arch values, got a single {type(archs).__name__}")
    archs = list(archs)
    for i, arch in enumerate(archs):
        if not isinstance(arch, Arch):
            raise InvalidInputError(
                f"Arch2Vec embeds NAS-Bench-201 cells (gcnas.spaces.nb201.Arch); {what}[{i}] is a "
                f"{type(arch).__name__} ({arch!r:.60}); architectures of another space need an "
                "encoder trained on that space")
    return archs


def graph_tensors(archs: Sequence[Arch]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Dense batch tensors of the cell graphs (:meth:`Arch.to_graph`).

    Args:
        archs: ``B`` architectures.

    Returns:
        ``adj (B, 8, 8)`` float32, ``features (B, 8, 7)`` float32, ``types (B, 8)`` long.
    """
    graphs = [arch.to_graph() for arch in _check_archs(archs)]
    adj = torch.from_numpy(np.stack([g.adjacency for g in graphs]).astype(np.float32))
    features = torch.from_numpy(np.stack([g.features for g in graphs]))
    return adj, features, features.argmax(-1)


class Arch2Vec:
    """arch2vec encoder: embed cells as ``latent_dim`` vectors, and decode them back.

    Args:
        latent_dim: Size of every node latent and of the graph embedding.
        hidden_dim: Width of the GIN encoder.
        num_layers: GIN layers.
        beta: Weight of the KL term of the loss (per latent unit, against the
            per-node and per-entry reconstruction terms).
        graph_weight: Weight, while training the autoencoder, of decoding every op from
            the graph embedding. A little makes the embedding informative and smoother;
            much pulls cells apart (measured in ``docs/encoders.md``).
        decoder_epochs: Epochs of a final phase that trains only the graph decoder on
            the frozen embeddings, so :meth:`decode` of ``(n, latent_dim)`` vectors is
            exact without reshaping the latent space (0 skips it).
        lr: Adam learning rate (the peak one).
        schedule: ``"cosine"`` (decay to 5% of ``lr`` over the epochs of :meth:`fit`)
            or ``"constant"``.
        batch_size: Graphs per optimisation step.
        epochs: Default number of epochs of :meth:`fit`.
        holdout: Share of the architectures kept out of training to check
            reconstruction on (0 trains on all).
        seed: Seed of the split, the initialisation, the shuffling and the noise.

    Example:
        >>> enc = Arch2Vec(latent_dim=16, seed=0).fit()            # the whole space
        >>> z = enc.encode(NB201Space().sample_many(5, seed=1))    # (5, 16) float32
        >>> enc.decode(z)                                          # the same 5 archs
    """

    def __init__(self, latent_dim: int = 16, *, hidden_dim: int = 128, num_layers: int = 5, beta: float = 0.25,
                 graph_weight: float = 0.1, decoder_epochs: int = 60, lr: float = 2e-3, schedule: str = "cosine",
                 batch_size: int = 64,
                 epochs: int = 12, holdout: float = 0.1, seed: int = 0) -> None:
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.beta = beta
        self.graph_weight = graph_weight
        self.decoder_epochs = decoder_epochs
        self.lr = lr
        self.schedule = schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.holdout = holdout
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (scikit-learn style)."""
        return {name: getattr(self, name) for name in
                ("latent_dim", "hidden_dim", "num_layers", "beta", "graph_weight", "decoder_epochs", "lr",
                 "schedule", "batch_size", "epochs", "holdout", "seed")}

    def _validate_params(self) -> None:
        for name, least in (("latent_dim", 1), ("hidden_dim", 1), ("num_layers", 1), ("batch_size", 1),
                            ("epochs", 1), ("decoder_epochs", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise InvalidInputError(f"Arch2Vec {name} must be an int >= {least}, got {value!r}")
        if not 0.0 <= float(self.holdout) < 1.0:
            raise InvalidInputError(f"Arch2Vec holdout must be in [0, 1), got {self.holdout!r}")
        if self.schedule not in _SCHEDULES:
            raise InvalidInputError(f"Arch2Vec schedule must be one of {', '.join(_SCHEDULES)}, got {self.schedule!r}")
        if not (float(self.lr) > 0 and float(self.beta) >= 0 and float(self.graph_weight) >= 0):
            raise InvalidInputError(f"Arch2Vec needs lr > 0, beta >= 0 and graph_weight >= 0, got lr={self.lr!r} "
                                    f"beta={self.beta!r} graph_weight={self.graph_weight!r}")

    # -- training ----------------------------------------------------------------------

    def _split(self, archs: list[Arch]) -> tuple[list[Arch], list[Arch]]:
        order = np.random.default_rng(self.seed).permutation(len(archs))
        num_out = int(round(self.holdout * len(archs))) if len(archs) > 1 else 0
        held = sorted(int(i) for i in order[:num_out])
        kept = sorted(int(i) for i in order[num_out:])
        return [archs[i] for i in kept], [archs[i] for i in held]

    def fit(self, archs: Sequence[Arch] | None = None, *, epochs: int | None = None, progress: bool = True,
            checkpoint: str | os.PathLike | None = None) -> Arch2Vec:
        """Train the autoencoder without labels.

        Args:
            archs: Architectures to train on; ``None`` means the whole space (15,625).
                A seeded ``holdout`` share of them is kept out for reconstruction checks.
            epochs: Passes over the training part (default ``self.epochs``).
            progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
            checkpoint: File to save the training state to after every epoch; when it
                exists, training resumes from it (same settings and archs required)
                and gives the same model as an uninterrupted run of as many epochs.

        Returns:
            ``self``, with ``model_``, ``history_`` (one dict per epoch),
            ``train_codes_`` and ``holdout_codes_`` set.
        """
        self._validate_params()
        epochs = self.epochs if epochs is None else epochs
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise InvalidInputError(f"epochs must be a positive int, got {epochs!r}")
        archs = NB201Space().all_archs() if archs is None else _check_archs(archs)
        if not archs:
            raise InvalidInputError("Arch2Vec.fit needs at least one architecture")
        train, held = self._split(archs)
        torch.manual_seed(self.seed)
        model = GraphVAE(_NUM_NODES, len(NODE_TYPES), latent_dim=self.latent_dim,
                         hidden_dim=self.hidden_dim, num_layers=self.num_layers)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        self.model_, self.history_ = model, []
        self.train_codes_ = np.array([a.code for a in train], dtype=np.int64)
        self.holdout_codes_ = np.array([a.code for a in held], dtype=np.int64)
        start = self._resume(checkpoint, optimizer) if checkpoint is not None else 0
        adj, features, types = graph_tensors(train)
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
                idx = order[step * self.batch_size:(step + 1) * self.batch_size]
                for group in optimizer.param_groups:
                    group["lr"] = self._lr_at((epoch * steps + step) / (epochs * steps))
                out = model(adj[idx], features[idx], generator=noise)
                losses = vae_loss(out, adj[idx], types[idx], beta=self.beta, graph_weight=self.graph_weight)
                optimizer.zero_grad()
                losses["loss"].backward()
                optimizer.step()
                for key, value in losses.items():
                    sums[key] = sums.get(key, 0.0) + float(value.detach()) * len(idx)
                bar.update()
            record = {"epoch": epoch + 1, **{k: v / len(train) for k, v in sums.items()},
                      "seconds": time.perf_counter() - began}
            if held:
                record.update({f"holdout_{k}": v for k, v in self.reconstruction(held).items()})
            self.history_.append(record)
            bar.set_postfix(loss=f"{record['loss']:.4f}")
            if checkpoint is not None:
                atomic_write(checkpoint, self._payload(optimizer=optimizer, epoch=epoch + 1))
        bar.close()
        self._fit_graph_decoder(adj, features, types)
        if held:
            self.history_[-1].update({f"holdout_{k}": v for k, v in self.reconstruction(held).items()})
        model.eval()
        return self

    def _fit_graph_decoder(self, adj: torch.Tensor, features: torch.Tensor, types: torch.Tensor) -> None:
        """Train the unpooling head alone on the frozen embeddings (the latent space stays as is)."""
        if self.decoder_epochs == 0:
            return
        model = self.model_.eval()
        with torch.no_grad():
            embeddings = torch.cat([model.encode(adj[i:i + _CHUNK], features[i:i + _CHUNK])[0].mean(1)
                                    for i in range(0, len(adj), _CHUNK)])
        optimizer = torch.optim.Adam(model.unpool.parameters(), lr=self.lr)
        rng = np.random.default_rng([self.seed, self.epochs, 1])
        batch = 4 * self.batch_size
        for _ in range(self.decoder_epochs):
            order = torch.from_numpy(rng.permutation(len(embeddings)))
            for begin in range(0, len(order), batch):
                idx = order[begin:begin + batch]
                logits = model.decode_graph(embeddings[idx])
                loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), types[idx].flatten())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

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
        if saved != wanted or not np.array_equal(np.asarray(payload["train_codes"]), self.train_codes_):
            raise InvalidInputError(
                f"training checkpoint {str(path)!r} was written with other settings or architectures "
                f"({saved}); delete it to start afresh, or fit with the same settings to resume")
        self.model_.load_state_dict(payload["state_dict"])
        optimizer.load_state_dict(payload["optimizer"])
        self.history_ = list(payload["history"])
        return int(payload["epoch"])

    # -- encoding and decoding ---------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this Arch2Vec is not fitted; call fit() or Arch2Vec.load(path) first")

    @torch.no_grad()
    def encode_nodes(self, archs: Sequence[Arch]) -> np.ndarray:
        """Posterior means of every node, ``(n, 8, latent_dim)`` float32."""
        self._check_fitted()
        archs = _check_archs(archs)
        self.model_.eval()
        chunks = [np.zeros((0, _NUM_NODES, self.latent_dim), dtype=np.float32)]
        for begin in range(0, len(archs), _CHUNK):
            adj, features, _ = graph_tensors(archs[begin:begin + _CHUNK])
            chunks.append(self.model_.encode(adj, features)[0].numpy())
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def encode(self, archs: Sequence[Arch]) -> np.ndarray:
        """Embeddings: the mean of the node posterior means (deterministic).

        Args:
            archs: ``n`` architectures of the NAS-Bench-201 space.

        Returns:
            ``(n, latent_dim)`` float32.
        """
        return self.encode_nodes(archs).mean(axis=1)

    @torch.no_grad()
    def decode(self, z: np.ndarray | torch.Tensor, *,
               return_valid: bool = False) -> list[Arch] | tuple[list[Arch], np.ndarray]:
        """Architectures from latent vectors, with validity repair.

        Args:
            z: Graph embeddings ``(n, latent_dim)`` (or one ``(latent_dim,)``), as
                :meth:`encode` returns them, or node latents ``(n, 8, latent_dim)``
                as :meth:`encode_nodes` returns them.
            return_valid: Also return, per vector, whether the raw decoding was
                already a valid cell (input first, output last, an op on every other
                node, and, for node latents, the cell's wiring) before repair.

        Returns:
            ``n`` architectures (each node gets its most likely op), and with
            ``return_valid`` a ``(n,)`` bool array.
        """
        self._check_fitted()
        z = torch.as_tensor(np.asarray(z, dtype=np.float32))
        nodes = _NUM_NODES
        if z.ndim == 1:
            z = z[None]
        if z.shape[-1] != self.latent_dim or z.ndim not in (2, 3) or (z.ndim == 3 and z.shape[1] != nodes):
            raise InvalidInputError(
                f"cannot decode an array of shape {tuple(z.shape)}: this Arch2Vec has latent_dim="
                f"{self.latent_dim}, so pass (n, {self.latent_dim}) graph embeddings or "
                f"(n, {nodes}, {self.latent_dim}) node latents")
        if not torch.isfinite(z).all():
            raise InvalidInputError("cannot decode latent vectors containing NaN or inf")
        self.model_.eval()
        if z.ndim == 2:
            logits, adj_ok = self.model_.decode_graph(z), torch.ones(len(z), dtype=torch.bool)
        else:
            logits, adj_logits = self.model_.decode_nodes(z)
            wiring = torch.from_numpy(NB201Space().all_archs()[0].to_graph().adjacency.astype(bool))
            upper = torch.triu(torch.ones(nodes, nodes, dtype=torch.bool), diagonal=1)
            adj_ok = ((adj_logits > 0)[:, upper] == wiring[upper]).all(1)
        raw = logits.argmax(-1)
        types_ok = (raw[:, 0] == 0) & (raw[:, -1] == len(NODE_TYPES) - 1)
        types_ok &= ((raw[:, 1:-1] >= _OP_TYPES.start) & (raw[:, 1:-1] < _OP_TYPES.stop)).all(1)
        ops = logits[:, 1:-1, _OP_TYPES].argmax(-1).numpy()
        archs = [Arch(tuple(int(o) for o in row)) for row in ops]
        return (archs, (types_ok & adj_ok).numpy()) if return_valid else archs

    @torch.no_grad()
    def reconstruction(self, archs: Sequence[Arch]) -> dict[str, float]:
        """How well ``archs`` are reconstructed (no repair), averaged over archs.

        Returns:
            ``op_acc`` / ``adj_acc`` / ``exact`` (node latents -> ops and adjacency)
            and ``graph_exact`` (graph embedding -> ops), as fractions in [0, 1].
        """
        self._check_fitted()
        archs = _check_archs(archs)
        if not archs:
            raise InvalidInputError("reconstruction needs at least one architecture")
        self.model_.eval()
        totals = {"op_acc": 0.0, "adj_acc": 0.0, "exact": 0.0, "graph_exact": 0.0}
        for begin in range(0, len(archs), _CHUNK):
            adj, features, types = graph_tensors(archs[begin:begin + _CHUNK])
            mu, _ = self.model_.encode(adj, features)
            type_logits, adj_logits = self.model_.decode_nodes(mu)
            node = reconstruction_stats(type_logits[:, 1:-1], adj_logits, adj, types[:, 1:-1])
            graph = reconstruction_stats(self.model_.decode_graph(mu.mean(1)), None, adj, types)
            totals["op_acc"] += float(node["type_acc"].sum())
            totals["adj_acc"] += float(node["adj_acc"].sum())
            totals["exact"] += float(node["exact"].sum())
            totals["graph_exact"] += float(graph["exact"].sum())
        return {k: v / len(archs) for k, v in totals.items()}

    # -- persistence -------------------------------------------------------------------

    def _payload(self, optimizer: torch.optim.Optimizer | None = None, epoch: int | None = None) -> bytes:
        payload = {"format": FORMAT, "version": FORMAT_VERSION, "space": NB201Space.name,
                   "node_types": list(NODE_TYPES), "params": self.get_params(),
                   "state_dict": self.model_.state_dict(), "history": self.history_,
                   "train_codes": self.train_codes_.tolist(), "holdout_codes": self.holdout_codes_.tolist()}
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

    @classmethod
    def load(cls, path: str | os.PathLike, *, latent_dim: int | None = None) -> Arch2Vec:
        """Read an encoder written by :meth:`save`.

        Args:
            path: The checkpoint file.
            latent_dim: When given, the latent size the caller expects; a checkpoint
                of another size raises instead of silently changing the vectors' size.

        Returns:
            The fitted encoder.
        """
        path = Path(path)
        payload = _read_payload(path)
        params = payload["params"]
        if latent_dim is not None and params["latent_dim"] != latent_dim:
            raise InvalidInputError(f"arch2vec checkpoint {str(path)!r} has latent_dim={params['latent_dim']}, "
                                    f"not {latent_dim}; retrain with --latent-dim {latent_dim} or load without "
                                    "asking for a size")
        encoder = cls(**params)
        encoder.model_ = GraphVAE(_NUM_NODES, len(NODE_TYPES), latent_dim=params["latent_dim"],
                                  hidden_dim=params["hidden_dim"], num_layers=params["num_layers"])
        try:
            encoder.model_.load_state_dict(payload["state_dict"])
        except RuntimeError as error:
            raise CorruptFileError(f"arch2vec checkpoint {str(path)!r} does not match its own settings "
                                   f"({str(error).splitlines()[0]})") from None
        encoder.model_.eval()
        encoder.history_ = list(payload["history"])
        encoder.train_codes_ = np.asarray(payload["train_codes"], dtype=np.int64)
        encoder.holdout_codes_ = np.asarray(payload["holdout_codes"], dtype=np.int64)
        return encoder

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != type(self)().get_params()[k]}
        return f"Arch2Vec({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _read_payload(path: Path) -> dict[str, Any]:
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
    if payload.get("space") != NB201Space.name or list(payload.get("node_types", [])) != list(NODE_TYPES):
        raise InvalidInputError(f"arch2vec checkpoint {str(path)!r} was trained on space "
                                f"{payload.get('space')!r} with node types {payload.get('node_types')}, not "
                                f"{NB201Space.name!r}; use an encoder pretrained on this space")
    return payload
