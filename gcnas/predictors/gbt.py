"""Baseline: gradient-boosted trees (scikit-learn) on one-hot ops, a small ensemble."""

from __future__ import annotations

import numpy as np

from gcnas.predictors.base import Predictor, keep_params, register_predictor
from gcnas.predictors.mlp import one_hot_matrix
from gcnas.space import Arch, as_generator

__all__ = ["GBTPredictor"]


@register_predictor("gbt")
class GBTPredictor(Predictor):
    """Gradient-boosted regression trees; ``ensemble`` members on row subsamples give a spread.

    Args:
        n_estimators: Boosting rounds per member.
        learning_rate: Shrinkage.
        max_depth: Depth of each tree.
        subsample: Row share per tree (stochastic boosting; < 1 makes members differ).
        ensemble: Members, each with its own seed.
        seed: Seed of the members.

    Example:
        >>> GBTPredictor(seed=0).fit(archs, acc).predict(archs[:3])
    """

    min_train = 5

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, max_depth: int = 3,
                 subsample: float = 0.8, ensemble: int = 3, seed: int = 0) -> None:
        keep_params(self, locals())

    def _fit(self, archs: list[Arch], z: np.ndarray) -> None:
        from sklearn.ensemble import GradientBoostingRegressor

        x = one_hot_matrix(archs)
        seeds = as_generator(self.seed).integers(2**31, size=self.ensemble)
        self.models_ = [GradientBoostingRegressor(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                                  max_depth=self.max_depth, subsample=self.subsample,
                                                  random_state=int(s)).fit(x, z) for s in seeds]

    def _predict(self, archs: list[Arch]) -> tuple[np.ndarray, np.ndarray]:
        x = one_hot_matrix(archs)
        stacked = np.stack([m.predict(x) for m in self.models_])
        return stacked.mean(0), stacked.std(0)
