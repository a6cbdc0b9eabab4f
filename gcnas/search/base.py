"""The searcher interface: propose architectures from what has been observed so far.

A searcher is stateless between calls: :meth:`Searcher.ask` looks only at the
:class:`Observations` (every finished trial) and a random generator seeded per step,
so a run rebuilt from the run store after a kill continues exactly where it stopped.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.registry import Registry
from gcnas.spaces.nb201 import Arch, NB201Space, Space

__all__ = ["Observations", "Searcher", "register_searcher", "make_searcher", "searcher_names"]


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
        """Codes of the cells evaluated or pending: those a searcher must not propose."""
        return {a.code for a in self.archs} | {a.code for a in self.pending}

    def __len__(self) -> int:
        return len(self.archs)


class Searcher:
    """Base class: candidate bookkeeping; subclasses implement :meth:`_ask`.

    Args:
        space: The search space.
        candidates: The architectures a search may propose (default: the whole space).
    """

    name = "searcher"
    enumerates = True
    """False for searchers that generate architectures themselves (spaces too large to
    list): the run then passes no candidate set, and constraints are only checked on
    evaluation."""

    def __init__(self, *, space: Space | None = None, candidates: Sequence[Arch] | None = None) -> None:
        self.space = space
        self.candidates = candidates

    _NOT_SETTINGS = ("self", "space", "candidates", "store")

    def settings(self) -> dict[str, Any]:
        """The searcher's constructor settings as JSON-able values (what a study records, so
        that resuming it with other settings is refused). Objects such as a feature map or
        an encoder are recorded by their class name."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n not in self._NOT_SETTINGS]
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name, None)
            plain = value is None or isinstance(value, (bool, int, float, str))
            out[name] = value if plain else type(value).__name__
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
        self._index = {a.code: i for i, a in enumerate(self.candidates_)}
        if known is not None:
            known = np.asarray(known, dtype=np.float64)
            if known.ndim != 2 or len(known) != len(self.candidates_):
                raise InvalidInputError(f"known values must be (n_candidates, m), got shape {known.shape} "
                                        f"for {len(self.candidates_)} candidates")
        self.known_ = known

    def default_candidates(self) -> list[Arch]:
        if self.candidates is not None:
            return list(self.candidates)
        space = self.space or NB201Space()
        if not isinstance(space, NB201Space):
            raise InvalidInputError(f"space {space!r} cannot be enumerated; pass candidates=")
        return space.all_archs()

    def unevaluated(self, obs: Observations) -> np.ndarray:
        """Indices into ``candidates_`` neither evaluated nor pending."""
        seen = np.zeros(len(self.candidates_), dtype=bool)
        for arch in [*obs.archs, *obs.pending]:
            i = self._index.get(arch.code)
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
            self.prepare(self.default_candidates())
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
