"""Random search: unevaluated candidates drawn uniformly, never one twice.

In a space that cannot be listed, each step draws from fresh uniform samples of the
space (a :class:`~gcnas.search.pool.CandidatePool` without mutations).
"""

from __future__ import annotations

import numpy as np

from gcnas.search.base import Arch, Observations, Searcher, register_searcher
from gcnas.search.pool import CandidatePool

__all__ = ["RandomSearch"]


@register_searcher("random")
class RandomSearch(Searcher):
    """Uniform sampling without replacement over the candidates.

    Example:
        >>> result = run_search(RandomSearch(), [acc], budget=50, seed=0)
    """

    def default_pool(self) -> CandidatePool:
        """Fresh uniform samples only: mutations of the best cells would not be random search."""
        return CandidatePool(n_random=50, n_mutations=0)

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        return self.random(n, rng, free)
