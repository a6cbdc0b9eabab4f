"""The run loop: ask, evaluate (here or on parallel workers), write each trial to the run store, resume after a kill."""

from __future__ import annotations

import hashlib
import math
import pickle
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from gcnas.data.store import RunStore, Trial
from gcnas.exceptions import InfeasibleError, InvalidInputError
from gcnas.parallel import Executor, InlineExecutor, current_worker
from gcnas.progress import progress as show_progress
from gcnas.search.base import Observations, Searcher
from gcnas.search.checks import LeftOut, notify, rows_left_out, value_problem
from gcnas.search.history import SearchResult
from gcnas.search.objectives import Constraint, CostObjective, LUTObjective, Objective, TableObjective
from gcnas.spaces.nb201 import Arch

__all__ = ["run_search"]


def run_search(searcher: Searcher, objectives: Sequence[Objective], *, budget: int, store: RunStore | None = None,
               study: str = "search", constraints: Sequence[Constraint] = (), report: Sequence[Objective] = (),
               q: int = 1, seed: int = 0, progress: bool = False,
               callback: Callable[[Trial], None] | None = None, executor: Executor | None = None) -> SearchResult:
    """Run (or resume) a search until ``budget`` evaluations exist.

    Every trial is written to ``store`` (``store.add_trial(study, ...)``) as soon as it
    is evaluated; calling again with the same settings resumes, never repeating an
    evaluation. A failing objective (an exception, a value that is not finite, or a user
    objective's value outside its range: :mod:`gcnas.search.checks`) is recorded as a failed
    trial and the search carries on; so is what went wrong in a searcher's step (a failed GP
    fit, see :meth:`Searcher.note`), in the report of that step's trials. Step ``t``
    draws its randomness from ``(seed, t)``, so a resumed random search or evolution
    proposes what the uninterrupted run would have (when no trial failed: see below).

    A later call that continues the study (a larger budget, or a resume after a kill)
    first evaluates each cell whose only trial failed once more, before the searcher
    proposes new cells: a cell is retried at most once, its failed trial stays in the
    history, and the retry is a trial of its own (``trial.report["retry_of"]``: the
    failed trial's number), counted in the budget.

    Table rows without a value in a searched column are left out of the candidates, with
    a :class:`~gcnas.search.checks.SearchNotice` (a warning) for each column; a search that
    runs out of candidates before ``budget`` trials stops there, with a notice too (not an
    error). Both are recorded with the finished stage (``store.stage("search:STUDY")``:
    ``rows_left_out`` {objective: rows}, ``short_of_budget``: trials missing).

    With an ``executor`` of ``W`` workers the evaluations run asynchronously: up to ``W``
    are in flight, and whenever one finishes its trial is written at once (trials are
    numbered in the order they finish), then the searcher proposes one cell per free
    worker, given the cells still in flight as ``Observations.pending`` (never proposed
    again; BO conditions on them). That step's randomness is ``(seed, t)`` with ``t`` the
    number of cells proposed before it (finished plus in flight), so a parallel run is
    reproducible up to the order in which its evaluations finish. A worker that raises
    or dies records a failed trial and the search goes on. Only this (head) process
    writes to ``store``; a killed run resumes from the finished trials, and the cells
    that were in flight are simply proposed again. The executor is not part of the
    study's settings: a study started on 4 workers may be resumed on 1.

    Args:
        searcher: ``BayesianOptimization``, ``RandomSearch``, ``RegularizedEvolution`` ...
        objectives: What to optimise, the first one primary (incumbent, curves).
        budget: Total evaluations (failed ones count).
        store: Run store for the trials; None keeps them in memory only.
        study: Study name in the store.
        constraints: Bounds on metrics. A cheap metric (``Objective.cheap``: a latency
            table, a cost) prunes the candidates before the search (unless built with
            ``prune=False``: then it is checked trial by trial like the others); any other metric
            (accuracy, even from a table) is checked on each evaluated trial, which is
            recorded infeasible (``trial.report["feasible"]``) when it violates one: the
            searcher never sees a value that was not evaluated. A bound that no
            candidate's known value meets raises ``InfeasibleError`` before the search.
        report: Metrics recorded with each trial but never seen by the searcher
            (``--report-from``: search on validation, report test accuracy).
        q: Batch size of each proposal (without an executor; with one, each proposal
            fills the free workers).
        seed: Seed of the whole run.
        progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
        callback: Called with each finished trial (after it is stored).
        executor: Evaluate on these workers (:func:`gcnas.parallel.make_executor`); None
            evaluates one batch at a time in this process. The objectives are pickled to
            the workers (the process and Ray executors), so they must pickle; each trial's
            report records its ``worker``, ``submitted`` and ``finished`` (epoch seconds,
            taken by this process).

    Returns:
        The :class:`SearchResult` of the study.

    Example:
        >>> acc = TableObjective("valid_acc", table=table)
        >>> test = TableObjective("test_acc", table=table)
        >>> result = run_search(RandomSearch(), [acc], budget=50, report=[test], seed=0)
        >>> result.best_so_far("test_acc")[-1]
        >>> with make_executor("process", workers=4) as executor:   # four evaluations at once
        ...     result = run_search(RandomSearch(), [acc], budget=50, seed=0, executor=executor)
    """
    objectives, constraints, report = list(objectives), list(constraints), list(report)
    _validate(searcher, objectives, constraints, report, budget, q)
    problem = _Problem(objectives, constraints, report)
    shipped = _ship(problem, executor) if executor is not None else None
    config = study_settings(searcher, objectives, constraints, report, seed=seed, q=q)
    trials = _resume(store, study, config)
    try:
        pool = prepare_searcher(searcher, objectives, constraints)
    except BaseException:
        if store is not None:
            store.release_study(study)  # taken by _resume; the loop's own finally is not reached
        raise
    retries = _retries(trials)
    obs = _observations(trials, objectives, constraints)
    bar = show_progress(total=budget, initial=min(len(trials), budget), desc=f"search {study}", unit="trial",
                        enabled=progress)

    def record(trial: Trial) -> None:
        if store is not None:
            store.add_trial(study, trial)
        trials.append(trial)
        _append(obs, trial, objectives, constraints)
        bar.update(1)
        if callback is not None:
            callback(trial)

    try:
        if executor is not None:
            _run_parallel(executor, searcher, problem, shipped, obs, trials, budget, seed, record, retries)
        while executor is None and len(trials) < budget:
            if retries:
                arch, notes = retries.pop(0)
                record(_evaluate(len(trials), arch, objectives, constraints, report, 0.0, notes))
                continue
            began = time.perf_counter()
            rng = np.random.default_rng([int(seed), len(trials)])
            archs = searcher.ask(obs, min(q, budget - len(trials)), rng)
            ask_seconds = time.perf_counter() - began
            notes = searcher.step_notes()
            if not archs:
                break
            for arch in archs:
                record(_evaluate(len(trials), arch, objectives, constraints, report, ask_seconds / len(archs), notes))
    finally:
        bar.close()
        if store is not None:
            store.release_study(study)  # taken by _resume
    short = max(0, budget - len(trials))
    if short:
        notify(f"search stopped at {len(trials)} of {budget} trials: no candidates left ({pool.detail})")
    if store is not None:
        ran_on = {"executor": executor.kind, "workers": executor.workers} if executor is not None else {}
        store.finish_stage(f"search:{study}", {**config, "trials": len(trials), "short_of_budget": short,
                                               "rows_left_out": {o.name: o.rows for o in pool.left_out}, **ran_on})
    return SearchResult(study, config["objectives"], config["maximize"], trials, config)


