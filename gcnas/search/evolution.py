"""Regularised (aging) evolution (Real et al., 2019).

The population is the last ``population_size`` successful trials (the oldest dies
as each child is born). Each child mutates one op of the best of ``sample_size``
members drawn at random; with several objectives the parent is a random
non-dominated member of the sample, and infeasible members lose to feasible ones.

Any space: children come from ``space.mutate``. Given a fixed sample of a space that
cannot be listed as candidates (NAS-Bench-301's 725 genotypes), a one-step mutation
almost never lands in it; there a child is the unevaluated candidate nearest its parent
(fewest differing decisions, ties drawn at random), the mutation the sample allows.
"""

from __future__ import annotations

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Arch, Observations, Searcher, register_searcher
from gcnas.search.pareto import pareto_mask
from gcnas.search.pool import CandidatePool
from gcnas.spaces import SearchSpace

__all__ = ["RegularizedEvolution"]


@register_searcher("evolution")
class RegularizedEvolution(Searcher):
    """Aging evolution with tournament selection and one-op mutation.

    Args:
        population_size: Members alive at a time (random until that many trials exist).
        sample_size: Tournament size.
        nearest: Make a child the free candidate nearest its parent (see the module doc)
            instead of a one-step mutation; default (None): where the candidates are a
            sample of a space that cannot be listed.
        space: The space whose ``mutate`` makes children (default NAS-Bench-201).
        candidates: Architectures the search may propose (default: the whole space, or
            in a space that cannot be listed, any cell).
        pool: Uniform samples for the first population in a space that cannot be listed.

    Example:
        >>> result = run_search(RegularizedEvolution(population_size=20, sample_size=5), [acc], budget=100)
    """

    def __init__(self, population_size: int = 20, sample_size: int = 5, nearest: bool | None = None, *,
                 space: SearchSpace | str | None = None, candidates=None, pool: CandidatePool | None = None) -> None:
        super().__init__(space=space, candidates=candidates, pool=pool)
        self.population_size = population_size
        self.sample_size = sample_size
        self.nearest = nearest
        if population_size < 2 or not 1 <= sample_size <= population_size:
            raise InvalidInputError(f"need population_size >= 2 and 1 <= sample_size <= population_size, got "
                                    f"population_size={population_size}, sample_size={sample_size}")

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        alive = np.flatnonzero(obs.ok)[-self.population_size:]
        if len(alive) < self.population_size:
            return self.random(n, rng, free)
        space = self.space_
        taken = obs.taken(self.cell_id)
        nearest = self.nearest if self.nearest is not None else (self.candidates is not None and not self._by_value)
        anywhere = not self.enumerates  # no fixed candidates: any new cell will do
        children: list[Arch] = []
        for _ in range(n):
            child = None
            if nearest:
                child = self._nearest(obs.archs[self._tournament(obs, alive, rng)], free, taken, rng)
            for _attempt in range(0 if nearest else 100):
                parent = obs.archs[self._tournament(obs, alive, rng)]
                candidate = space.mutate(parent, rng)
                identity = self.cell_id(candidate)
                if identity not in taken and (anywhere or identity in self._index):
                    child = candidate
                    break
            if child is None:
                left = np.array([i for i in free if self.cell_id(self.candidates_[i]) not in taken])
                if len(left) == 0:
                    break
                child = self.random(1, rng, left)[0]
            taken.add(self.cell_id(child))
            children.append(child)
        return children

    def _nearest(self, parent: Arch, free: np.ndarray, taken: set, rng: np.random.Generator) -> Arch | None:
        """The free candidate with the fewest decisions unlike the parent's (ties drawn at random)."""
        left = np.array([i for i in free if self.cell_id(self.candidates_[i]) not in taken], dtype=np.int64)
        if not len(left):
            return None
        cached = getattr(self, "_decisions_of", None)
        if cached is None or cached[0] is not self.candidates_:
            self._decisions_of = cached = (self.candidates_, np.array([self.space_.to_decisions(a)
                                                                       for a in self.candidates_]))
        distance = (cached[1][left] != np.asarray(self.space_.to_decisions(parent))).sum(axis=1)
        closest = left[distance == distance.min()]
        return self.candidates_[int(rng.choice(closest))]

    def default_pool(self) -> CandidatePool:
        """Fresh uniform samples only (the first population is random; children are mutations)."""
        return CandidatePool(n_random=50, n_mutations=0)

    def _tournament(self, obs: Observations, alive: np.ndarray, rng: np.random.Generator) -> int:
        sample = rng.choice(alive, size=self.sample_size, replace=False)
        feasible = obs.feasible[sample]
        if feasible.any():
            sample = sample[feasible]
        Y = obs.Y[sample]
        if Y.shape[1] == 1:
            return int(sample[int(np.argmax(Y[:, 0]))])
        return int(rng.choice(sample[pareto_mask(Y)]))
