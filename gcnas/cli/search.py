"""``gcnas search``: run a search (resumable), list its trials, and compare runs across methods and seeds."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gcnas.cli._common import (PACKAGED_TABLES, add_common, add_executor_options, add_space, add_truth, arch_ids, emit,
                               emit_judged, load_truth, open_executor, open_store, open_table_arg, true_values)

if TYPE_CHECKING:
    from gcnas.predictors import Truth
    from gcnas.search import Objective, SearchResult

_BOUNDS = (("max_latency_ms", "latency", "latency_ms"), ("max_energy_mj", "energy", "energy_mj"),
           ("max_params_m", "params", "params_m"), ("max_flops_m", "flops", "flops_m"))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("search", help="search the space: BO, random, evolution; compare runs")
    commands = parser.add_subparsers(dest="search_command", metavar="SUBCOMMAND")
    commands.required = True

    run = commands.add_parser(
        "run", help="run or resume a search; every trial goes to the run store as it completes",
        description="Rerunning the same command resumes a killed search without repeating an evaluation.")
    run.add_argument("--method", choices=["bo", "latent-bo", "random", "evolution", "reinforce"], default="bo",
                     help="bo: over every cell of the space; latent-bo: in the run's arch2vec latent space, "
                          "decoding proposals (for spaces too large to list); random; evolution; "
                          "reinforce: an LSTM controller trained by REINFORCE")
    run.add_argument("--budget", type=int, default=100, help="total evaluations (default 100)")
    run.add_argument("--objectives", default="accuracy",
                     help="comma list of accuracy, latency, energy, params, flops (default accuracy)")
    run.add_argument("--accuracy-from", default="lut", metavar="SOURCE",
                     help="lut[:COLUMN] | predictor[:PATH] | table:CSV:COLUMN (default lut)")
    run.add_argument("--trust-pickle", action="store_true",
                     help="--accuracy-from predictor:PATH: also read a predictor file that is a full pickle (saved "
                          "by gcnas 0.1); loading it runs code named in the file, so only from a trusted source")
    run.add_argument("--report-from", action="append", default=[], metavar="COLUMN_SPEC",
                     help="a column recorded with each trial but not searched on (repeatable)")
    run.add_argument("--latency-from", metavar="SOURCE",
                     help="table:CSV:COLUMN | lut | CSV:COLUMN | measured | hwnb:PICKLE:DEVICE | imc (the IMC "
                          "crossbar model, any space)")
    run.add_argument("--energy-from", default=None, metavar="SOURCE",
                     help="model | lut | imc | measured | hwnb:PICKLE:DEVICE (default: model where the analytic "
                          "energy model covers the space, nb201; lut elsewhere)")
    run.add_argument("--allow-range", action="append", default=[], metavar="NAME:LOW:HIGH",
                     help="accept table values in [LOW, HIGH] for the objective or column NAME (repeatable; LOW or "
                          "HIGH may be empty). Values read from a table must be finite and, by default, in the range "
                          "of their metric: accuracies [0, 100], latency/energy/params/flops > 0; a value outside it "
                          "stops the command, naming the row")
    for flag, _, unit in _BOUNDS:
        run.add_argument("--" + flag.replace("_", "-"), type=float, metavar="X", help=f"constraint {unit} <= X")
    run.add_argument("--confidence", type=float, default=0.9, metavar="C",
                     help="confidence of a bound on a cost the lookup table predicts for some cells (--latency-from "
                          "lut on a table built with --latency predictor:NAME): each predicted cell's upper end at "
                          "this confidence must meet the bound, measured cells count as they are (default 0.9; "
                          "0 = the point estimate)")
    run.add_argument("--features", default=None,
                     help="BO features: arch2vec | onehot | stats | zc (params, FLOPs, synflow of the run's "
                          "features table) | zc:NAME,NAME | FILE.npz, or several joined with '+'; on any space: "
                          "onehot | graph | costs (default arch2vec+stats on nb201, arch2vec needing `gcnas "
                          "encoder pretrain`; graph+costs on another space)")
    run.add_argument("--acquisition", choices=["auto", "qlognei", "qlognehvi", "pareto"], default="auto",
                     help="BO acquisition (default auto: qLogNEI for one objective; the probability of being "
                          "Pareto-optimal when only accuracy must be evaluated and the costs are looked up; "
                          "qLogNEHVI otherwise)")
    run.add_argument("--n-init", type=int, default=10, help="random initial design of BO (default 10)")
    run.add_argument("--memory-buffer", type=int, default=0, metavar="N",
                     help="reinforce: also fit the controller to N past cells at each update (default 0: off)")
    run.add_argument("--entropy-weight", type=float, default=0.0, help="reinforce: entropy bonus (default 0)")
    run.add_argument("--penalty", type=float, default=1.0, metavar="X",
                     help="reinforce: reward lost per unit a cell breaks a bound by (RENA; default 1)")
    run.add_argument("--cheap-bounds", choices=["auto", "prune", "evaluate"], default="auto",
                     help="bounds on looked-up costs (--max-latency-ms ...): prune drops the cells that break them "
                          "before the search; evaluate keeps them, so a proposal may break a bound and is recorded "
                          "infeasible (what the reinforce penalty learns from); auto: evaluate for reinforce, "
                          "prune otherwise")
    run.add_argument("--q", type=int, default=1, help="batch size of each proposal (default 1)")
    add_executor_options(run, "evaluate", note=", asynchronously: each finished trial is stored at once and the "
                         "free worker gets a new proposal")
    run.add_argument("--study", help="study name in the run store (default: the method)")
    run.add_argument("--ref-point", help="hypervolume reference point, one value per objective, comma separated")
    run.add_argument("--plot", metavar="FILE", help="write the best-so-far curve (or Pareto scatter) here")
    add_truth(run)
    add_space(run)
    add_common(run)
    run.set_defaults(handler=search_run)

    compare = commands.add_parser(
        "compare", help="compare studies across runs, methods and seeds",
        description="Studies of the same name in several run directories are seeds of one method: "
                    "prints the median incumbent at each query count, and optionally plots the curves.")
    compare.add_argument("runs", nargs="*", metavar="RUN_DIR", help="run directories (default: --run)")
    compare.add_argument("--column", help="incumbent column to compare (default: the primary objective; "
                         "e.g. test_acc from --report-from)")
    compare.add_argument("--at", default="25,50,100,150", help="query counts to report (default 25,50,100,150)")
    compare.add_argument("--ref-point", help="also report the median hypervolume at this reference point")
    compare.add_argument("--plot", metavar="FILE", help="write median best-so-far curves with IQR bands")
    add_common(compare)
    compare.set_defaults(handler=search_compare)

    trials = commands.add_parser(
        "trials", help="every trial of a study: arch, official index, objectives, report columns, status, timings",
        description="Lists every trial of a study in evaluation order, failed ones included. --format csv or json "
                    "(strict: missing values are empty / null) for spreadsheets and notebooks.")
    trials.add_argument("--study", help="study name (default: the run's only study)")
    trials.add_argument("--table", metavar="TABLE", help="benchmark table giving each cell's official index "
                        "(default: the packaged NAS-Bench-201 table)")
    add_space(trials)
    add_common(trials, formats=("table", "json", "csv"))
    trials.set_defaults(handler=search_trials)


def _floats(text: str | None, what: str) -> list[float] | None:
    from gcnas.exceptions import InvalidInputError

    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInputError(f"{what} must be comma-separated numbers, got {text!r}") from None


def _problem(args: argparse.Namespace, store):
    from gcnas.exceptions import InvalidInputError
    from gcnas.data.table_specs import COLUMN_SPECS, is_column_spec
    from gcnas.search import Constraint, LUTObjective
    from gcnas.search.specs import check_ranges_used, cost_objective, objective_from_spec, parse_value_ranges

    names = [n.strip() for n in args.objectives.split(",") if n.strip()]
    if not names or len(set(names)) != len(names):
        raise InvalidInputError(f"--objectives must list distinct names, got {args.objectives!r}")
    ranges = parse_value_ranges(args.allow_range)
    energy = args.energy_from
    if energy is None:  # the analytic model where it knows the space's cells, else the lookup table's column
        from gcnas.predictors.lut import hardware_covers

        energy = "model" if hardware_covers(store.space) else "lut"
    costs = {"latency": args.latency_from, "energy": energy, "store": store, "ranges": ranges}
    objectives = []
    for name in names:
        if name == "accuracy":
            objectives.append(objective_from_spec(args.accuracy_from, name="accuracy", store=store, ranges=ranges,
                                                  trust_pickle=getattr(args, "trust_pickle", False)))
        else:
            objectives.append(cost_objective(name, **costs))
    by_name = {o.name: o for o in objectives}
    constraints = []
    for flag, short, column in _BOUNDS:
        bound = getattr(args, flag)
        if bound is not None:
            metric = by_name.get(column) or cost_objective(short, **costs)
            if isinstance(metric, LUTObjective) and args.confidence:  # checked on the upper end, own name
                upper = LUTObjective(f"{column}_upper", False, cheap=True, store=store, column=metric.column,
                                     confidence=args.confidence)
                metric = upper if upper.widens() else metric
            prune = args.cheap_bounds == "prune" or (args.cheap_bounds == "auto" and args.method != "reinforce")
            constraints.append(Constraint(metric, upper=bound, prune=prune))
    report = []
    for spec in args.report_from:
        if not is_column_spec(spec):
            raise InvalidInputError(f"--report-from takes a table column ({', '.join(COLUMN_SPECS)}), got {spec!r}")
        report.append(objective_from_spec(spec, store=store, ranges=ranges))
    check_ranges_used(ranges, [*objectives, *(c.metric for c in constraints), *report])
    return objectives, constraints, report


def _truth_report(truth: Truth, report: list[Objective]) -> list[Objective]:
    """Record the truth with each trial, as a report objective the searcher never sees.

    Args:
        truth: The ``--truth``.
        report: The ``--report-from`` objectives.

    Returns:
        ``report`` plus a ``true_<column>`` table objective, unless a ``--report-from``
        already records that column of that table.
    """
    from pathlib import Path

    from gcnas.search import TableObjective

    def same_file(a: Path | None, b: Path | None) -> bool:
        return a is not None and b is not None and Path(a).resolve() == Path(b).resolve()

    for metric in report:
        if isinstance(metric, TableObjective) and metric.column == truth.column and same_file(
                metric.table.path, truth.table.path):
            return report
    return [*report, TableObjective(truth.name, table=truth.table, column=truth.column)]


def _judge_trials(truth: Truth, result: SearchResult) -> dict[str, Any] | None:
    """The truth's judgement of the accuracy objective over every successful trial.

    Args:
        truth: The ``--truth``.
        result: The finished search.

    Returns:
        :meth:`Truth.judge` of the trials' ``accuracy`` values, or ``None`` when the search
        has no accuracy objective.
    """
    if "accuracy" not in result.objectives:
        return None
    trials = [t for t in result.trials if t.status == "ok" and "accuracy" in t.objectives]
    return truth.judge([t.arch for t in trials], [t.objectives["accuracy"] for t in trials])


def _space_options(method: str, store) -> dict[str, Any]:
    """The searcher's ``space`` (and, for a space that cannot be listed, its ``candidates``: the
    cells of the run's pooled lookup table) in a run over another space than the default."""
    from gcnas.data.store import DEFAULT_SPACE

    if store.space_name == DEFAULT_SPACE or method == "latent-bo":
        return {}
    options: dict[str, Any] = {"space": store.space}
    if store.space.size() is None and store.lut_size() and method != "reinforce":
        from gcnas.predictors import LookupTable

        options["candidates"] = LookupTable(store).predictions(distinct=True)[0]
    return options