# -- parallel evaluation ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Problem:
    """What every evaluation of a run needs; sent to each worker process once."""

    objectives: list[Objective]
    constraints: list[Constraint]
    report: list[Objective]


@dataclass(frozen=True)
class _Proposal:
    """A cell in flight: what the head knows of it until its trial comes back."""

    arch: Arch
    ask_seconds: float
    notes: dict[str, Any]
    submitted: float


_WORKER_PROBLEMS: dict[str, _Problem] = {}
"""In a worker process: the problem of the run it serves, by digest (unpickled once, so an
objective's caches, such as a loaded model, live across the evaluations)."""


def _ship(problem: _Problem, executor: Executor) -> tuple[str, bytes] | None:
    """The problem pickled once for the workers (None for the inline executor, which shares it)."""
    if isinstance(executor, InlineExecutor):
        return None
    if executor.kind == "ray":
        # By value where pickle goes by name (lambdas, closures, the classes of a script's
        # __main__), as Ray itself does: a Ray worker does not run the user's script.
        from ray import cloudpickle as dumper
    else:
        dumper = pickle
    try:
        blob = dumper.dumps(problem)
    except Exception as error:  # noqa: BLE001 - pickle raises several kinds
        raise InvalidInputError(f"the objectives cannot be sent to worker processes ({type(error).__name__}: "
                                f"{error}); define their functions at module level (no lambdas or local "
                                "functions) and keep open files and connections out of them, or use the "
                                "ray executor (it pickles functions by value)") from None
    return hashlib.sha256(blob).hexdigest(), blob


