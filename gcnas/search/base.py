"""The searcher interface: propose architectures from what has been observed so far.

A searcher is stateless between calls: :meth:`Searcher.ask` looks only at the
:class:`Observations` (every finished trial) and a random generator seeded per step,
so a run rebuilt from the run store after a kill continues exactly where it stopped.

A searcher works on any :class:`~gcnas.spaces.SearchSpace`. Its candidates are, in this order:

* the ``candidates`` it was given (a list of cells: NAS-Bench-301's 725 published genotypes);
* every cell of the space, where the space can list them (``space.size()`` is a number);
* otherwise a :class:`~gcnas.search.pool.CandidatePool` refreshed at every step (fresh
  samples plus mutations of the best cells so far).

In a space that lists its cells, each listed cell is a candidate of its own (isomorphic
NAS-Bench-201 cells are distinct rows of its benchmark), so cells are told apart by value;
in a space that cannot list them, by ``space.key`` (two notations of one cell are one cell).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.registry import Registry
from gcnas.search.pool import CandidatePool
from gcnas.spaces import DEFAULT_SPACE, SearchSpace, resolve_space

__all__ = ["Observations", "Searcher", "register_searcher", "make_searcher", "searcher_names", "resolve_space",
           "DEFAULT_SPACE"]

Arch = Any
"""A cell of the searcher's space (the space's architecture type)."""

"""The space of a searcher built without ``space=``."""


BUILTIN_SEARCHERS = ("bo", "evolution", "latent_bo", "random_search", "reinforce")
"""The modules of :mod:`gcnas.search` whose classes register themselves (imported on the first lookup)."""


def _load_builtin() -> None:
    for module in BUILTIN_SEARCHERS:
        importlib.import_module(f"gcnas.search.{module}")


_REGISTRY: Registry[Searcher] = Registry("search method", load=_load_builtin)


def register_searcher(name: str) -> Callable[[type[Searcher]], type[Searcher]]:
    """Class decorator adding a searcher to the name registry (duplicates rejected).

    Args:
        name: The ``--method`` name.

    Returns:
        The decorator.
    """
    return _REGISTRY.register(name)


def searcher_names() -> list[str]:
    """Registered searcher names."""
    return _REGISTRY.names()


def make_searcher(name: str, **kwargs: object) -> Searcher:
    """A searcher by name (``bo``, ``random``, ``evolution``), with its keyword arguments.

    Args:
        name: One of :func:`searcher_names`.
        **kwargs: Passed to the class.

    Returns:
        The new searcher.
    """
    return _REGISTRY.make(name, **kwargs)


@dataclass
class Observations:
    """Every finished trial of a run, as arrays, and the cells still being evaluated.

    Attributes:
        archs: Evaluated architectures in order (failed ones included).
        Y: ``(n, m)`` objectives in the maximisation convention (NaN rows: failed).
        slack: ``(n, k)`` constraint violations, ``<= 0`` feasible (NaN: failed).
        pending: Cells proposed and not finished yet (a parallel run's evaluations in
            flight). A searcher never proposes one again; a model-based searcher may
            condition on them (BoTorch's ``X_pending``).
    """

    archs: list[Arch]
    Y: np.ndarray
    slack: np.ndarray
    pending: list[Arch] = field(default_factory=list)

    @property
    def ok(self) -> np.ndarray:
        """``(n,)`` rows whose evaluation succeeded."""
        return np.isfinite(self.Y).all(axis=1) & np.isfinite(self.slack).all(axis=1)

    @property
    def feasible(self) -> np.ndarray:
        """``(n,)`` successful rows that meet every constraint."""
        return self.ok & (np.nan_to_num(self.slack, nan=1.0) <= 0).all(axis=1)

    @property
    def codes(self) -> set[int]:
        """NAS-Bench-201 codes of the cells evaluated or pending (kept for ``latent_bo``; new
        code asks :meth:`taken` with the searcher's :meth:`~Searcher.cell_id`)."""
        return {a.code for a in self.archs} | {a.code for a in self.pending}

    def taken(self, identity: Callable[[Any], Hashable]) -> set[Hashable]:
        """Identities of the cells evaluated or pending: those a searcher must not propose.

        Args:
            identity: A cell's identity (:meth:`Searcher.cell_id`).
        """
        return {identity(a) for a in self.archs} | {identity(a) for a in self.pending}

    def __len__(self) -> int:
        return len(self.archs)


class Searcher:
    """Base class: candidate bookkeeping; subclasses implement :meth:`_ask`.

    Args:
        space: The search space (a :class:`~gcnas.spaces.SearchSpace` or its name;
            default NAS-Bench-201).
        candidates: The architectures a search may propose (default: the whole space
            where it can be listed, else a pool refreshed every step).
        pool: How that pool is refreshed (default :meth:`default_pool`); used only
            without ``candidates`` in a space that cannot be listed.
    """

    name = "searcher"

    @property
    def enumerates(self) -> bool:
        """False when the searcher makes its own candidates each step (a space too large to
        list and no ``candidates``): the run then passes no candidate set, and constraints
        are only checked on evaluation. A subclass that always generates cells sets it False."""
        return self.candidates is not None or self.space_.size() is not None

    def __init__(self, *, space: SearchSpace[Any] | str | None = None, candidates: Sequence[Arch] | None = None,
                 pool: CandidatePool | None = None) -> None:
        self.space = space
        self.candidates = candidates
        self.pool = pool
        self.space_ = resolve_space(space)
        if pool is not None and not isinstance(pool, CandidatePool):
            raise InvalidInputError(f"pool must be a CandidatePool, got {pool!r}")

    _NOT_SETTINGS = ("self", "space", "candidates", "store", "pool")

    def default_pool(self) -> CandidatePool:
        """The pool of a space that cannot be listed when none is given (BANANAS' 100
        mutations of the 10 best cells, NPENAS' fresh samples beside them)."""
        return CandidatePool()

    def cell_id(self, arch: Arch) -> Hashable:
        """What tells two cells apart: the cell itself in a space that lists its cells (each
        listed cell is a candidate of its own), ``space.key`` in one that cannot."""
        return arch if self._by_value else self.space_.key(arch)

    @property
    def _by_value(self) -> bool:
        if "_by_value_" not in self.__dict__:
            self._by_value_ = self.space_.size() is not None
        return self._by_value_

    def settings(self) -> dict[str, Any]:
        """The searcher's constructor settings as JSON-able values (what a study records, so
        that resuming it with other settings is refused). Objects such as a feature map or
        an encoder are recorded by their class name."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n not in self._NOT_SETTINGS]
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name, None)
            plain = value is None or isinstance(value, (bool, int, float, str))
            out[name] = value if plain else value.settings() if hasattr(value, "settings") else type(value).__name__
        if self.space_.name != DEFAULT_SPACE:  # so the default space's studies keep the settings they recorded
            out["space"] = self.space_.name
        if not self.enumerates and type(self).ask is Searcher.ask:  # the pool is refreshed by Searcher.ask
            out["pool"] = (self.pool or self.default_pool()).settings()
        return out

    def prepare(self, candidates: Sequence[Arch], known: np.ndarray | None = None) -> None:
        """Called once by the run with the final candidate set (after constraint pruning).

        Args:
            candidates: The architectures the search may propose.
            known: Optional ``(len(candidates), m)`` values of the *cheap* objectives
                (those free to look up, such as a latency table), in the maximisation
                convention, with NaN columns for the objectives that must be evaluated.
                A searcher may use them instead of modelling those objectives.
        """
        self.candidates_ = list(candidates) if candidates is not None else []
        self._index = {self.cell_id(a): i for i, a in enumerate(self.candidates_)}
        if known is not None:
            known = np.asarray(known, dtype=np.float64)
            if known.ndim != 2 or len(known) != len(self.candidates_):
                raise InvalidInputError(f"known values must be (n_candidates, m), got shape {known.shape} "
                                        f"for {len(self.candidates_)} candidates")
        self.known_ = known

    def default_candidates(self) -> list[Arch]:
        """The fixed candidates: those given, else every cell of a space that lists them.

        Raises:
            InvalidInputError: The space cannot be listed and no candidates were given
                (such a searcher refreshes a pool each step instead: ``enumerates`` is False).
        """
        if self.candidates is not None:
            return list(self.candidates)
        if self.space_.size() is None:
            raise InvalidInputError(f"space {self.space_.name!r} cannot be listed; pass candidates= (a list of "
                                    "cells) or let the searcher refresh a CandidatePool each step")
        listed = getattr(self.space_, "all_archs", None)  # a cached list, where the space keeps one
        return list(listed()) if callable(listed) else list(self.space_.enumerate())

    def refresh(self, obs: Observations, rng: np.random.Generator) -> None:
        """Make this step's candidates in a space that cannot be listed: the cells observed
        and pending (so that a model can look them up) and a fresh :class:`CandidatePool`."""
        taken = obs.taken(self.cell_id)
        fresh = (self.pool or self.default_pool()).propose(self.space_, obs, rng, taken, key=self.cell_id)
        self._set_candidates([*obs.archs, *obs.pending, *fresh])

    def _set_candidates(self, candidates: Sequence[Arch]) -> None:
        """Replace the candidates between steps (hook: BO recomputes its features, keeping its fit)."""
        Searcher.prepare(self, candidates)

    def unevaluated(self, obs: Observations) -> np.ndarray:
        """Indices into ``candidates_`` neither evaluated nor pending."""
        seen = np.zeros(len(self.candidates_), dtype=bool)
        for arch in [*obs.archs, *obs.pending]:
            i = self._index.get(self.cell_id(arch))
            if i is not None:
                seen[i] = True
        return np.flatnonzero(~seen)

    def ask(self, obs: Observations, n: int, rng: np.random.Generator) -> list[Arch]:
        """Propose ``n`` distinct architectures, neither evaluated nor pending.

        Args:
            obs: Every finished trial (and the pending cells).
            n: How many to propose (the batch size q).
            rng: This step's generator.

        Returns:
            Up to ``n`` architectures (fewer only when the candidates run out).
        """
        self.notes_ = {}
        if not hasattr(self, "candidates_"):
            self.prepare(self.default_candidates() if self.enumerates else None)
        if not self.enumerates:
            self.refresh(obs, rng)
        free = self.unevaluated(obs)
        if len(free) == 0:
            return []
        return self._ask(obs, min(n, len(free)), rng, free)

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        raise NotImplementedError

    def note(self, key: str, message: str) -> None:
        """Record what went wrong in this step (a failed model fit ...).

        :func:`~gcnas.search.run_search` stores the notes of each :meth:`ask` in the
        report of every trial that step proposed (``trial.report[key]``), so a failure
        that did not stop the search stays visible in the run store.

        Args:
            key: Report column, e.g. ``gp_fit_error``.
            message: What happened.
        """
        self.__dict__.setdefault("notes_", {})[key] = message

    def step_notes(self) -> dict[str, str]:
        """The notes of the last :meth:`ask` (empty when nothing went wrong)."""
        return dict(getattr(self, "notes_", {}))

    def random(self, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        """``n`` distinct unevaluated candidates drawn uniformly."""
        pick = rng.choice(free, size=min(n, len(free)), replace=False)
        return [self.candidates_[i] for i in pick]
