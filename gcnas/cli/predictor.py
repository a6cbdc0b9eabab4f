"""``gcnas predictor``: fit a performance predictor and evaluate its ranking."""

from __future__ import annotations

import argparse
import math
import sys
import time

from gcnas.cli._common import (add_common, add_truth, emit, judgement_line, judgement_record, load_truth, open_store,
                               open_table_arg)

MODELS = ("gcn", "mlp", "gbt", "gp")

TRUST_PICKLE_HELP = ("also read a predictor file that is a full pickle (one saved by gcnas 0.1 holding more than "
                     "tensors, e.g. a GBT predictor): loading it runs code named in the file, so only for a file "
                     "from a source you trust; without it such a file is refused")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predictor", help="fit and evaluate accuracy / latency predictors")
    commands = parser.add_subparsers(dest="predictor_command", metavar="SUBCOMMAND")
    commands.required = True

    fit = commands.add_parser(
        "fit", help="fit a predictor to supernet samples, measured latencies or a table column",
        description="Fit to the run store's scored sub-networks (--samples), to the latencies measured by "
                    "`gcnas hw measure` (--from measured[:DEVICE]), or to K architectures drawn (seeded) from a "
                    "benchmark table column (--table CSV --metric COL [--num-train K]; cells without a value are "
                    "skipped). Latency targets must be finite and >= 0, as in `gcnas lut build`. Writes "
                    "RUN/predictor.pt, or RUN/predictors/NAME.pt with --name.")
    fit.add_argument("--model", choices=MODELS, default="gcn", help="predictor (default gcn)")
    fit.add_argument("--target", choices=("accuracy", "latency"), default="accuracy",
                     help="what the predictor predicts (default accuracy); a latency predictor fills the lookup "
                          "table's latency with `gcnas lut build --latency predictor:NAME`")
    fit.add_argument("--name", default=None, metavar="NAME",
                     help="keep the predictor as RUN/predictors/NAME.pt (default: RUN/predictor.pt, the accuracy "
                          "predictor that `lut build` uses); required with --target latency")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", nargs="?", const="supernet", metavar="SOURCE",
                        help="fit to the run store's samples of SOURCE (default 'supernet')")
    source.add_argument("--from", dest="from_store", metavar="measured[:DEVICE]",
                        help="fit to the latencies measured in this run by `gcnas hw measure` (DEVICE cpu, the "
                             "default, or cuda)")
    source.add_argument("--table", metavar="TABLE",
                        help="benchmark table: a CSV (index and/or arch, <metrics>), nb201:cifar10 (packaged: "
                             "valid_acc, test_acc), nb201:latency (packaged: pixel3, fpga, eyeriss) or "
                             "natsbench:PATH:DATASET[:HP]")
    fit.add_argument("--metric", default="valid_acc", help="table column to fit (default valid_acc)")
    fit.add_argument("--num-train", type=int, default=None, metavar="K",
                     help="architectures drawn from the table (0 = all). Default: all of them for --target latency "
                          "and for your own CSV; 100 from a benchmark (nb201:..., natsbench:...), whose every "
                          "cell would be known")
    fit.add_argument("--ensemble", type=int,
                     help="ensemble members (gcn, mlp, gbt); with --target latency the cross-conformal folds "
                          "(default 5, at least 2): one model per fold, fitted without it, calibrates the intervals")
    fit.add_argument("--epochs", type=int, help="most training epochs (gcn, mlp)")
    add_common(fit)
    fit.set_defaults(handler=fit_command)

    fuse = commands.add_parser(
        "fuse", help="fit RUN/predictor.pt to the fused ranking: supernet scores, zero-cost proxies and anchors",
        description="After `gcnas supernet sample`: computes params and the zero-cost proxies of the scored cells "
                    "(cached in the run store), trains --anchors cells from scratch with a short schedule on the "
                    "supernet's images (kept under RUN/anchors/, resumable), fuses the supernet score and the "
                    "proxies into one ranking weighted and scaled on the anchors, and fits the GCN to it: "
                    "RUN/predictor.pt, what `gcnas lut build` reads. Cells without a live convolution rank last.")
    fuse.add_argument("--anchors", type=int, default=20, metavar="L",
                      help="cells trained from scratch (default 20; 0: a plain rank average, nothing trained)")
    fuse.add_argument("--proxies", default="params,synflow,naswot,jacov", metavar="LIST",
                      help="cheap features fused beside the supernet score (default params,synflow,naswot,jacov; "
                           "also flops)")
    fuse.add_argument("--anchor-epochs", type=int, default=3, help="epochs of each anchor (default 3)")
    fuse.add_argument("--anchor-steps", type=int, default=150, help="steps per anchor epoch (default 150)")
    fuse.add_argument("--proxy-channels", type=int, default=16,
                      help="channels of the network the proxies run on (default 16, NAS-Bench-201's)")
    fuse.add_argument("--proxy-cells", type=int, default=5, help="cells per stage of that network (default 5)")
    fuse.add_argument("--data-root", default=None, metavar="DIR",
                      help="the images (default: the ones the supernet was trained on)")
    fuse.add_argument("--device", default="cpu", help="where the anchors train: cpu, cuda or auto")
    fuse.add_argument("--ensemble", type=int, help="GCN ensemble members")
    fuse.add_argument("--epochs", type=int, help="most GCN training epochs")
    add_truth(fuse)
    add_common(fuse)
    fuse.set_defaults(handler=fuse_command)

    evaluate = commands.add_parser(
        "eval", help="Kendall tau, Spearman, precision@k of RUN/predictor.pt against a table column",
        description="Ranks every architecture of the table that the predictor was not trained on. The table "
                    "is --table CSV --metric COL, or --truth table:CSV:COLUMN; given both, the cells of --table "
                    "are ranked and also judged against --truth.")
    evaluate.add_argument("--table", metavar="TABLE",
                          help="benchmark table with the truth: a CSV, nb201:cifar10 or natsbench:PATH:DATASET[:HP]")
    evaluate.add_argument("--metric", help="true column of --table (default test_acc)")
    evaluate.add_argument("--include-train", action="store_true",
                          help="also rank the training architectures")
    evaluate.add_argument("--name", default=None, metavar="NAME",
                          help="evaluate RUN/predictors/NAME.pt (default RUN/predictor.pt)")
    evaluate.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)
    add_truth(evaluate)
    add_common(evaluate)
    evaluate.set_defaults(handler=eval_command)


