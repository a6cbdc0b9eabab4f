"""One ranking from many weak signals: rank fusion, weighted on a few cells trained from scratch.

No single cheap signal ranks cells well on real images: a short-trained supernet's scores,
the parameter count and each zero-cost proxy each reach a Kendall tau of 0.25-0.62 against
NAS-Bench-201's truth, but they err on different cells. :class:`FusedRanking` turns each
signal into its quantile among the candidate cells (so scales and outliers do not matter,
and ``-inf`` proxies rank last), and scores a cell by a weighted mean of its quantiles.

- Without labels the weights are equal (a plain rank average).
- With anchors -- ``L`` cells trained from scratch with a short schedule on the user's
  images, the most trusted labels a run has -- the weights are fitted to the anchors'
  accuracies by least squares on the quantiles, non-negative, and shrunk towards equal
  weights; the shrinkage is chosen by leave-one-out error on the anchors themselves, so
  ten anchors move the weights little and forty move them more. A linear map fitted on the
  anchors then puts the fused score on the anchors' accuracy scale (:meth:`predict_accuracy`).

:func:`anchor_cells` chooses anchors that cover a ranking (evenly spaced quantiles, nested so
that the first ``L/2`` are themselves evenly spread).

Nothing here reads a truth table; the signals and anchors are what a run measures itself.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from scipy.optimize import nnls
from scipy.stats import rankdata

from gcnas.exceptions import InvalidInputError, NotFittedError

__all__ = ["FusedRanking", "anchor_cells", "quantiles", "is_parameter_free"]


def quantiles(values: np.ndarray) -> np.ndarray:
    """Each value's mid-rank quantile in ``(0, 1)`` (ties share one; NaN and ``-inf`` rank lowest)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    filled = np.where(finite, values, -np.inf)
    filled = np.where(np.isnan(values), -np.inf, filled)
    order = rankdata(filled, method="average")
    return (order - 0.5) / len(values)


def is_parameter_free(archs: Sequence, space: Any = None) -> np.ndarray:
    """True for cells with no convolution on a path from the input to the output.

    Such a cell (skip connections and pooling only, or nothing) is the supernet's favourite at
    short budgets and among the worst when trained: the collapse every pick must avoid.

    Args:
        archs: Cells of ``space``.
        space: A :class:`~gcnas.spaces.SearchSpace` or its name (None: ``"nb201"``); a node is a
            convolution when its type's name holds ``conv``, and the live wiring is
            :func:`gcnas.spaces.live_adjacency`'s where it applies (one graph, a ``none`` type).

    Returns:
        ``(n,)`` bool.
    """
    from gcnas.predictors.cells import resolve_space
    from gcnas.predictors.graph import ZERO_OP, prunable
    from gcnas.spaces import live_adjacency

    space = resolve_space(space)
    conv_types = [i for i, name in enumerate(space.node_types) if "conv" in name]
    zero = space.node_types.index(ZERO_OP) if prunable(space) else None
    out = np.zeros(len(archs), dtype=bool)
    for i, arch in enumerate(archs):
        for graph in space.to_graph(arch):
            adjacency = graph.adjacency if zero is None else live_adjacency(graph.adjacency, graph.features, zero)
            on_path = adjacency.any(axis=0) | adjacency.any(axis=1)  # nodes with a live edge
            out[i] |= bool((graph.features[on_path][:, conv_types] > 0).any())
    return ~out


