"""Candidate pools for spaces that cannot be listed: fresh samples plus mutations of the best cells.

A searcher that scores candidates (BO, random search) needs a finite set to choose from.
Where the space lists its cells (``space.size()`` is a number) that set is the whole
space; where it cannot (DARTS: about 1e18 cells), a :class:`CandidatePool` builds one at
every step, as BANANAS (White et al., 2021) and NPENAS (Wei et al., 2022) do: ``n_random``
cells drawn uniformly from the space, so that every region stays reachable, and
``n_mutations`` one-step mutations of the ``parents`` best cells observed so far, where a
good model is most useful. Cells are deduplicated by ``space.key`` and the cells already
evaluated or pending are left out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Hashable

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.search.pareto import pareto_mask

__all__ = ["CandidatePool", "ranked_parents"]


@dataclass(frozen=True)
class CandidatePool:
    """How a searcher refreshes its candidates each step in a space that cannot be listed.

    Args:
        n_random: Cells drawn uniformly from the space (``space.sample``) each step.
        n_mutations: One-step mutations (``space.mutate``) of the best cells, shared out
            round-robin among the ``parents`` (0 before anything has been observed).
        parents: How many of the best observed cells are mutated.
        max_tries: Draws per wanted cell before giving up on a duplicate-heavy space.

    Example:
        >>> pool = CandidatePool(n_random=50, n_mutations=100, parents=10)
        >>> cells = pool.propose(get_space("darts"), obs, np.random.default_rng(0), taken=set())
        >>> len(cells) <= 150
        True
    """

    n_random: int = 50
    n_mutations: int = 100
    parents: int = 10
    max_tries: int = 10

    def __post_init__(self) -> None:
        for name, least in (("n_random", 0), ("n_mutations", 0), ("parents", 1), ("max_tries", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(f"CandidatePool {name} must be an integer >= {least}, got {value!r}")
        if self.n_random + self.n_mutations < 1:
            raise InvalidInputError("CandidatePool needs n_random + n_mutations >= 1 (it would propose nothing)")

    def settings(self) -> dict[str, Any]:
        """The fields as plain values (what a study records)."""
        return asdict(self)

    def propose(self, space: Any, obs: Any, rng: np.random.Generator, taken: set[Hashable],
                key: Callable[[Any], Hashable] | None = None) -> list[Any]:
        """This step's candidates: mutations of the best observed cells, then fresh samples.

        Args:
            space: Any :class:`~gcnas.spaces.SearchSpace`.
            obs: The :class:`~gcnas.search.Observations` so far (its best cells are mutated).
            rng: This step's generator.
            taken: Identities of the cells evaluated or pending (never proposed again).
            key: A cell's identity (default ``space.key``).

        Returns:
            Distinct cells, none of them taken: up to ``n_mutations`` mutations (fewer when
            nothing is observed yet) followed by up to ``n_random`` samples.
        """
        key = key or space.key
        seen = set(taken)
        out: list[Any] = []

        def add(cell: Any) -> bool:
            identity = key(cell)
            if identity in seen:
                return False
            seen.add(identity)
            out.append(cell)
            return True

        parents = [obs.archs[i] for i in ranked_parents(obs)[: self.parents]]
        if parents:
            for k in range(self.n_mutations):
                parent = parents[k % len(parents)]
                for _ in range(self.max_tries):
                    if add(space.mutate(parent, rng)):
                        break
        for _ in range(self.n_random):
            for _ in range(self.max_tries):
                if add(space.sample(rng)):
                    break
        return out


def ranked_parents(obs: Any) -> np.ndarray:
    """Rows of ``obs`` from best to worst: feasible before infeasible, then, with several
    objectives, the non-dominated ones first, then by the first objective (failed rows left out).

    Example:
        >>> ranked_parents(obs)[:10]      # the ten cells a CandidatePool mutates
    """
    ok = np.flatnonzero(obs.ok)
    if not len(ok):
        return ok
    feasible = obs.feasible[ok]
    Y = obs.Y[ok]
    front = np.zeros(len(ok), dtype=bool)
    if Y.shape[1] > 1:
        for group in (feasible, ~feasible):
            rows = np.flatnonzero(group)
            if len(rows):
                front[rows[pareto_mask(Y[rows])]] = True
    order = np.lexsort((-Y[:, 0], ~front, ~feasible))
    return ok[order]