def _training_set(args: argparse.Namespace, store) -> tuple[list, list, str]:
    from gcnas.exceptions import InvalidInputError
    from gcnas.hardware.sources import check_costs
    from gcnas.spaces.nb201 import as_generator

    if args.from_store is not None:
        import math

        from gcnas.hardware.latency import measurement_key
        from gcnas.spaces.nb201 import Arch

        kind, _, device = args.from_store.partition(":")
        if kind != "measured":
            raise InvalidInputError(f"--from takes measured[:DEVICE], got {args.from_store!r}")
        key = measurement_key(device or "cpu")
        measured = {c: v for c, (v, _) in store.costs("latency_ms", key).items() if math.isfinite(v)}
        if not measured:
            raise InvalidInputError(f"run {args.run!r} has no latency measured on {key!r}; run "
                                    f"`gcnas hw measure --num K --run {args.run}` first")
        codes = sorted(measured)
        return [Arch.from_code(c) for c in codes], [measured[c] for c in codes], f"measured:{key}"
    if args.samples is not None:
        samples = store.samples(args.samples)
        if not samples:
            raise InvalidInputError(
                f"run {args.run!r} has no samples from {args.samples!r}; score sub-networks with "
                "`gcnas supernet sample --num K` first, or fit to a table with --table CSV --metric COL")
        values = [s.accuracy for s in samples]
        if args.target != "accuracy":
            check_costs(values, TARGET_COLUMNS[args.target], f"samples:{args.samples}")
        return [s.arch for s in samples], values, f"samples:{args.samples}"
    import numpy as np

    table = open_table_arg(args.table)
    values = np.asarray(table.column(args.metric), dtype=np.float64)
    valued = np.flatnonzero(~np.isnan(values))  # a partial table: cells without a value are skipped
    source = f"table:{args.table}:{args.metric}"
    if args.target != "accuracy":  # every value, before a draw could leave one out; named as `lut build` does
        check_costs(values[valued], TARGET_COLUMNS[args.target], f"{args.table}:{args.metric}")
    num_train = _default_num_train(args) if args.num_train is None else args.num_train
    if num_train < 0 or num_train > len(valued):
        raise InvalidInputError(f"--num-train must be in 0..{len(valued)} (the table's rows with a "
                                f"{args.metric} value), got {num_train}")
    count = num_train or len(valued)
    rows = valued[as_generator(args.seed).choice(len(valued), size=count, replace=False)]
    archs = table.archs
    return [archs[r] for r in rows], [float(values[r]) for r in rows], source