class FusedRanking:
    """A weighted mean of per-signal quantiles, the weights fitted on anchor cells.

    Args:
        shrinkage: Strength of the pull towards equal weights, as a multiple of the number of
            anchors; ``None`` chooses it by leave-one-out error on the anchors from
            ``shrinkage_grid``.
        shrinkage_grid: The candidates for ``shrinkage=None``.
        min_anchors: Below this many anchors the weights stay equal (a fit on fewer is noise).

    Attributes (after :meth:`fit`):
        signals_: The signal names, in order.
        weights_: Their weights (non-negative, sum 1).
        shrinkage_: The shrinkage used (``inf`` when the weights stayed equal).
        calibration_: ``(slope, intercept)`` from fused score to anchor accuracy, or ``None``.
        anchor_tau_: Kendall tau of the fused score against the anchors (in-sample).

    Example:
        >>> fused = FusedRanking().fit({"supernet": s, "params": p, "naswot": n}, anchors={12: 71.3, 80: 64.0})
        >>> score = fused.predict()              # one score per candidate cell
        >>> fused.weights_                       # what each signal counted for
    """

    def __init__(self, *, shrinkage: float | None = None,
                 shrinkage_grid: Sequence[float] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0), min_anchors: int = 5) -> None:
        self.shrinkage = shrinkage
        self.shrinkage_grid = shrinkage_grid
        self.min_anchors = min_anchors

    def fit(self, signals: Mapping[str, np.ndarray], anchors: Mapping[int, float] | None = None) -> FusedRanking:
        """Fit on the candidate cells' signals and the anchors' accuracies.

        Args:
            signals: ``{name: (n,) values}`` over the same ``n`` candidate cells, higher = better.
            anchors: ``{position in the candidates: accuracy}`` of the cells trained from scratch.

        Returns:
            ``self``.
        """
        if not signals:
            raise InvalidInputError("FusedRanking needs at least one signal")
        lengths = {name: len(np.asarray(v)) for name, v in signals.items()}
        if len(set(lengths.values())) != 1:
            raise InvalidInputError(f"every signal must cover the same cells; lengths {lengths}")
        self.signals_ = list(signals)
        self.n_ = next(iter(lengths.values()))
        self.quantiles_ = np.column_stack([quantiles(np.asarray(signals[s])) for s in self.signals_])
        anchors = dict(anchors or {})
        bad = [i for i in anchors if not 0 <= int(i) < self.n_]
        if bad:
            raise InvalidInputError(f"anchor positions {bad} are outside the {self.n_} candidate cells")
        values = np.array(list(anchors.values()), dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise InvalidInputError("anchor accuracies must be finite numbers")
        self.anchors_ = {int(i): float(v) for i, v in anchors.items()}
        k = len(self.signals_)
        equal = np.full(k, 1.0 / k)
        if len(anchors) < self.min_anchors:
            self.weights_, self.shrinkage_ = equal, float("inf")
        else:
            rows = self.quantiles_[list(self.anchors_)]
            target = _standardise(values)
            if self.shrinkage is not None:
                self.shrinkage_ = float(self.shrinkage)
            else:
                self.shrinkage_ = min(self.shrinkage_grid, key=lambda lam: _loo_error(rows, target, lam))
            self.weights_ = _shrunk_weights(rows, target, self.shrinkage_)
        score = self.predict()
        if len(anchors) >= 2:
            positions = list(self.anchors_)
            slope, intercept = np.polyfit(score[positions], values, 1) if np.ptp(score[positions]) > 0 else (0.0,
                                                                                                         values.mean())
            self.calibration_ = (float(slope), float(intercept))
            from gcnas.predictors.metrics import kendall_tau

            self.anchor_tau_ = float(kendall_tau(values, score[positions]))
        else:
            self.calibration_, self.anchor_tau_ = None, float("nan")
        return self

    def _check(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError("FusedRanking is not fitted; call fit(signals, anchors) first")

    def predict(self) -> np.ndarray:
        """The fused score of every candidate cell: ``(n,)`` in ``(0, 1)``, higher = better."""
        self._check()
        return self.quantiles_ @ self.weights_

    def predict_accuracy(self) -> np.ndarray:
        """The fused score mapped linearly onto the anchors' accuracy scale (needs >= 2 anchors).

        Raises:
            NotFittedError: Fitted with fewer than two anchors: there is no scale to map to.
        """
        self._check()
        if self.calibration_ is None:
            raise NotFittedError("predict_accuracy needs at least two anchors; use predict() for the fused score")
        slope, intercept = self.calibration_
        return slope * self.predict() + intercept

    def weights(self) -> dict[str, float]:
        """``{signal: weight}``."""
        self._check()
        return {s: float(w) for s, w in zip(self.signals_, self.weights_)}


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / (spread if spread > 0 else 1.0)


def _shrunk_weights(rows: np.ndarray, target: np.ndarray, shrinkage: float) -> np.ndarray:
    """Non-negative least squares of ``target`` on the centred quantiles, pulled to equal weights.

    ``min ||X w - y||^2 + lam ||w - c w0||^2`` over ``w >= 0``, where ``lam = shrinkage * L`` and
    ``c`` scales the equal weights ``w0`` to the size of the unpenalised fit, so the penalty
    pulls the weights' *shape* towards equal without pulling their size towards zero.
    """
    x = rows - rows.mean(axis=0)
    k = x.shape[1]
    equal = np.full(k, 1.0 / k)
    scale_fit = x @ equal
    c = float(scale_fit @ target / (scale_fit @ scale_fit)) if scale_fit @ scale_fit > 0 else 1.0
    c = max(c, 1e-6)
    lam = shrinkage * len(target)
    augmented_x = np.vstack([x, np.sqrt(lam) * np.eye(k)])
    augmented_y = np.concatenate([target, np.sqrt(lam) * c * equal])
    w, _ = nnls(augmented_x, augmented_y)
    return w / w.sum() if w.sum() > 0 else equal


def _loo_error(rows: np.ndarray, target: np.ndarray, shrinkage: float) -> float:
    """Leave-one-out squared error of the rank-fusion fit, the held-out point on the fitted scale."""
    errors = []
    for held in range(len(target)):
        keep = np.arange(len(target)) != held
        w = _shrunk_weights(rows[keep], target[keep], shrinkage)
        score = rows @ w
        slope, intercept = (np.polyfit(score[keep], target[keep], 1) if np.ptp(score[keep]) > 0
                            else (0.0, target[keep].mean()))
        errors.append((slope * score[held] + intercept - target[held]) ** 2)
    return float(np.mean(errors))


def anchor_cells(score: np.ndarray, count: int, *, exclude: np.ndarray | None = None) -> list[int]:
    """Positions of ``count`` cells at evenly spaced quantiles of ``score``, nested by halves.

    The first ``ceil(count / 2)`` are themselves evenly spaced, and so on, so that training
    the anchors in order gives a well-spread set at every stopping point (10 of 40, 20 of 40).

    Args:
        score: A ranking of the candidates (higher = better), e.g. the label-free fused score.
        count: How many anchors.
        exclude: Boolean mask of cells never to choose (e.g. parameter-free cells).

    Returns:
        Positions into ``score``, best-spread first.
    """
    score = np.asarray(score, dtype=np.float64)
    allowed = np.flatnonzero(~exclude) if exclude is not None else np.arange(len(score))
    if count < 1 or count > len(allowed):
        raise InvalidInputError(f"cannot choose {count} anchors from {len(allowed)} candidate cells")
    ranked = allowed[np.argsort(-score[allowed], kind="stable")]
    grid = (np.arange(count) + 0.5) / count  # quantile of each anchor
    chosen = [int(ranked[min(int(q * len(ranked)), len(ranked) - 1)]) for q in grid]
    order: list[int] = []
    step = 1
    while step < count:
        step *= 2
    while step >= 1:  # coarse grid first: every step-th, then the ones between
        for i in range(0, count, step):
            if chosen[i] not in order:
                order.append(chosen[i])
        step //= 2
    return order