def _evaluate_on_worker(arch: Arch, problem: _Problem | None = None, shipped: tuple[str, bytes] | None = None) -> Trial:
    """One evaluation on a worker: the trial (numbered by the head) with the worker's id."""
    if problem is None:
        digest, blob = shipped
        problem = _WORKER_PROBLEMS.get(digest)
        if problem is None:
            _WORKER_PROBLEMS.clear()  # one run at a time per worker process
            problem = _WORKER_PROBLEMS[digest] = pickle.loads(blob)  # trusted: pickled by this run's own head
    trial = _evaluate(-1, arch, problem.objectives, problem.constraints, problem.report, math.nan)
    return replace(trial, report={**trial.report, "worker": current_worker()})


def _run_parallel(executor: Executor, searcher: Searcher, problem: _Problem, shipped: tuple[str, bytes] | None,
                  obs: Observations, trials: list[Trial], budget: int, seed: int,
                  record: Callable[[Trial], None], retries: list[tuple[Arch, dict[str, Any]]]) -> None:
    """Keep ``executor.workers`` evaluations in flight until ``budget`` trials are recorded
    (the ``retries`` first)."""
    in_flight: dict[Future[Trial], _Proposal] = {}
    exhausted = False

    def submit(arch: Arch, proposal: _Proposal) -> None:
        future = (executor.submit(_evaluate_on_worker, arch, problem) if shipped is None
                  else executor.submit(_evaluate_on_worker, arch, shipped=shipped))
        in_flight[future] = proposal

    while True:
        wanted = min(executor.workers - len(in_flight), budget - len(trials) - len(in_flight))
        while wanted > 0 and retries:
            arch, notes = retries.pop(0)
            submit(arch, _Proposal(arch, 0.0, notes, time.time()))
            wanted -= 1
        if wanted > 0 and not exhausted:
            obs.pending = [p.arch for p in in_flight.values()]
            began = time.perf_counter()
            rng = np.random.default_rng([int(seed), len(trials) + len(in_flight)])
            archs = searcher.ask(obs, wanted, rng)
            ask_seconds = (time.perf_counter() - began) / max(len(archs), 1)
            notes = searcher.step_notes()
            obs.pending = []
            exhausted = not archs  # the candidates ran out (in-flight cells are never proposed again)
            for arch in archs:
                submit(arch, _Proposal(arch, ask_seconds, notes, time.time()))
        if not in_flight:
            return
        done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
        for future in [f for f in in_flight if f in done]:  # submission order among those done together
            record(_trial_of(future, in_flight.pop(future), len(trials)))