BENCHMARK_TABLES = ("nb201", "natsbench")
"""``--table`` prefixes of published benchmarks: tables whose every cell is known, where a
predictor fit to all of them would be pointless; ``--num-train`` draws 100 of them by default."""

TARGET_COLUMNS = {"latency": "latency_ms"}
"""Cost targets and the cost each one is (checked as ``gcnas lut build`` checks it)."""


def _default_num_train(args: argparse.Namespace) -> int:
    """``--num-train`` when not given: 0 (every row) for a cost target or a user's own table,
    100 from a benchmark table."""
    benchmark = args.table.partition(":")[0] in BENCHMARK_TABLES
    return 100 if args.target == "accuracy" and benchmark else 0


def fit_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.predictors import kendall_tau, make_predictor, predictor_path, predictor_stage

    if args.target == "latency" and not args.name:
        raise InvalidInputError("a latency predictor needs a name, so it does not replace the accuracy "
                                "predictor: add --name DEVICE (e.g. --name pixel3)")
    store = open_store(args)
    predictor_path(store.run_dir, args.name)  # a bad name fails before any training
    archs, y, source = _training_set(args, store)
    options = {"seed": args.seed}
    if args.model in ("gcn", "mlp"):
        options["progress"] = True  # a bar on a terminal, log lines when piped (gcnas.progress)
        if args.epochs is not None:
            options["epochs"] = args.epochs
    if args.ensemble is not None and args.model != "gp":
        options["ensemble"] = args.ensemble
    started = time.perf_counter()
    if args.target in TARGET_COLUMNS:  # a cost: calibrated intervals (cross-conformal), see gcnas.predictors.conformal
        from gcnas.predictors import LATENCY_GCN, ConformalPredictor

        inner = {**(LATENCY_GCN if args.model == "gcn" else {}),
                 **{k: v for k, v in options.items() if k not in ("seed", "ensemble", "progress")}}
        predictor = ConformalPredictor(model=args.model, model_params=inner, folds=max(2, options.get("ensemble", 5)),
                                       seed=args.seed).fit(archs, y)
    else:
        predictor = make_predictor(args.model, **options).fit(archs, y)
    seconds = time.perf_counter() - started
    path = predictor.save(predictor_path(store.run_dir, args.name))
    info = {"model": args.model, "target": args.target, "name": args.name, "source": source, "n_train": len(archs),
            "params": predictor.get_params(), "train_codes": [a.code for a in archs],
            "train_values": [float(v) for v in y]}
    store.finish_stage(predictor_stage(args.name), info, seconds)
    emit({"model": args.model, "target": args.target, "source": source, "n_train": len(archs),
          "train_kendall_tau": round(kendall_tau(y, predictor.predict(archs)), 4),
          **_interval_record(predictor), "seconds": round(seconds, 2), "saved": str(path)}, args.format)
    return 0


def _interval_record(predictor) -> dict[str, str]:
    """The calibrated interval of a cost predictor at 90% confidence, as the fit prints it."""
    if not hasattr(predictor, "calibration"):
        return {}
    from gcnas.predictors import conformal_quantile

    scores = predictor.calibration()["scores"]
    if len(scores) < 9:
        return {}
    low, high = conformal_quantile(scores, 0.9, upper=False), conformal_quantile(scores, 0.9)
    if predictor.scale == "log":
        return {"interval_90": f"x{math.exp(low):.3f} .. x{math.exp(high):.3f} of the prediction "
                               f"(cross-conformal, {len(scores)} rows)"}
    return {"interval_90": f"{low:+.4g} .. {high:+.4g} (cross-conformal, {len(scores)} rows)"}


