"""Training plumbing shared by the neural predictors (GCN, MLP): an ensemble of small
networks fitted with MSE (or L1: see :data:`LOSSES`) plus a pairwise ranking loss and
early stopping.

A subclass implements three hooks: ``_network()`` (a fresh ``nn.Module``),
``_encode(archs, extra)`` (all inputs, computed once; ``extra`` the standardised graph-level
features of :class:`~gcnas.predictors.cells.SpaceInputs`, ``(n, d)`` or None) and
``_forward(net, inputs, rows)`` (predictions for the rows ``rows`` of those inputs, shape
``(len(rows),)``).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.predictors.base import Predictor
from gcnas.predictors.cells import SpaceInputs, key_classes

__all__ = ["LOSSES", "NeuralPredictor", "pairwise_rank_loss", "with_isomorphs"]

LOSSES = ("mse", "l1")
"""Regression losses of the neural predictors, on standardised targets. ``l1`` (absolute
error) fits the median, so a few far-off labels pull it less than ``mse``; on a log target,
the absolute error is the relative error, the quantity a ±10% latency score counts."""


def pairwise_rank_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """RankNet loss: mean ``softplus(-(p_i - p_j))`` over pairs with ``y_i > y_j``.

    Args:
        pred: ``(n,)`` predictions.
        target: ``(n,)`` targets.

    Returns:
        A scalar (0 when no pair is ordered).
    """
    diff_y = target[:, None] - target[None, :]
    diff_p = pred[:, None] - pred[None, :]
    mask = diff_y > 0
    if not mask.any():
        return pred.sum() * 0.0
    return nn.functional.softplus(-diff_p[mask]).mean()


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def with_isomorphs(space: Any, archs: list[Any], limit: int, seed: int | np.random.Generator | None = 0
                   ) -> tuple[list[Any], np.ndarray]:
    """Add up to ``limit`` isomorphic twins of every architecture (they share its label).

    Twins are the other cells of the same ``space.key`` in the space's listing
    (:func:`~gcnas.predictors.cells.key_classes`). They compute the same function, so a
    measured score is a label for the whole class: free training data that also teaches the
    network the invariance.

    Args:
        space: A listable space (``size()`` not None).
        archs: Labelled architectures.
        limit: Most twins added per architecture (drawn at random from its class).
        seed: Seed of the draw.

    Returns:
        ``(archs + twins, owner)``: ``owner[i]`` is the index in ``archs`` whose label
        row ``i`` carries (the first ``len(archs)`` rows are ``archs`` themselves).
    """
    rng = _generator(seed)
    classes = key_classes(space)
    extra, owner = [], []
    for i, arch in enumerate(archs):
        twins = [c for c in classes[space.key(arch)] if c != arch]
        if len(twins) > limit:
            twins = [twins[int(j)] for j in rng.choice(len(twins), size=limit, replace=False)]
        extra += twins
        owner += [i] * len(twins)
    return list(archs) + extra, np.concatenate([np.arange(len(archs)), np.asarray(owner, dtype=np.int64)])


class NeuralPredictor(SpaceInputs, Predictor):
    """An ensemble of torch networks; subclasses supply the network and its inputs.

    The constructor arguments every subclass accepts (and stores unchanged):
    ``ensemble, epochs, lr, weight_decay, rank_weight, batch_size, valid_fraction,
    patience, seed, progress, space, features`` (documented on
    :class:`~gcnas.predictors.GCNPredictor`), and optionally ``isomorphs`` (twins added per
    labelled architecture, see :func:`with_isomorphs`; listable spaces only) and ``loss`` (one
    of :data:`LOSSES`; ``mse`` when absent).
    """

    min_train = 5
    ensemble: int
    epochs: int
    lr: float
    weight_decay: float
    rank_weight: float
    batch_size: int
    valid_fraction: float
    patience: int
    seed: int
    progress: bool

    # -- hooks -------------------------------------------------------------------------

    def _network(self) -> nn.Module:
        raise NotImplementedError

    def _encode(self, archs: list[Any], extra: np.ndarray | None) -> Any:
        raise NotImplementedError

    def _forward(self, net: nn.Module, inputs: Any, rows: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    # -- training ----------------------------------------------------------------------

    def _fit(self, archs: list[Any], z: np.ndarray) -> None:
        from gcnas.progress import progress

        loss = getattr(self, "loss", "mse")
        if loss not in LOSSES:
            raise InvalidInputError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        rng = _generator(self.seed)
        owner = np.arange(len(archs))
        extra = self._fit_graph_features(archs)  # of the labelled cells; a twin shares its original's
        twins = getattr(self, "isomorphs", 0)
        space = self._space()
        if space.size() is None:  # twins are drawn from the space's listing
            if twins:
                raise InvalidInputError(f"isomorphs={twins} adds isomorphic twins from the space's listing; the space "
                                        f"{space.name!r} cannot be listed: leave isomorphs=None or 0")
            twins = 0
        twins = min(4, 400 // len(archs)) if twins is None else twins
        if twins:
            archs, owner = with_isomorphs(space, archs, twins, rng)
        inputs = self._encode(archs, None if extra is None else extra[owner])
        target = torch.tensor(z[owner], dtype=torch.float32)
        seeds = [int(s) for s in rng.integers(2**31, size=self.ensemble)]
        with progress(total=self.ensemble * self.epochs, desc=f"{self.name} fit", unit="epoch",
                      enabled=self.progress) as bar:  # early stopping skips a member's remaining epochs
            self.states_ = []
            for member, s in enumerate(seeds):
                def epoch_done(loss: float, label: str = f"{member + 1}/{self.ensemble}") -> None:
                    bar.set_postfix(member=label, loss=loss)
                    bar.update()

                self.states_.append(self._fit_member(inputs, target, owner, s, epoch_done))
                bar.update((member + 1) * self.epochs - bar.n)

    def _fit_member(self, inputs: Any, target: torch.Tensor, owner: np.ndarray, seed: int,
                    epoch_done: Callable[[float], None] | None = None) -> dict[str, torch.Tensor]:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        n = int(owner.max()) + 1  # labelled architectures; rows >= n are their isomorphs
        order = rng.permutation(n)
        n_valid = int(round(self.valid_fraction * n)) if n >= 10 else 0
        held_out = np.zeros(n, dtype=bool)
        held_out[order[:n_valid]] = True
        valid = order[:n_valid]
        train = np.flatnonzero(~held_out[owner])  # an isomorph trains only with its original
        net = self._network()
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, self.epochs)
        best, best_state, waited = float("inf"), copy.deepcopy(net.state_dict()), 0
        chunks = max(1, -(-len(train) // self.batch_size))
        for _ in range(self.epochs):
            net.train()
            for rows in np.array_split(rng.permutation(train), chunks):
                loss = self._loss(self._forward(net, inputs, rows), target[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            scheduler.step()
            if epoch_done is not None:
                epoch_done(loss.item())  # the last batch's training loss
            if n_valid == 0:
                continue
            net.eval()
            with torch.no_grad():
                score = float(self._loss(self._forward(net, inputs, valid), target[valid]))
            if score < best - 1e-4:
                best, best_state, waited = score, copy.deepcopy(net.state_dict()), 0
            else:
                waited += 1
                if waited >= self.patience:
                    break
        return best_state if n_valid else net.state_dict()

    def _loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        regression = nn.functional.l1_loss if getattr(self, "loss", "mse") == "l1" else nn.functional.mse_loss
        loss = regression(pred, target)
        if self.rank_weight:
            loss = loss + self.rank_weight * pairwise_rank_loss(pred, target)
        return loss

    def _predict(self, archs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        inputs = self._encode(archs, self._graph_features(archs))
        rows = np.arange(len(archs))
        net = self._network()
        outputs = []
        with torch.no_grad():
            for state in self.states_:
                net.load_state_dict(state)
                net.eval()
                outputs.append(self._forward(net, inputs, rows).numpy())
        stacked = np.stack(outputs).astype(np.float64)
        return stacked.mean(0), stacked.std(0)
