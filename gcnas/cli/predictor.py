"""``gcnas predictor``: fit a performance predictor and evaluate its ranking."""

from __future__ import annotations

import argparse
import sys
import time

from gcnas.cli._common import add_common, add_truth, emit, judgement_line, judgement_record, load_truth, open_store

MODELS = ("gcn", "mlp", "gbt", "gp")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predictor", help="fit and evaluate accuracy / latency predictors")
    commands = parser.add_subparsers(dest="predictor_command", metavar="SUBCOMMAND")
    commands.required = True

    fit = commands.add_parser(
        "fit", help="fit a predictor to supernet samples or a table column -> RUN/predictor.pt",
        description="Fit to the run store's scored sub-networks (--samples) or to K architectures "
                    "drawn (seeded) from a benchmark table column (--table CSV --metric COL --num-train K).")
    fit.add_argument("--model", choices=MODELS, default="gcn", help="predictor (default gcn)")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", nargs="?", const="supernet", metavar="SOURCE",
                        help="fit to the run store's samples of SOURCE (default 'supernet')")
    source.add_argument("--table", metavar="CSV", help="benchmark table (index,arch,<metrics>)")
    fit.add_argument("--metric", default="valid_acc", help="table column to fit (default valid_acc)")
    fit.add_argument("--num-train", type=int, default=100, metavar="K",
                     help="architectures drawn from the table (default 100; 0 = all)")
    fit.add_argument("--ensemble", type=int, help="ensemble members (gcn, mlp, gbt)")
    fit.add_argument("--epochs", type=int, help="most training epochs (gcn, mlp)")
    add_common(fit)
    fit.set_defaults(handler=fit_command)

    evaluate = commands.add_parser(
        "eval", help="Kendall tau, Spearman, precision@k of RUN/predictor.pt against a table column",
        description="Ranks every architecture of the table that the predictor was not trained on. The table "
                    "is --table CSV --metric COL, or --truth table:CSV:COLUMN; given both, the cells of --table "
                    "are ranked and also judged against --truth.")
    evaluate.add_argument("--table", metavar="CSV", help="benchmark table with the truth")
    evaluate.add_argument("--metric", help="true column of --table (default test_acc)")
    evaluate.add_argument("--include-train", action="store_true",
                          help="also rank the training architectures")
    add_truth(evaluate)
    add_common(evaluate)
    evaluate.set_defaults(handler=eval_command)


def _training_set(args: argparse.Namespace, store) -> tuple[list, list, str]:
    from gcnas.data import BenchmarkTable
    from gcnas.exceptions import InvalidInputError
    from gcnas.space import as_generator

    if args.samples is not None:
        samples = store.samples(args.samples)
        if not samples:
            raise InvalidInputError(
                f"run {args.run!r} has no samples from {args.samples!r}; score sub-networks with "
                "`gcnas supernet sample --num K` first, or fit to a table with --table CSV --metric COL")
        return [s.arch for s in samples], [s.accuracy for s in samples], f"samples:{args.samples}"
    table = BenchmarkTable(args.table)
    values = table.column(args.metric)
    if args.num_train < 0 or args.num_train > len(table):
        raise InvalidInputError(f"--num-train must be in 0..{len(table)} (the table's rows), got {args.num_train}")
    count = args.num_train or len(table)
    rows = as_generator(args.seed).choice(len(table), size=count, replace=False)
    archs = table.archs
    return [archs[r] for r in rows], [float(values[r]) for r in rows], f"table:{args.table}:{args.metric}"


def fit_command(args: argparse.Namespace) -> int:
    from gcnas.predictors import PREDICTOR_FILE, kendall_tau, make_predictor

    store = open_store(args)
    archs, y, source = _training_set(args, store)
    options = {"seed": args.seed}
    if args.model in ("gcn", "mlp"):
        options["progress"] = sys.stderr.isatty()
        if args.epochs is not None:
            options["epochs"] = args.epochs
    if args.ensemble is not None and args.model != "gp":
        options["ensemble"] = args.ensemble
    started = time.perf_counter()
    predictor = make_predictor(args.model, **options).fit(archs, y)
    seconds = time.perf_counter() - started
    path = predictor.save(store.run_dir / PREDICTOR_FILE)
    info = {"model": args.model, "source": source, "n_train": len(archs), "params": predictor.get_params(),
            "train_codes": [a.code for a in archs]}
    store.finish_stage("predictor", info, seconds)
    emit({"model": args.model, "source": source, "n_train": len(archs),
          "train_kendall_tau": round(kendall_tau(y, predictor.predict(archs)), 4),
          "seconds": round(seconds, 2), "saved": str(path)}, args.format)
    return 0


def _eval_table(args: argparse.Namespace, truth) -> tuple:
    """The table and column ``predictor eval`` ranks: ``--table``/``--metric``, else ``--truth``'s."""
    from gcnas.data import BenchmarkTable
    from gcnas.exceptions import InvalidInputError

    if args.table is not None:
        return BenchmarkTable(args.table), args.metric or "test_acc"
    if truth is None:
        raise InvalidInputError("predictor eval needs the true values: --table CSV [--metric COL] "
                                "or --truth table:CSV:COLUMN")
    if args.metric is not None:
        raise InvalidInputError(f"--metric {args.metric!r} names a column of --table, which is not given; "
                                "with --truth alone write the column into it: table:CSV:COLUMN")
    return truth.table, truth.column


def eval_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.predictors import PREDICTOR_FILE, load_predictor, ranking_report

    truth = load_truth(args)
    table, metric = _eval_table(args, truth)
    store = open_store(args)
    predictor = load_predictor(store.run_dir / PREDICTOR_FILE)
    values = table.column(metric)
    trained = set() if args.include_train else set((store.stage("predictor") or {}).get("train_codes", []))
    keep = [i for i, a in enumerate(table.archs) if a.code not in trained and values[i] == values[i]]
    if len(keep) < 2:
        raise InvalidInputError(f"{str(table.path)!r} has fewer than 2 architectures with a {metric} value "
                                "outside the training set; nothing to rank")
    archs = [table.archs[i] for i in keep]
    predicted = predictor.predict(archs)
    report = ranking_report(values[keep], predicted)
    record = {"model": predictor.name, "metric": metric,
              **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.items()}}
    if truth is None:
        emit(record, args.format)
        return 0
    judgement = truth.judge(archs, predicted)  # after predicting: the truth is only reported
    if args.format == "json":
        emit({**record, "truth": judgement_record(truth, judgement)}, "json")
    else:
        emit(record, args.format)
        print(judgement_line(truth, judgement))
    return 0
