"""``gcnas demo``: the whole pipeline on a small built-in dataset, with a report."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="the whole pipeline on a small built-in dataset, on CPU, with an HTML report",
        description="Train a uniform supernet, score sub-networks, fit the GCN, build the lookup table, pretrain "
                    "arch2vec, run multi-objective BO, train the picks from scratch and run GAEA; writes "
                    "RUN/report.html. Rerunning continues where an interrupted run stopped; a --run DIR holding "
                    "other work is refused unless --overwrite. With --space NAME the pipeline runs on that space; "
                    "a stage that does not apply to it is skipped with a line saying why (imc: no GAEA, no fused "
                    "ranking, no arch2vec; its lookup table is a --pool of sampled networks with the IMC crossbar "
                    "model's latency and energy).")
    parser.add_argument("--space", default="nb201", metavar="NAME",
                        help="search space: nb201 (default) or imc (the IMC macro space); a run records it")
    parser.add_argument("--run", default="runs/demo", metavar="DIR", help="run directory (default runs/demo)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    parser.add_argument("--quick", action="store_true", help="the whole pipeline at toy sizes, under a minute on 2 cores (what the tests run)")
    parser.add_argument("--dataset", default="digits",
                        help="digits (built in), synthetic, cifar10, cifar100, imagenet16-120, or imagefolder "
                             "(your own images: --data-root DIR holding train/<class>/* and test/<class>/*)")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help="folder of the CIFAR / ImageNet16 files, or the image folder")
    parser.add_argument("--image-size", type=int, default=None,
                        help="side imagefolder images are resized to (default 32)")
    parser.add_argument("--truth", default=None, metavar="table:CSV:COLUMN",
                        help="true accuracy of the cells (e.g. NAS-Bench-201's test_acc), read only to judge the "
                             "rankings and picks in the report; it changes nothing in the run")
    parser.add_argument("--latency-from", "--latency", dest="latency", default=None, metavar="SPEC",
                        help="latency of the lookup table: 'measured' (measured here; the default on nb201), a latency "
                             "table CSV:COLUMN (e.g. nb201_latency_ms.csv:pixel3) or 'imc' (the IMC crossbar model; "
                             "the default on another space)")
    parser.add_argument("--energy-from", "--energy", dest="energy", default=None, metavar="SPEC",
                        help="energy of the lookup table: 'model' (the analytic estimate; the default on nb201) or "
                             "'imc' (the crossbar model; the default on another space)")
    parser.add_argument("--pool", type=int, default=None, metavar="N",
                        help="rows of the lookup table of a space that cannot be listed (imc): N networks drawn "
                             "with --seed, which the search then searches (default 1000; 24 with --quick)")
    parser.add_argument("--retrain", type=int, default=None,
                        help="cells trained from scratch at the end (default 6, or 0 with --truth)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (supernet and from-scratch training)")
    parser.add_argument("--channels", type=int, default=None, help="supernet channels C (default 8; 16 is NAS-Bench-201)")
    parser.add_argument("--cells", type=int, default=None, help="cells per stage N (default 1; 5 is NAS-Bench-201)")
    parser.add_argument("--epochs", type=int, default=None, help="supernet epochs (default 10; 40 for imagefolder)")
    parser.add_argument("--samples", type=int, default=None, metavar="K",
                        help="sub-networks scored with inherited weights (default 200; 500 for imagefolder)")
    parser.add_argument("--fusion", choices=("fused", "supernet"), default="fused",
                        help="what fills the lookup table's accuracy: the fused ranking of the supernet score, the "
                             "zero-cost proxies and the anchors (default), or the supernet scores alone")
    parser.add_argument("--anchors", type=int, default=None, metavar="L",
                        help="cells trained from scratch with a short schedule to weight and scale the fused ranking "
                             "(default 20; 0: a plain rank average)")
    parser.add_argument("--proxies", default=None, metavar="LIST",
                        help="cheap features fused beside the supernet score (default params,synflow,naswot,jacov; "
                             "also flops)")
    parser.add_argument("--overwrite", action="store_true",
                        help="when --run DIR holds other work (a demo with other settings, a predictor or lookup "
                             "table of other commands), delete everything in it and start afresh; without it the "
                             "demo refuses such a folder, and resumes its own run with the same settings")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from gcnas.cli._common import emit
    from gcnas.demo import DemoSettings, run_demo

    from gcnas.predictors.truth import parse_truth

    truth = parse_truth(args.truth)
    from gcnas.predictors.lut import hardware_covers
    from gcnas.spaces import get_space

    overrides: dict = {"dataset": args.dataset, "space": args.space}
    if args.latency is None and not hardware_covers(get_space(args.space)):
        overrides["latency"] = "imc"  # the one latency source of any space that needs no measuring
    for name, value in (("channels", args.channels), ("cells", args.cells), ("image_size", args.image_size),
                        ("latency", args.latency), ("energy", args.energy), ("pool", args.pool),
                        ("retrain", args.retrain), ("samples", args.samples)):
        if value is not None:
            overrides[name] = value
    if args.retrain is None and truth is not None:
        overrides["retrain"] = 0  # the truth table judges the picks; training them is optional
    if args.epochs is not None:
        overrides["supernet_epochs"] = args.epochs
    overrides["fusion"] = args.fusion == "fused"
    if args.anchors is not None:
        if args.anchors < 0:
            from gcnas.exceptions import InvalidInputError
            raise InvalidInputError(f"--anchors must be 0 or more, got {args.anchors}")
        overrides["anchors"] = args.anchors
    if args.proxies is not None:
        from gcnas.predictors.features import parse_feature_names
        overrides["proxies"] = ",".join(parse_feature_names(args.proxies))
    if args.quick:
        settings = DemoSettings.quick(**overrides)
    elif args.dataset == "imagefolder":
        settings = DemoSettings.images(**overrides)
    else:
        settings = DemoSettings(**overrides)
    log = (lambda message: print(message, file=sys.stderr)) if args.format == "json" else print
    summary = run_demo(args.run, settings=settings, seed=args.seed, device=args.device, data_root=args.data_root,
                       truth=truth, progress=True, log=log,  # bars on a terminal, log lines when piped
                       overwrite=args.overwrite)
    if args.format == "json":
        emit(summary, "json")
        return 0
    print()
    emit([{"stage": k, "seconds": round(v, 1)} for k, v in summary["stage_seconds"].items()]
         + [{"stage": "total", "seconds": round(summary["total_seconds"], 1)}])
    print()
    tau = summary["predicted_vs_trained_kendall_tau"]
    target = "fused values" if summary.get("accuracy_column", "").startswith(("predicted valid", "fused")) else \
        "supernet scores"
    print(f"GCN vs {target} (held-out) Kendall tau: {summary['predictor_kendall_tau_heldout']:.3f}")
    if summary.get("accuracy_column"):
        print(f"accuracy column: {summary['accuracy_column']}")
    print(f"GCN prediction vs trained from scratch Kendall tau: {'n/a' if tau is None else f'{tau:.3f}'}")
    print()
    if summary["retrain"]:
        emit([{"arch": r["arch"], "predicted": r["predicted"], "trained_test": r["test_accuracy"]}
              for r in summary["retrain"]])
    if "truth" in summary:
        _print_truth(summary["truth"])
    if summary["gaea_derived"]:
        print(f"\nGAEA derived: {summary['gaea_derived']}")
    print(f"report: {summary['report']}")
    return 0


def _print_truth(judged: dict) -> None:
    from gcnas.cli._common import emit

    name = f"true_{judged['column']}"
    print(f"\njudged by truth ({judged['column']}; read only after the run):")
    emit([{"ranking": k, "n": r["n"], "kendall_tau": r["kendall_tau"], "spearman": r["spearman"],
           "precision_at_5": r["precision_at_5"], "top10_tau": r["top_kendall_tau"]}
          for k, r in judged["rankings"].items()])
    print()
    emit([{"pick": p["name"], "arch": p["arch"], "predicted": p["predicted"], "latency_ms": p["latency_ms"],
           name: p[name]} for p in judged["picks"]])
    print(f"\nunder latency <= {judged['bound_ms']:.4g} ms:")
    rows = []
    for key, label in (("true_best", "true best"), ("best_pick", "best pick"), ("lut_top", "lookup table top"),
                       ("random_search", f"random search ({judged['random_search_evaluations']} evals)")):
        if judged.get(key):
            rows.append({"chosen by": label, name: judged[key][name], "regret": judged[key]["regret"],
                         "arch": judged[key]["arch"]})
    emit(rows)