def _trial_of(future: Future[Trial], proposal: _Proposal, index: int) -> Trial:
    """The finished trial numbered ``index``; a worker that raised or died gives a failed one."""
    timing = {"ask_seconds": proposal.ask_seconds, "submitted": proposal.submitted, "finished": time.time()}
    error = future.exception()
    if error is None:
        trial = future.result()
        return replace(trial, trial=index, report={**proposal.notes, **trial.report, **timing})
    return Trial(index, proposal.arch, "failed", {}, {**proposal.notes, "feasible": False, **timing},
                 f"worker failed: {type(error).__name__}: {error}")


def study_settings(searcher: Searcher, objectives: list[Objective], constraints: list[Constraint],
                   report: list[Objective], *, seed: int, q: int) -> dict[str, Any]:
    """Everything that defines a study (recorded in the run; a resume must match it)."""
    return {"method": searcher.name, "objectives": [o.name for o in objectives],
            "maximize": [bool(o.maximize) for o in objectives], "constraints": [c.describe() for c in constraints],
            "report": [r.name for r in report], "seed": int(seed), "q": int(q),
            "searcher": searcher.settings(), "objective_sources": [o.identity() for o in objectives],
            "constraint_sources": [c.metric.identity() for c in constraints],
            "report_sources": [r.identity() for r in report]}


@dataclass(frozen=True)
class _Pool:
    """What a searcher was given: why its candidates are what they are, and the table rows left out."""

    detail: str
    left_out: list[LeftOut]


def prepare_searcher(searcher: Searcher, objectives: list[Objective], constraints: list[Constraint]) -> _Pool:
    """Give the searcher its candidates (pruned by the cheap constraints) and the cheap values.

    Gives a :class:`~gcnas.search.checks.SearchNotice` for each table column whose rows
    without a value are left out. Returns what the candidates are (for a notice when they
    run out) and those rows.
    """
    if not searcher.enumerates:
        searcher.prepare(None)
        return _Pool("the searcher proposed no new cell", [])
    every = searcher.default_candidates()
    known, lacking = _known_candidates(every, objectives)
    left_out = rows_left_out(objectives, constraints)
    for rows in left_out:
        notify(str(rows))
    candidates = _feasible_candidates(known, constraints)
    searcher.prepare(candidates, known=_cheap_values(candidates, objectives))
    if len(candidates) < len(known):
        bounds = "; ".join(c.describe() for c in constraints if c.metric.cheap and c.prune)
        return _Pool(f"{len(candidates)} of the cells with values meet {bounds}", left_out)
    if len(known) < len(every):
        tables = {o.table.path or id(o.table) for o in lacking if isinstance(o, TableObjective)}
        if len(tables) == 1 and len(lacking) == sum(isinstance(o, TableObjective) for o in lacking):
            which = "the table has"
        elif len(lacking) == 1:
            which = "the lookup table has" if isinstance(lacking[0], LUTObjective) else f"{lacking[0].name} has"
        else:
            which = f"{', '.join(o.name for o in lacking)} have"
        return _Pool(f"{which} values for {len(known)} cells", left_out)
    return _Pool(f"every one of the {len(every)} candidates was evaluated", left_out)


