"""Baseline: gradient-boosted trees (scikit-learn) on one-hot ops, a small ensemble.

The one-hot is the space's (:func:`~gcnas.predictors.mlp.one_hot_matrix`); graph-level
``features`` (:mod:`gcnas.predictors.cells`) are further columns.

scikit-learn fits the trees; each fitted ensemble member is then kept as plain arrays (its
trees' children, split features, thresholds and leaf values, and the boosting baseline),
and predictions walk those arrays exactly as scikit-learn's ``predict`` does (the same
float32 inputs, comparisons and summation order). So the predictor saves and loads as
tensors (:mod:`gcnas.predictors.persist`), with no pickled scikit-learn object.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcnas.predictors.base import Predictor, keep_params, register_predictor
from gcnas.predictors.cells import SpaceInputs
from gcnas.predictors.mlp import one_hot_matrix

__all__ = ["GBTPredictor"]

_FOREST_ARRAYS = ("left", "right", "feature", "threshold", "value")
_CHUNK = 4096


@register_predictor("gbt")
class GBTPredictor(SpaceInputs, Predictor):
    """Gradient-boosted regression trees; ``ensemble`` members on row subsamples give a spread.

    Args:
        n_estimators: Boosting rounds per member.
        learning_rate: Shrinkage.
        max_depth: Depth of each tree.
        subsample: Row share per tree (stochastic boosting; < 1 makes members differ).
        ensemble: Members, each with its own seed.
        seed: Seed of the members.
        space, features: As in :class:`~gcnas.predictors.GCNPredictor` (the features are
            further columns beside the one-hot).

    Example:
        >>> GBTPredictor(seed=0).fit(archs, acc).predict(archs[:3])
    """

    min_train = 5

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, max_depth: int = 3,
                 subsample: float = 0.8, ensemble: int = 3, seed: int = 0, space: Any = None,
                 features: Any = None) -> None:
        keep_params(self, locals())

    def _inputs(self, archs: list[Any], extra: np.ndarray | None) -> np.ndarray:
        x = one_hot_matrix(archs, self._space())
        return x if extra is None else np.concatenate([x, extra], axis=1)

    def _fit(self, archs: list[Any], z: np.ndarray) -> None:
        from sklearn.ensemble import GradientBoostingRegressor

        x = self._inputs(archs, self._fit_graph_features(archs))
        rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)
        seeds = rng.integers(2**31, size=self.ensemble)
        self.forest_ = [forest_arrays(GradientBoostingRegressor(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, max_depth=self.max_depth,
            subsample=self.subsample, random_state=int(s)).fit(x, z)) for s in seeds]

    def _predict(self, archs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        x = self._inputs(archs, self._graph_features(archs)).astype(np.float32)
        stacked = np.stack([forest_predict(member, x) for member in self.forest_])
        return stacked.mean(0), stacked.std(0)

    def _set_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        models = state.pop("models_", None)  # gcnas 0.1 (a trusted pickle): the scikit-learn members
        if models is not None:
            state["forest_"] = [forest_arrays(m) for m in models]
        state["forest_"] = [{k: (np.asarray(v) if k in _FOREST_ARRAYS else float(v)) for k, v in member.items()}
                            for member in state.get("forest_", [])]
        super()._set_state(state)


def forest_arrays(model: Any) -> dict[str, Any]:
    """A fitted ``GradientBoostingRegressor`` as arrays.

    Args:
        model: The fitted regressor (single output, default ``init``).

    Returns:
        ``{"baseline": float, "learning_rate": float, "left", "right", "feature" (T, N) int64,
        "threshold", "value" (T, N) float64}``: ``T`` trees padded to ``N`` nodes; a leaf
        has ``left == -1``.
    """
    trees = [estimator.tree_ for estimator in model.estimators_[:, 0]]
    size = max(tree.node_count for tree in trees)
    arrays = {"left": np.full((len(trees), size), -1, dtype=np.int64),
              "right": np.full((len(trees), size), -1, dtype=np.int64),
              "feature": np.zeros((len(trees), size), dtype=np.int64),
              "threshold": np.zeros((len(trees), size), dtype=np.float64),
              "value": np.zeros((len(trees), size), dtype=np.float64)}
    for i, tree in enumerate(trees):
        n = tree.node_count
        arrays["left"][i, :n] = tree.children_left
        arrays["right"][i, :n] = tree.children_right
        arrays["feature"][i, :n] = np.maximum(tree.feature, 0)  # leaves have -2: never read
        arrays["threshold"][i, :n] = tree.threshold
        arrays["value"][i, :n] = tree.value[:, 0, 0]
    init = model.init_
    baseline = 0.0 if isinstance(init, str) else float(np.asarray(init.constant_, dtype=np.float64).reshape(-1)[0])
    return {"baseline": baseline, "learning_rate": float(model.learning_rate), **arrays}


def forest_predict(member: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """What ``GradientBoostingRegressor.predict`` returns, from :func:`forest_arrays`.

    Args:
        member: The arrays of one fitted regressor.
        x: ``(n, F)`` float32 inputs.

    Returns:
        ``(n,)`` float64: the baseline plus ``learning_rate`` times each tree's leaf value,
        added tree by tree.
    """
    left, right, feature, threshold, value = (member[k] for k in _FOREST_ARRAYS)
    out = np.empty(len(x), dtype=np.float64)
    trees = np.arange(len(left))[:, None]
    for start in range(0, len(x), _CHUNK):
        rows = x[start:start + _CHUNK]
        node = np.zeros((len(left), len(rows)), dtype=np.int64)
        samples = np.arange(len(rows))[None, :]
        while True:
            children = left[trees, node]
            inner = children != -1
            if not inner.any():
                break
            go_left = rows[samples, feature[trees, node]] <= threshold[trees, node]
            node = np.where(inner, np.where(go_left, children, right[trees, node]), node)
        leaves = value[trees, node]
        chunk = np.full(len(rows), member["baseline"], dtype=np.float64)
        for leaf in leaves:  # tree by tree, as scikit-learn sums
            chunk += member["learning_rate"] * leaf
        out[start:start + len(rows)] = chunk
    return out
