"""Regularised (aging) evolution (Real et al., 2019).

The population is the last ``population_size`` successful trials (the oldest dies
as each child is born). Each child mutates one op of the best of ``sample_size``
members drawn at random; with several objectives the parent is a random
non-dominated member of the sample, and infeasible members lose to feasible ones.
"""

from __future__ import annotations

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Observations, Searcher, register_searcher
from gcnas.search.pareto import pareto_mask
from gcnas.spaces.nb201 import Arch, NB201Space, Space

__all__ = ["RegularizedEvolution"]


@register_searcher("evolution")
class RegularizedEvolution(Searcher):
    """Aging evolution with tournament selection and one-op mutation.

    Args:
        population_size: Members alive at a time (random until that many trials exist).
        sample_size: Tournament size.
        space: The space whose ``mutate`` makes children (default NB201).
        candidates: Architectures the search may propose.

    Example:
        >>> result = run_search(RegularizedEvolution(population_size=20, sample_size=5), [acc], budget=100)
    """

    def __init__(self, population_size: int = 20, sample_size: int = 5, *, space: Space | None = None,
                 candidates=None) -> None:
        super().__init__(space=space, candidates=candidates)
        self.population_size = population_size
        self.sample_size = sample_size
        if population_size < 2 or not 1 <= sample_size <= population_size:
            raise InvalidInputError(f"need population_size >= 2 and 1 <= sample_size <= population_size, got "
                                    f"population_size={population_size}, sample_size={sample_size}")

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        alive = np.flatnonzero(obs.ok)[-self.population_size:]
        if len(alive) < self.population_size:
            return self.random(n, rng, free)
        space = self.space or NB201Space()
        taken = obs.codes
        children: list[Arch] = []
        for _ in range(n):
            child = None
            for _attempt in range(100):
                parent = obs.archs[self._tournament(obs, alive, rng)]
                candidate = space.mutate(parent, rng)
                if candidate.code not in taken and candidate.code in self._index:
                    child = candidate
                    break
            if child is None:
                left = np.array([i for i in free if self.candidates_[i].code not in taken])
                if len(left) == 0:
                    break
                child = self.random(1, rng, left)[0]
            taken.add(child.code)
            children.append(child)
        return children

    def _tournament(self, obs: Observations, alive: np.ndarray, rng: np.random.Generator) -> int:
        sample = rng.choice(alive, size=self.sample_size, replace=False)
        feasible = obs.feasible[sample]
        if feasible.any():
            sample = sample[feasible]
        Y = obs.Y[sample]
        if Y.shape[1] == 1:
            return int(sample[int(np.argmax(Y[:, 0]))])
        return int(rng.choice(sample[pareto_mask(Y)]))