def _validate(searcher: Searcher, objectives: list[Objective], constraints: list[Constraint],
              report: list[Objective], budget: int, q: int) -> None:
    if not isinstance(searcher, Searcher):
        raise InvalidInputError(f"searcher must be a Searcher (BayesianOptimization, RandomSearch, ...), "
                                f"got {searcher!r}")
    if not objectives or not all(isinstance(o, Objective) for o in objectives):
        raise InvalidInputError("give at least one Objective (TableObjective, LUTObjective, CostObjective, ...)")
    names = [o.name for o in objectives + report]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"objective and report names must be distinct, got {names}")
    if not isinstance(budget, int) or budget < 1:
        raise InvalidInputError(f"budget must be a positive integer, got {budget!r}")
    if not isinstance(q, int) or q < 1:
        raise InvalidInputError(f"q (the batch size) must be a positive integer, got {q!r}")
    n_init = getattr(searcher, "n_init", 0)
    if budget < n_init:
        raise InvalidInputError(f"budget {budget} is smaller than the initial random design (n_init={n_init}); "
                                "raise the budget or lower n_init")


def _resume(store: RunStore | None, study: str, config: dict[str, Any]) -> list[Trial]:
    """The study's trials so far, once this process holds its writer lock and its settings match.

    Takes the lock (``store.claim_study``: a second process on the study is refused; the
    caller releases it with ``store.release_study``, here on a refusal), then compares the
    settings recorded in the store, or records them for a new study: under the lock no
    other process adds trials in between, so a study never has trials without settings.
    """
    if store is None:
        return []
    store.claim_study(study)
    try:
        trials = store.trials(study)
        old = store.study_settings(study)
        if trials and old is not None and old != config:
            differ = "; ".join(_differences(old, config)[:4])
            raise InvalidInputError(f"study {study!r} in {store.run_dir} was started with other settings "
                                    f"({differ}); resume it with the same settings, or start a new "
                                    "study with --study NAME (Python: study=NAME)")
        if not trials or old is None:  # a new study (or one of a schema-1 store that lost its settings file)
            store.record_study(study, config)
    except BaseException:
        store.release_study(study)
        raise
    return trials


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """``setting: recorded -> now`` for every leaf that differs between two study configs."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            out += _differences(old.get(key), new.get(key), f"{where}.{key}" if where else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def _known_candidates(candidates: list[Arch], objectives: list[Objective]) -> tuple[list[Arch], list[Objective]]:
    """Drop candidates a lookup objective (table, LUT) has no value for; also the objectives that lack some."""
    keep = np.ones(len(candidates), dtype=bool)
    lacking = []
    for objective in objectives:
        values = objective.known_values(candidates)
        if values is not None and not isinstance(objective, CostObjective):
            finite = np.isfinite(values)
            keep &= finite
            lacking += [objective] if not finite.all() else []
    if not keep.any():
        raise InvalidInputError("no candidate architecture has a value in the lookup objectives ("
                                + ", ".join(o.name for o in objectives) + "); check the table or LUT")
    return [a for a, k in zip(candidates, keep) if k], lacking


def _cheap_values(candidates: list[Arch], objectives: list[Objective]) -> np.ndarray | None:
    """``(n, m)`` signed values of the cheap objectives (NaN columns for the others), or None."""
    columns, any_cheap = [], False
    for objective in objectives:
        values = objective.known_values(candidates) if objective.cheap else None
        if values is None or not np.isfinite(values).all():
            columns.append(np.full(len(candidates), np.nan))
        else:
            columns.append(objective.signed(values))
            any_cheap = True
    return np.column_stack(columns) if any_cheap else None


def _feasible_candidates(candidates: list[Arch], constraints: list[Constraint]) -> list[Arch]:
    """The candidates that the cheap constraints allow.

    Only a cheap metric prunes: the searcher must not learn a value it has not evaluated,
    so an expensive constraint (accuracy, even looked up in a table) is left to
    :func:`_evaluate`, trial by trial. Any metric with known values is checked once over
    the whole pool, though: a bound that no candidate meets raises ``InfeasibleError``
    (that tells the user the study is hopeless; it tells the searcher nothing).
    """
    keep = np.ones(len(candidates), dtype=bool)
    for constraint in constraints:
        values = constraint.metric.known_values(candidates)
        if values is None:
            continue
        ok = np.nan_to_num(constraint.slack(values), nan=1.0) <= 0
        if not ok.any():
            finite = values[np.isfinite(values)]
            span = f"values range {finite.min():.4g}..{finite.max():.4g}" if len(finite) else "no known values"
            raise InfeasibleError(f"no architecture meets {constraint.describe()} ({span} over "
                                  f"{len(candidates)} candidates); relax the constraint")
        if constraint.metric.cheap and constraint.prune:
            keep &= ok
    if not keep.any():
        raise InfeasibleError("no architecture meets all cheap constraints together ("
                              + "; ".join(c.describe() for c in constraints if c.metric.cheap) + "); relax one")
    return [a for a, k in zip(candidates, keep) if k]


def _safe(metric: Objective, arch: Arch) -> tuple[float, str | None]:
    try:
        value = float(metric([arch])[0])
    except Exception as error:  # noqa: BLE001 - any failure of a user objective is recorded, not raised
        return math.nan, f"{metric.name}: {type(error).__name__}: {error}"
    problem = value_problem(metric, value)  # not finite, or a user objective's value out of its range
    if problem is not None:
        return math.nan, problem
    return value, None


def _retries(trials: list[Trial]) -> list[tuple[Arch, dict[str, Any]]]:
    """The cells to evaluate once more: each whose only trial failed (a retry is a second trial,
    so no cell is retried twice), in the order they failed, with ``retry_of`` for the report."""
    by_code: dict[int, list[Trial]] = {}
    for trial in trials:
        by_code.setdefault(trial.arch.code, []).append(trial)
    return [(tried[0].arch, {"retry_of": tried[0].trial}) for tried in by_code.values()
            if len(tried) == 1 and tried[0].status == "failed"]


def _evaluate(index: int, arch: Arch, objectives: list[Objective], constraints: list[Constraint],
              report: list[Objective], ask_seconds: float, notes: dict[str, str] | None = None) -> Trial:
    began = time.perf_counter()
    values: dict[str, float] = {}
    errors = []
    for metric in objectives:
        values[metric.name], error = _safe(metric, arch)
        errors += [error] if error else []
    extra: dict[str, Any] = {}
    feasible = True
    for constraint in constraints:
        value = values.get(constraint.name)
        if value is None:
            value, error = _safe(constraint.metric, arch)
            errors += [error] if error else []
            extra[constraint.name] = value
        feasible &= bool(constraint.slack(np.array([value]))[0] <= 0)
    for metric in report:
        extra[metric.name], _ = _safe(metric, arch)
    status = "failed" if errors else "ok"
    extra.update(notes or {})
    extra.update({"feasible": feasible and not errors, "ask_seconds": ask_seconds,
                  "eval_seconds": time.perf_counter() - began})
    return Trial(index, arch, status, values if not errors else
                 {k: v for k, v in values.items() if math.isfinite(v)}, extra, "; ".join(errors) or None)


def _observations(trials: list[Trial], objectives: list[Objective], constraints: list[Constraint]) -> Observations:
    obs = Observations([], np.zeros((0, len(objectives))), np.zeros((0, len(constraints))))
    for trial in trials:
        _append(obs, trial, objectives, constraints)
    return obs


def _append(obs: Observations, trial: Trial, objectives: list[Objective], constraints: list[Constraint]) -> None:
    ok = trial.status == "ok"
    y = [o.signed(trial.objectives.get(o.name, math.nan)) if ok else math.nan for o in objectives]
    s = []
    for c in constraints:
        value = trial.objectives.get(c.name, trial.report.get(c.name, math.nan))
        s.append(float(c.slack(np.array([value if ok and value is not None else math.nan]))[0]))
    obs.archs.append(trial.arch)
    obs.Y = np.vstack([obs.Y, np.array(y, dtype=np.float64).reshape(1, -1)])
    obs.slack = np.vstack([obs.slack, np.array(s, dtype=np.float64).reshape(1, -1)])