def search_run(args: argparse.Namespace) -> int:
    """``gcnas search run``: the store is opened writable, so a read-only one is refused before the
    first evaluation, and closed whatever happens, which gives back the study's writer lock."""
    from gcnas.search.checks import notices_to_stderr

    with open_store(args, mode="rw") as store, notices_to_stderr("gcnas search"):
        return _search_run(args, store)


def _search_run(args: argparse.Namespace, store) -> int:
    import warnings

    import numpy as np

    from gcnas.exceptions import InvalidInputError
    from gcnas.search import make_searcher, run_search
    from gcnas.search.checks import notices_to_stderr
    from gcnas.spaces import DEFAULT_SPACE

    warnings.filterwarnings("ignore", module="botorch")
    warnings.filterwarnings("ignore", module="linear_operator")
    truth = load_truth(args)
    objectives, constraints, report = _problem(args, store)
    if truth is not None:
        report = _truth_report(truth, report)  # recorded with each trial; the searcher never sees it
    ref = _floats(args.ref_point, "--ref-point")
    if ref is not None and len(ref) != len(objectives):
        raise InvalidInputError(f"--ref-point needs {len(objectives)} values (one per objective), got {len(ref)}")
    if args.method == "bo":
        # the default of each space is what ranked best on its benchmark (docs/search.md)
        features = args.features or ("arch2vec+stats" if store.space_name == DEFAULT_SPACE else "graph+costs")
        kwargs = {"features": features, "n_init": args.n_init, "store": store, "acquisition": args.acquisition}
    elif args.method == "latent-bo":
        from gcnas.encoders import load_pretrained

        kwargs = {"encoder": load_pretrained(store), "n_init": args.n_init}
    elif args.method == "reinforce":
        kwargs = {"memory_buffer": args.memory_buffer, "entropy_weight": args.entropy_weight,
                  "penalty": args.penalty, "seed": args.seed}
    else:
        kwargs = {}
    kwargs.update(_space_options(args.method, store))
    searcher = make_searcher(args.method, **kwargs)
    study = args.study or args.method
    with open_executor(args) as executor, notices_to_stderr("gcnas search"):  # rows left out, short of budget
        result = run_search(searcher, objectives, budget=args.budget, store=store, study=study,
                            constraints=constraints, report=report, q=args.q, seed=args.seed, progress=True,
                            executor=executor)
    failed = int((~result.ok).sum())
    if not result.feasible.any():
        raise InvalidInputError(f"none of the {len(result)} evaluated architectures met the constraints "
                                f"({failed} failed); trials are kept in study {study!r}")
    report_names = [r.name for r in report if truth is None or r.name != truth.name]
    summary: dict[str, Any] | None = None
    if len(objectives) == 1:
        best = result.trials[int(result.incumbent_index()[-1])]
        picks = [best]
        rows = [{"study": study, "trials": len(result), "failed": failed,
                 **{k: v for k, v in arch_ids(store.space, best.arch).items() if k == "index"},
                 "arch": store.space.format(best.arch),
                 **best.objectives, **{n: best.report.get(n) for n in report_names}}]
        if args.plot:
            from gcnas.search import plot_best_so_far

            column = report_names[0] if report_names else objectives[0].name
            plot_best_so_far({study: [result.best_so_far(column)]}, args.plot, ylabel=f"{column} of incumbent")
    else:
        front = picks = result.pareto_front()
        rows = [{"trial": t.trial, **{k: v for k, v in arch_ids(store.space, t.arch).items() if k == "index"},
                 "arch": store.space.format(t.arch), **t.objectives,
                 **{n: t.report.get(n) for n in report_names}} for t in front]
        if ref is not None:
            hv = float(result.hypervolume_curve(ref)[-1])
            if hv <= 0:
                raise InvalidInputError(f"no evaluated architecture dominates the reference point {ref}; "
                                        "choose a point worse in every objective")
            summary = {"hypervolume": hv, "ref_point": list(ref)}
        if args.plot:
            from gcnas.search import plot_pareto

            Y = np.column_stack([result.values(o.name) for o in objectives[:2]])
            F = np.array([[t.objectives[o.name] for o in objectives[:2]] for t in front])
            plot_pareto({study: Y[:, ::-1], "Pareto front": F[:, ::-1]}, args.plot,
                        xlabel=objectives[1].name, ylabel=objectives[0].name)
    if args.format == "json":  # what the checks found, recorded with the run (docs/search.md, "Checked values")
        ran = store.stage(f"search:{study}") or {}
        checked = {"short_of_budget": ran.get("short_of_budget", 0), "rows_left_out": ran.get("rows_left_out", {})}
        if len(objectives) == 1:
            rows[0].update(checked)
        elif any(checked.values()):
            summary = {**(summary or {}), **checked}
    judgement = None
    if truth is not None:  # after the search: the true value of each pick and the ranking of all trials
        for row, value in zip(rows, true_values(truth, [t.arch for t in picks])):
            row[truth.name] = value
        judgement = _judge_trials(truth, result)
    emit_judged(rows, args.format, truth, judgement, summary=summary)
    return 0


