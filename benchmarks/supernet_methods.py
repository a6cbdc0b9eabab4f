"""One-shot methods side by side on real CIFAR-10 images, judged by NAS-Bench-201's truth.

Every method trains the same supernet (shape, epochs, images, weight optimiser, seed) on the
image folder ``cifar10-jpg`` (NAS-Bench-201's CIFAR-10 split: the train/ half trains, the
other half is valid) and yields one cell; the cell's true NAS-Bench-201 CIFAR-10 test
accuracy (200 epochs from scratch) judges it:

- ``uniform+gcn``: uniform single-path training; ``--score-cells`` random cells scored with
  inherited weights on the valid half, a GCN fitted to those scores ranks all 15,625 cells
  and its best is the pick (also reported: the best of the scored cells);
- ``uniform+fused``: the same supernet and scores, fused with the zero-cost proxies and
  ``--anchors`` cells trained from scratch on the same images
  (:func:`gcnas.predictors.fused_run.fit_fused_predictor`); the pick is the best cell of the
  GCN fitted to the fused values over all cells, parameter-free cells excluded (also
  reported: the best scored cell by the fused ranking);
- ``gaea`` (single-level), ``gaea-bilevel``, ``darts`` (first order, bilevel), ``snas``,
  ``nasp``: the argmax cell of the architecture weights, after every epoch.

Per method and seed: the derived cell and its true test accuracy after every epoch, the
mean per-edge entropy of the architecture weights after every epoch, and the search cost
(wall seconds and CPU seconds of this process; CPU seconds are the fairer figure on a busy
machine). Truth is read only to report, after each run: nothing is fitted, selected or
stopped on it.

The papers' architecture step sizes are tuned for NAS-Bench-201's 50 epochs of 391 steps
(batch 64 on 25,000 images): 19,550 steps. At CPU scale there are far fewer steps, so each
method's default step size is multiplied by ``--arch-lr-scale`` (``auto``: 19,550 / the
steps of this run), which keeps the total movement of the architecture weights the
papers' for Adam-trained logits (DARTS, SNAS, NASP) and the exponentiated gradient (GAEA).

Each run resumes (checkpoint every epoch under ``--work``, in a folder keyed by the
training settings and the version of ``gcnas/supernet`` and ``gcnas/data``); each finished
run is a row of ``rows-<seed>.json`` there, so an interrupted benchmark continues where it
stopped, and seeds can run in parallel processes (``--seeds 1`` beside ``--seeds 2``). A
run is done when a row for it exists in any folder of the same settings; the summary lists
the code versions its rows came from.

    python benchmarks/supernet_methods.py                    # 6 methods x 3 seeds, CPU scale
    python benchmarks/supernet_methods.py --seeds 1 --out-dir /tmp   # one seed, beside another process
    python benchmarks/supernet_methods.py --methods darts,gaea --seeds 0 --epochs 2 --train-images 512
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import CACHE_ROOT, RESULTS_DIR, BenchmarkRun, cache_key, settings_hash  # noqa: E402
from supernet_ranking import subset_data  # noqa: E402

from gcnas.data import BenchmarkTable, RunStore, load_images  # noqa: E402
from gcnas.spaces.nb201.counts import network_costs_many  # noqa: E402
from gcnas.predictors import GCNPredictor  # noqa: E402
from gcnas.spaces.nb201 import Arch, NB201Space  # noqa: E402
from gcnas.supernet import load_supernet, sample_subnets, train_supernet  # noqa: E402
from gcnas.supernet.checkpoint import checkpoint_path  # noqa: E402

# name -> (strategy, strategy kwargs besides the step size, the strategy's default arch_lr)
METHODS = {
    "uniform+gcn": ("uniform", {"sampling": "fair"}, None),
    # the same uniform supernet (and scores), ranked by the fused ranking with anchors instead
    "uniform+fused": ("uniform", {"sampling": "fair"}, None),
    "gaea": ("gaea", {"bilevel": False}, 0.1),
    "gaea-bilevel": ("gaea", {"bilevel": True}, 0.1),
    "darts": ("darts", {"bilevel": True}, 3e-4),
    "snas": ("snas", {}, 3e-3),
    "nasp": ("nasp", {}, 3e-3),
}
REFERENCE_STEPS = 50 * 391
TRAIN_KEYS = ("channels", "cells", "epochs", "batch_size", "lr", "weight_decay", "train_images", "image_size",
              "data_root", "arch_lr_scale")
SCORE_KEYS = ("score_cells", "score_images", "score_batch", "bn_recalibrate")
PAPERS = {"darts": 54.30, "gaea": 94.10}


def finished_rows(work: Path, args: argparse.Namespace) -> list[dict]:
    """Every finished run of these settings under ``work``, whatever code version made it.

    Rows carry the code version of their folder; a uniform+gcn row counts only if it was
    scored with the current scoring settings.
    """
    prefix = settings_hash(args, TRAIN_KEYS)
    score = {k: getattr(args, k) for k in SCORE_KEYS}
    rows = []
    for folder in sorted(work.glob(f"{prefix}-*")):
        for path in sorted(folder.glob("rows*.json")):
            for row in json.loads(path.read_text()):
                row.setdefault("code_version", folder.name.split("-", 1)[1])
                # the first rows (of one process that ran with the defaults) predate this field
                row.setdefault("score_settings", {"score_cells": 100, "score_images": 512, "score_batch": 256,
                                                  "bn_recalibrate": 2})
                if row["strategy"] != "uniform" or row["score_settings"] == score:
                    rows.append(row)
    return rows


def arch_lr_scale(args: argparse.Namespace, train_images: int) -> float:
    if args.arch_lr_scale != "auto":
        return float(args.arch_lr_scale)
    return REFERENCE_STEPS / (args.epochs * math.ceil(train_images / args.batch_size))


def run_method(name: str, seed: int, args: argparse.Namespace, data, table: BenchmarkTable, scale: float,
               work: Path) -> dict:
    """Train (or resume) one method at one seed; its pick and per-epoch record, judged by truth at the end."""
    strategy, kwargs, default_lr = METHODS[name]
    kwargs = dict(kwargs)
    if default_lr is not None:
        kwargs["arch_lr"] = default_lr * scale
    run_dir = work / f"{'uniform+gcn' if name == 'uniform+fused' else name}-seed{seed}"
    done = len(load_supernet(run_dir).history) if checkpoint_path(run_dir).exists() else 0
    wall, cpu = time.perf_counter(), time.process_time()
    if done < args.epochs:
        train_supernet(run_dir, dataset="imagefolder", data=data, strategy=strategy, strategy_kwargs=kwargs,
                       channels=args.channels, cells=args.cells, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, weight_decay=args.weight_decay, seed=seed, device="cpu", resume=done > 0,
                       progress=False)
    trained = load_supernet(run_dir)
    picks = [r.get("derived") for r in trained.history]
    extra: dict = {}
    if strategy == "uniform":
        archs = NB201Space().sample_many(args.score_cells, 10_000 + seed, distinct=True, canonical=True)
        with RunStore(run_dir) as store:
            samples = sample_subnets(store, trained, data, num=len(archs), archs=archs,
                                     bn_recalibrate=args.bn_recalibrate, batch_size=args.score_batch,
                                     limit=max(1, args.score_images // args.score_batch), progress=False)
        scores = np.array([s.accuracy for s in samples])
        every = NB201Space().all_archs()
        predicted = GCNPredictor(seed=seed).fit(archs, scores).predict(every)
        picks = [None] * (len(picks) - 1) + [str(every[int(np.argmax(predicted))])]
        extra["best_scored"] = str(archs[int(np.argmax(scores))])
        if name == "uniform+fused":
            extra.update(fused_pick(run_dir, seed, args, data))
            picks = [None] * (len(picks) - 1) + [extra["fused_lut_pick"]]
    seconds = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
               "train_epochs": sum(r["seconds"] for r in trained.history)}
    # -- judged by truth (read only here) ----------------------------------------------------
    true = [None if p is None else float(table.value(Arch.parse(p), args.truth_column)) for p in picks]
    final = Arch.parse(picks[-1])
    row = {"method": name, "seed": seed, "strategy": strategy, "strategy_kwargs": kwargs,
           "code_version": work.name.split("-", 1)[1], "score_settings": {k: getattr(args, k) for k in SCORE_KEYS},
           "pick": picks[-1], "true_acc": true[-1],
           "pick_params_m": float(network_costs_many([final])["params_m"][0]),
           "true_acc_per_epoch": true, "picks_per_epoch": picks,
           "entropy_per_epoch": [r.get("entropy") for r in trained.history],
           "train_acc_per_epoch": [r["accuracy"] for r in trained.history],
           "seconds": seconds, "complete_in_this_call": done < args.epochs}
    for key in ("fused_best_scored", "fused_lut_pick"):
        if key in extra:
            row[key] = extra[key]
            row[f"{key}_true_acc"] = float(table.value(Arch.parse(extra[key]), args.truth_column))
    if "fused_weights" in extra:
        row["fused_weights"] = extra["fused_weights"]
    if "best_scored" in extra:
        row["best_scored"] = extra["best_scored"]
        row["best_scored_true_acc"] = float(table.value(Arch.parse(extra["best_scored"]), args.truth_column))
    return row


def summarise(rows: list[dict], methods: list[str], table: BenchmarkTable, column: str) -> tuple[dict, str]:
    figures: dict = {"space_best": float(np.max(table.values(NB201Space().all_archs(), column))),
                     "space_median": float(np.median(table.values(NB201Space().all_archs(), column)))}
    lines = [f"{'method':<14} {'true test acc of pick':>22} {'params (M)':>10} {'entropy end':>11} "
             f"{'CPU s':>7} {'wall s':>7}  picks"]
    for name in methods:
        mine = [r for r in rows if r["method"] == name]
        if not mine:
            continue
        acc = np.array([r["true_acc"] for r in mine])
        cpu = np.array([r["seconds"]["cpu"] for r in mine])
        wall = np.array([r["seconds"]["wall"] for r in mine])
        params = np.array([r["pick_params_m"] for r in mine])
        ent = [r["entropy_per_epoch"][-1] for r in mine if r["entropy_per_epoch"][-1] is not None]
        figures.update({f"{name}.true_acc": float(acc.mean()), f"{name}.true_acc_std": float(acc.std()),
                        f"{name}.seeds": len(mine), f"{name}.cpu_seconds": float(cpu.mean()),
                        f"{name}.wall_seconds": float(wall.mean()), f"{name}.pick_params_m": float(params.mean())})
        if ent:
            figures[f"{name}.entropy_end"] = float(np.mean(ent))
        lines.append(f"{name:<14} {acc.mean():>13.2f} ± {acc.std():5.2f} {params.mean():>10.3f} "
                     f"{(f'{np.mean(ent):.3f}' if ent else '-'):>11} {cpu.mean():>7.0f} {wall.mean():>7.0f}  "
                     + " ".join(r["pick"] for r in mine))
        if "best_scored_true_acc" in mine[0]:
            best = np.array([r["best_scored_true_acc"] for r in mine])
            figures[f"{name}.best_scored_true_acc"] = float(best.mean())
            lines.append(f"{'  best scored':<14} {best.mean():>13.2f} ± {best.std():5.2f}")
        if "fused_best_scored_true_acc" in mine[0]:
            best = np.array([r["fused_best_scored_true_acc"] for r in mine])
            figures[f"{name}.fused_best_scored_true_acc"] = float(best.mean())
            figures[f"{name}.fused_best_scored_true_acc_min"] = float(best.min())
            figures[f"{name}.true_acc_min"] = float(acc.min())
            lines.append(f"{'  fused best scored':<14} {best.mean():>8.2f} ± {best.std():5.2f} (min {best.min():.2f})")
    return figures, "\n".join(lines)


def plot(rows: list[dict], methods: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, name in enumerate(methods):
        mine = [r for r in rows if r["method"] == name]
        if not mine:
            continue
        color = f"C{i}"
        for j, r in enumerate(mine):
            epochs = np.arange(1, len(r["entropy_per_epoch"]) + 1)
            if r["entropy_per_epoch"][0] is not None:
                left.plot(epochs, r["entropy_per_epoch"], color=color, alpha=0.8, label=name if j == 0 else None)
            true = [np.nan if t is None else t for t in r["true_acc_per_epoch"]]
            style = "o" if name == "uniform+gcn" else "-"
            right.plot(epochs, true, style, color=color, alpha=0.8, label=name if j == 0 else None)
    left.axhline(math.log(5), color="grey", lw=0.8, ls=":")
    left.set(xlabel="epoch", ylabel="mean per-edge entropy (nats)", title="architecture weights")
    right.set(xlabel="epoch", ylabel="true CIFAR-10 test accuracy (%)", title="derived cell, judged by truth")
    right.legend(fontsize=7)
    left.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def fused_pick(run_dir: Path, seed: int, args: argparse.Namespace, data) -> dict:
    """The fused pipeline on the uniform supernet's scores: proxies, ``--anchors`` cells trained
    from scratch on the same train images, the fused ranking, the GCN fitted to it over every cell
    (the lookup table's accuracy), and its pick with the collapse guard."""
    from gcnas.predictors.fused import is_parameter_free
    from gcnas.predictors.fused_run import AnchorSchedule, fit_fused_predictor

    every = NB201Space().all_archs()
    with RunStore(run_dir) as store:
        info = fit_fused_predictor(store, data, anchors=args.anchors, seed=seed, progress=False,
                                   schedule=AnchorSchedule(channels=args.channels, cells=args.cells),
                                   gcn={"ensemble": 3}, log=lambda m: None)
        fused = store.samples("fused")
    from gcnas.predictors import load_predictor

    lut = load_predictor(run_dir / "predictor.pt").predict(every)
    lut[is_parameter_free(every)] = -np.inf
    best_fused = max(fused, key=lambda f: f.accuracy).arch
    return {"fused_lut_pick": str(every[int(np.argmax(lut))]), "fused_best_scored": str(best_fused),
            "fused_weights": info["weights"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS), help=f"any of {', '.join(METHODS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data-root", default=None, help="image folder (default: shared cifar10-jpg)")
    parser.add_argument("--table", default=None, help="truth table (default: shared nb201_cifar10_200ep.csv)")
    parser.add_argument("--truth-column", default="test_acc")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--train-images", type=int, default=5000, help="first N images of the train half")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--arch-lr-scale", default="auto", help="factor on every default arch step size, or auto")
    parser.add_argument("--score-cells", type=int, default=100, help="uniform+gcn: cells scored and fitted")
    parser.add_argument("--anchors", type=int, default=10, help="uniform+fused: cells trained from scratch")
    parser.add_argument("--score-images", type=int, default=512)
    parser.add_argument("--score-batch", type=int, default=256)
    parser.add_argument("--bn-recalibrate", type=int, default=2)
    parser.add_argument("--work", default=str(CACHE_ROOT / "supernet_methods"))
    parser.add_argument("--label", default=None, help="results file suffix (default: none)")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR))
    parser.add_argument("--plot", default="docs/supernet_methods.png", help="figure file ('' for none)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose among {', '.join(METHODS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    bench = BenchmarkRun("supernet_methods", args, label=args.label,
                         out=Path(args.out_dir) / f"supernet_methods{'-' + args.label if args.label else ''}.json")

    table = BenchmarkTable(args.table or shared("nb201/nb201_cifar10_200ep.csv"))
    data = subset_data(load_images("imagefolder", root=args.data_root or str(shared("images/cifar10-jpg")),
                              image_size=args.image_size), args.train_images)
    scale = arch_lr_scale(args, len(data.train))
    work = Path(args.work) / cache_key(args, TRAIN_KEYS, ("supernet", "data"))
    print(f"data {data}; arch step sizes x{scale:.2f}; work {work}", flush=True)
    for seed in seeds:
        for name in methods:
            if any(r["method"] == name and r["seed"] == seed for r in finished_rows(Path(args.work), args)):
                continue
            row = run_method(name, seed, args, data, table, scale, work)
            rows_file = work / f"rows-{seed}.json"
            mine = json.loads(rows_file.read_text()) if rows_file.exists() else []
            work.mkdir(parents=True, exist_ok=True)
            rows_file.write_text(json.dumps(mine + [row], indent=1))
            entropy = row["entropy_per_epoch"][-1]
            print(f"{name} seed {seed}: {row['pick']}  true {row['true_acc']:.2f}%  "
                  f"entropy {'-' if entropy is None else f'{entropy:.3f}'}  "
                  f"cpu {row['seconds']['cpu']:.0f}s wall {row['seconds']['wall']:.0f}s", flush=True)
    rows = sorted((r for r in finished_rows(Path(args.work), args) if r["method"] in methods and r["seed"] in seeds),
                  key=lambda r: (methods.index(r["method"]), r["seed"]))
    figures, text = summarise(rows, methods, table, args.truth_column)
    figures.update({"epochs": args.epochs, "train_images": len(data.train), "arch_lr_scale": scale})
    versions = sorted({r["code_version"] for r in rows})
    print(f"\nCIFAR-10 image folder, {len(data.train)} train images, supernet C={args.channels} N={args.cells}, "
          f"{args.epochs} epochs, seeds {seeds}; space best {figures['space_best']:.2f}%, median "
          f"{figures['space_median']:.2f}%; papers (full scale, GPU): DARTS {PAPERS['darts']}%, "
          f"GAEA {PAPERS['gaea']}%; rows made by gcnas code versions {', '.join(versions)}")
    print(text)
    for title, key, digits in (("true test accuracy of the derived cell", "true_acc_per_epoch", 1),
                               ("entropy", "entropy_per_epoch", 3)):
        print(f"\n{title} per epoch (mean over seeds)")
        for name in methods:
            mine = [r for r in rows if r["method"] == name]
            if mine and mine[0][key][0] is not None:
                curve = np.mean([r[key] for r in mine], axis=0)
                print(f"{name:<14} " + " ".join(f"{v:5.{digits}f}" for v in curve))
    if args.plot:
        plot(rows, methods, Path(args.plot))
        print(f"plot: {args.plot}")
    bench.write(figures, {"rows": rows, "papers": PAPERS, "code_versions": versions})


if __name__ == "__main__":
    main()
