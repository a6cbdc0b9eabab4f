"""Ask/tell: the search proposes cells, the user evaluates them with their own code.

:func:`~gcnas.search.run_search` owns the loop and calls the objectives itself. A
:class:`Study` hands the loop to the user: :meth:`Study.ask` proposes cells,
the user trains or times them however they like, and :meth:`Study.tell` records each
result in the run store as it arrives (in any order, several cells outstanding at once).
Values that gcnas can look up (a latency table, FLOPs) need not be told; values only the
user has are declared with :class:`~gcnas.search.objectives.ToldObjective`.
"""

from __future__ import annotations

import math
import time
import weakref
from typing import Mapping, Sequence

import numpy as np

from gcnas.data.store import RunStore, Trial
from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Observations, Searcher
from gcnas.search.history import SearchResult
from gcnas.search.objectives import CallableObjective, Constraint, Objective, ToldObjective
from gcnas.search.runner import (_append, _evaluate, _observations, _resume, _validate, prepare_searcher,
                                 study_settings)
from gcnas.spaces.nb201 import Arch

__all__ = ["Study"]


class Study:
    """A search driven by the caller: :meth:`ask` for cells, :meth:`tell` their values.

    Args:
        searcher: ``BayesianOptimization``, ``RandomSearch``, ``RegularizedEvolution`` ...
        objectives: What to optimise, the first one primary; names are shorthand for
            ``ToldObjective(name)`` (maximised).
        store: Run store for the trials; a study already in it is continued (trials told
            before are kept; cells asked but never told are forgotten and may be asked again).
            While the study is open, this process holds its writer lock: another process
            opening it is refused (:class:`~gcnas.data.store.StudyLockedError`) until
            :meth:`close`.
        study: Study name in the store.
        constraints: Bounds, as in :func:`~gcnas.search.run_search` (a told metric's value
            is given to :meth:`tell`).
        seed: Seed of the proposals: step ``t`` draws from ``(seed, t)``.

    Example:
        >>> study = Study(BayesianOptimization(features="onehot", n_init=5), ["accuracy"], seed=0)
        >>> for _ in range(20):
        ...     (arch,) = study.ask()
        ...     study.tell(arch, my_training(arch))          # or {"accuracy": ...}
        >>> study.result().best_so_far("accuracy")[-1]
    """

    def __init__(self, searcher: Searcher, objectives: Sequence[Objective | str], *, store: RunStore | None = None,
                 study: str = "study", constraints: Sequence[Constraint] = (), seed: int = 0) -> None:
        self.objectives = [ToldObjective(o) if isinstance(o, str) else o for o in objectives]
        self.constraints = list(constraints)
        self.searcher, self.store, self.study, self.seed = searcher, store, study, int(seed)
        _validate(searcher, self.objectives, self.constraints, [], budget=max(getattr(searcher, "n_init", 1), 1), q=1)
        self.config = {**study_settings(searcher, self.objectives, self.constraints, [], seed=self.seed, q=1),
                       "interface": "ask/tell"}
        self.trials: list[Trial] = _resume(store, study, self.config)  # takes the study's writer lock
        self._unlock = weakref.finalize(self, store.release_study, study) if store is not None else None
        try:
            prepare_searcher(searcher, self.objectives, self.constraints)
        except BaseException:
            self.close()
            raise
        self._obs = _observations(self.trials, self.objectives, self.constraints)
        self._pending: dict[int, tuple[Arch, float, dict[str, str]]] = {}

    def close(self) -> None:
        """Give back the study's writer lock, so another process may continue the study.

        Also done by ``with Study(...) as study:``, when the study is garbage-collected,
        when its store is closed, and when the process ends.
        """
        if self._unlock is not None:
            self._unlock()  # runs once

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pending(self) -> list[Arch]:
        """Cells asked for and not told yet."""
        return [arch for arch, _, _ in self._pending.values()]

    def ask(self, n: int = 1) -> list[Arch]:
        """Propose ``n`` cells, none evaluated or pending.

        Args:
            n: How many cells.

        Returns:
            Up to ``n`` architectures (fewer when the candidates run out).
        """
        if not isinstance(n, int) or n < 1:
            raise InvalidInputError(f"ask(n) needs a positive integer n, got {n!r}")
        began = time.perf_counter()
        rng = np.random.default_rng([self.seed, len(self.trials) + len(self._pending)])
        archs = self.searcher.ask(self._with_pending(), n, rng)
        seconds = (time.perf_counter() - began) / max(len(archs), 1)
        notes = self.searcher.step_notes()
        for arch in archs:
            self._pending[arch.code] = (arch, seconds, notes)
        return archs

    def tell(self, arch: Arch | str | int, values: Mapping[str, float] | float | None = None, *,
             error: str | None = None) -> Trial:
        """Record one evaluated cell.

        Args:
            arch: The cell (an :class:`Arch`, its string or its code).
            values: ``{objective name: value}`` for every told objective (and told
                constraint metric); a bare number when there is one told objective. Values
                gcnas can compute (costs, tables) may be left out.
            error: The evaluation failed: what went wrong (the trial is recorded failed).

        Returns:
            The stored trial.
        """
        arch = arch if isinstance(arch, Arch) else Arch.parse(arch)
        told = self._told_values(values, error)
        _, ask_seconds, notes = self._pending.pop(arch.code, (arch, math.nan, {}))
        objectives = [self._stand_in(o, told, error) for o in self.objectives]
        constraints = [Constraint(self._stand_in(c.metric, told, error), upper=c.upper, lower=c.lower)
                       for c in self.constraints]
        trial = _evaluate(len(self.trials), arch, objectives, constraints, [], ask_seconds, notes)
        if self.store is not None:
            self.store.add_trial(self.study, trial)
        self.trials.append(trial)
        _append(self._obs, trial, self.objectives, self.constraints)
        return trial

    def result(self) -> SearchResult:
        """Every told trial, as :func:`~gcnas.search.run_search` returns them."""
        if self.store is not None:
            self.store.finish_stage(f"search:{self.study}", {**self.config, "trials": len(self.trials)})
        return SearchResult(self.study, self.config["objectives"], self.config["maximize"], list(self.trials),
                            self.config)

    # -- helpers -------------------------------------------------------------------------

    def _with_pending(self) -> Observations:
        """The observations plus every pending cell (never proposed again; BO's ``X_pending``)."""
        return Observations(self._obs.archs, self._obs.Y, self._obs.slack, pending=self.pending)

    def _told_values(self, values: Mapping[str, float] | float | None, error: str | None) -> dict[str, float]:
        told_names = [o.name for o in self.objectives if isinstance(o, ToldObjective)]
        told_names += [c.name for c in self.constraints if isinstance(c.metric, ToldObjective)]
        told_names = list(dict.fromkeys(told_names))
        if error is not None:
            return {}
        if values is None:
            values = {}
        elif not isinstance(values, Mapping):
            if len(told_names) != 1:
                raise InvalidInputError(f"tell() got one number but the study has {len(told_names)} told values "
                                        f"({', '.join(told_names) or 'none'}); pass a dict name -> value")
            values = {told_names[0]: values}
        missing = [name for name in told_names if name not in values]
        unknown = sorted(set(values) - set(told_names))
        if missing or unknown:
            raise InvalidInputError(f"tell() needs exactly the told values {told_names}; "
                                    f"missing {missing}, unknown {unknown}")
        return {name: float(value) for name, value in values.items()}

    @staticmethod
    def _stand_in(metric: Objective, told: dict[str, float], error: str | None) -> Objective:
        if not isinstance(metric, ToldObjective):
            return metric

        def value(_: Arch) -> float:
            if error is not None:
                raise RuntimeError(error)
            return told[metric.name]

        return CallableObjective(metric.name, maximize=metric.maximize, fn=value, value_range=metric.value_range)