def search_compare(args: argparse.Namespace) -> int:
    import numpy as np

    from gcnas.cli._common import read_store
    from gcnas.exceptions import InvalidInputError
    from gcnas.search import SearchResult

    runs = args.runs or [args.run]
    at = [int(v) for v in _floats(args.at, "--at")]
    ref = _floats(args.ref_point, "--ref-point")
    groups: dict[str, list[SearchResult]] = {}
    for run in runs:
        with read_store(run) as store:  # only reads: a read-only run is read as it is, a missing one refused
            for study in store.studies():
                groups.setdefault(study, []).append(SearchResult.load(store, study))
    if not groups:
        raise InvalidInputError(f"no search studies in {', '.join(runs)}; run `gcnas search run` first")
    rows, curves = [], {}
    for label, results in sorted(groups.items()):
        column = args.column or results[0].objectives[0]
        curves[label] = [r.best_so_far(column) for r in results]
        row = {"method": label, "runs": len(results), "column": column}
        for n in at:
            values = [c[n - 1] for c in curves[label] if len(c) >= n]
            row[f"@{n}"] = float(np.nanmedian(values)) if values else None
        if ref is not None:
            if len(ref) != len(results[0].objectives):
                raise InvalidInputError(f"--ref-point needs {len(results[0].objectives)} values for study {label!r} "
                                        f"({', '.join(results[0].objectives)}), got {len(ref)}")
            volumes = [r.hypervolume_curve(ref)[-1] for r in results]
            if max(volumes) <= 0:
                raise InvalidInputError(f"no architecture of study {label!r} dominates the reference point {ref}; "
                                        "choose a point worse in every objective")
            row["hypervolume"] = float(np.median(volumes))
        rows.append(row)
    if args.plot:
        from gcnas.search import plot_best_so_far

        plot_best_so_far(curves, args.plot, ylabel=f"{rows[0]['column']} of incumbent")
    emit(rows, args.format)
    return 0


def search_trials(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.search import SearchResult

    with open_store(args) as store:
        # the space's packaged table knows every official index (a space without one: no index column)
        packaged = PACKAGED_TABLES.get(store.space_name)
        table = open_table_arg(args.table or packaged) if (args.table or packaged) else None
        study = args.study
        if study is None:
            studies = store.studies()
            if len(studies) != 1:
                raise InvalidInputError(f"run {args.run} holds {len(studies)} search studies "
                                        f"({', '.join(studies) or 'none'}); name one with --study")
            study = studies[0]
        result = SearchResult.load(store, study)
    records = result.to_records(table)
    if args.format == "table":
        columns = [c for c in records[0] if c != "index" or table is not None]
        emit(records, "table", columns)
        failed = sum(r["status"] != "ok" for r in records)
        print(f"study {study!r}: {len(records)} trials, {failed} failed")
    else:
        emit(records, args.format)
    return 0