def fuse_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.predictors.features import ProxySettings
    from gcnas.predictors.fused_run import AnchorSchedule, fit_fused_predictor
    from gcnas.supernet import load_supernet, scoring_data

    truth = load_truth(args)
    if args.anchors < 0:
        raise InvalidInputError(f"--anchors must be 0 or more, got {args.anchors}")
    trained = load_supernet(args.run)
    data = scoring_data(trained, args.data_root)
    shape = trained.config
    schedule = AnchorSchedule(epochs=args.anchor_epochs, steps_per_epoch=args.anchor_steps,
                              channels=int(shape.get("channels", 16)), cells=int(shape.get("cells", 1)),
                              batch_size=int(shape.get("batch_size", 64)))  # the supernet's, as the demo's anchors
    gcn = {k: v for k, v in (("ensemble", args.ensemble), ("epochs", args.epochs)) if v is not None}
    store = open_store(args)
    started = time.perf_counter()
    info = fit_fused_predictor(store, data, anchors=args.anchors, proxies=args.proxies,
                               proxy_settings=ProxySettings(channels=args.proxy_channels, cells=args.proxy_cells,
                                                            num_classes=data.num_classes),
                               schedule=schedule, gcn=gcn, seed=args.seed, device=args.device,
                               data_root=args.data_root or shape.get("data_root"),
                               progress=True, log=lambda m: print(m, file=sys.stderr, flush=True))
    seconds = time.perf_counter() - started
    rows = [{"signal": name, "weight": round(weight, 4)} for name, weight in info["weights"].items()]
    if truth is not None:  # read only now, after the fit: the fused ranking beside its ingredients
        import numpy as np

        from gcnas.predictors.fused_run import fused_ingredients

        fused = store.samples("fused")
        archs = [f.arch for f in fused]
        rankings = {"fused": np.array([f.accuracy for f in fused]), **fused_ingredients(fused)}
        judged = {name: truth.judge(archs, values) for name, values in rankings.items()}
        for row in rows:
            row[f"tau vs {truth.name}"] = round(judged[row["signal"]]["kendall_tau"], 4)
        rows.append({"signal": "fused", "weight": None, f"tau vs {truth.name}": round(judged["fused"]["kendall_tau"], 4)})
    summary = {"anchors": len(info["anchors"]), "anchor_tau": info["anchor_tau"], "guarded": info["guarded"],
               "gcn_heldout_tau": info["kendall_tau"], "seconds": round(seconds, 1),
               "accuracy_column": info["accuracy_column"]}
    if args.format == "json":
        emit({**summary, "weights": info["weights"], "anchor_cells": info["anchors"],
              **({"signals": rows} if truth is not None else {})}, "json")
    else:
        emit(rows, "table")
        print(f"{summary['anchors']} anchors (fused vs anchors in-sample tau {summary['anchor_tau']:.3f}), "
              f"{summary['guarded']} cells without a live convolution ranked last; GCN vs fused values (held-out) "
              f"tau {summary['gcn_heldout_tau']:.3f}; {seconds:.1f} s; saved {args.run}/predictor.pt")
        print(f"accuracy column: {summary['accuracy_column']}")
    return 0


def _eval_table(args: argparse.Namespace, truth) -> tuple:
    """The table and column ``predictor eval`` ranks: ``--table``/``--metric``, else ``--truth``'s."""
    from gcnas.exceptions import InvalidInputError

    if args.table is not None:
        return open_table_arg(args.table), args.metric or "test_acc"
    if truth is None:
        raise InvalidInputError("predictor eval needs the true values: --table CSV [--metric COL] "
                                "or --truth table:CSV:COLUMN")
    if args.metric is not None:
        raise InvalidInputError(f"--metric {args.metric!r} names a column of --table, which is not given; "
                                "with --truth alone write the column into it: table:CSV:COLUMN")
    return truth.table, truth.column


def eval_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.predictors import load_predictor, predictor_path, predictor_stage, ranking_report

    truth = load_truth(args)
    table, metric = _eval_table(args, truth)
    store = open_store(args)
    predictor = load_predictor(predictor_path(store.run_dir, args.name), trust_pickle=args.trust_pickle)
    values = table.column(metric)
    trained = set() if args.include_train else set((store.stage(predictor_stage(args.name)) or {}).get("train_codes", []))
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
