"""Random search: unevaluated candidates drawn uniformly, never one twice."""

from __future__ import annotations

import numpy as np

from gcnas.search.base import Observations, Searcher, register_searcher
from gcnas.spaces.nb201 import Arch

__all__ = ["RandomSearch"]


@register_searcher("random")
class RandomSearch(Searcher):
    """Uniform sampling without replacement over the candidates.

    Example:
        >>> result = run_search(RandomSearch(), [acc], budget=50, seed=0)
    """

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        return self.random(n, rng, free)
