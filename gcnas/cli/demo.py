"""``gcnas demo``: the whole pipeline on a small built-in dataset, with a report."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="the whole pipeline on a small built-in dataset, on CPU, with an HTML report",
        description="Train a uniform supernet, score sub-networks, fit the GCN, build the lookup table, pretrain "
                    "arch2vec, run multi-objective BO, train the picks from scratch and run GAEA; writes "
                    "RUN/report.html. Rerunning continues where an interrupted run stopped.")
    parser.add_argument("--run", default="runs/demo", metavar="DIR", help="run directory (default runs/demo)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    parser.add_argument("--quick", action="store_true", help="a seconds-scale version (what the tests run)")
    parser.add_argument("--dataset", default="digits",
                        help="digits (built in), synthetic, cifar10, cifar100, imagenet16-120")
    parser.add_argument("--data-root", default=None, metavar="DIR", help="folder of the CIFAR / ImageNet16 files")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (supernet and from-scratch training)")
    parser.add_argument("--channels", type=int, default=None, help="supernet channels C (default 8; 16 is NAS-Bench-201)")
    parser.add_argument("--cells", type=int, default=None, help="cells per stage N (default 1; 5 is NAS-Bench-201)")
    parser.add_argument("--epochs", type=int, default=None, help="supernet epochs (default 8)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from gcnas.cli._common import emit
    from gcnas.demo import DemoSettings, run_demo

    overrides = {"dataset": args.dataset}
    for name, value in (("channels", args.channels), ("cells", args.cells)):
        if value is not None:
            overrides[name] = value
    if args.epochs is not None:
        overrides["supernet_epochs"] = overrides["gaea_epochs"] = args.epochs
    settings = DemoSettings.quick(**overrides) if args.quick else DemoSettings(**overrides)
    log = (lambda message: print(message, file=sys.stderr)) if args.format == "json" else print
    summary = run_demo(args.run, settings=settings, seed=args.seed, device=args.device, data_root=args.data_root,
                       progress=sys.stderr.isatty(), log=log)
    if args.format == "json":
        emit(summary, "json")
        return 0
    print()
    emit([{"stage": k, "seconds": round(v, 1)} for k, v in summary["stage_seconds"].items()]
         + [{"stage": "total", "seconds": round(summary["total_seconds"], 1)}])
    print()
    tau = summary["predicted_vs_trained_kendall_tau"]
    print(f"GCN vs supernet scores (held-out) Kendall tau: {summary['predictor_kendall_tau_heldout']:.3f}")
    print(f"GCN prediction vs trained from scratch Kendall tau: {'n/a' if tau is None else f'{tau:.3f}'}")
    print()
    emit([{"arch": r["arch"], "predicted": r["predicted"], "trained_test": r["test_accuracy"]}
          for r in summary["retrain"]])
    print(f"\nGAEA derived: {summary['gaea_derived']}")
    print(f"report: {summary['report']}")
    return 0
