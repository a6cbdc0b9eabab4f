"""One-shot ranking on the DARTS space, judged by the 725 trained genotypes of NAS-Bench-301's sample.

Trains the DARTS weight-sharing supernet (``DartsSuperNet``: both cell types, single-path
uniform sampling by default) on the image folder ``cifar10-jpg`` at a CPU shape (small ``C``,
few cells, downsized images), scores each of the 725 genotypes of
``nb301/nb301_sample_cifar10.csv`` with inherited weights (BatchNorm recalibrated) on the
valid half, and ranks them against that file's ``val_accuracy`` (the genotypes trained from
scratch by NAS-Bench-301's authors). Beside the raw supernet scores it reports, over the
same genotypes:

- the GCN predictor (``space="darts"``) fitted to K of the supernet scores, ranking the
  others (each K over ``--splits`` random splits, every row of a split on the same cells);
- the parameter count and NASWOT as published in the same file (``params``, ``nwot``:
  NAS-Bench-Suite-Zero's values at NAS-Bench-301's shape);
- Kendall tau, Spearman and precision@5%, and Kendall tau over the true top 10%.

Truth (``val_accuracy``) is read only to report: nothing is fitted, selected or stopped on it.
Every stage resumes: the checkpoint and the scores (a run store over the ``darts`` space)
live under ``--work`` in folders named by a hash of the settings that make them.

The CPU recipe (defaults): C=8, 5 cells, 16x16 images, 12 epochs of the 25,000 train-half
images with uniform single-path sampling (FairNAS order, ``none`` never drawn), each genotype
scored on 512 valid images after BatchNorm statistics from 256 train images. At the toy
run's 175 images/s (one thread, a loaded 2-core machine) that is about 30 min of training
and 20 min of scoring.

    python benchmarks/supernet_darts.py --threads 2             # the CPU recipe: about an hour on 2 cores
    python benchmarks/supernet_darts.py --epochs 1 --train-images 256 --score-images 64 --num-cells 40 \\
        --ks 20 --splits 1 --label toy                           # a toy run: a minute
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import RESULTS_DIR, BenchmarkRun, cache_key  # noqa: E402
from supernet_ranking import row_metrics, subset_data  # noqa: E402

from gcnas.data import RunStore, load_images  # noqa: E402
from gcnas.predictors import GCNPredictor  # noqa: E402
from gcnas.spaces import get_space  # noqa: E402
from gcnas.supernet import sample_subnets, train_supernet  # noqa: E402
from gcnas.supernet.checkpoint import checkpoint_path  # noqa: E402
from gcnas.supernet.train import load_run_supernet, supernet_class  # noqa: E402

TRAIN_KEYS = ("channels", "cells", "epochs", "batch_size", "lr", "weight_decay", "strategy", "sampling",
              "exclude_ops", "train_images", "seed", "image_size", "data_root")
SCORE_KEYS = ("num_cells", "bn_recalibrate", "score_images", "score_batch", "csv")
TRAIN_CODE = ("supernet", "spaces", "data")


def read_sample(path: Path, num: int | None) -> tuple[list, dict[str, np.ndarray]]:
    """The genotypes of NAS-Bench-301's sample file and its columns ``val_accuracy``, ``params``, ``nwot``."""
    space = get_space("darts")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))[:num]
    archs = [space.parse(row["genotype"]) for row in rows]
    columns = {name: np.array([float(row[name]) for row in rows]) for name in ("val_accuracy", "params", "nwot")}
    return archs, columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="image folder (default: shared images/cifar10-jpg)")
    parser.add_argument("--csv", default=None,
                        help="genotypes and truth (default: shared nb301/nb301_sample_cifar10.csv)")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=5, help="cells in all (two of them reductions)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=3e-4)
    parser.add_argument("--strategy", default="uniform", choices=["uniform", "gaea", "darts", "snas", "nasp"])
    parser.add_argument("--sampling", default="fair", choices=["code", "fair"], help="uniform strategy's sampling")
    parser.add_argument("--exclude-ops", default="none", help="comma-separated DARTS ops never trained")
    parser.add_argument("--train-images", type=int, default=None, help="use only the first N train-half images")
    parser.add_argument("--image-size", type=int, default=16, help="images are resized to this side (CPU: 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-cells", type=int, default=None, help="score the first N genotypes (default all 725)")
    parser.add_argument("--bn-recalibrate", type=int, default=2, help="batches of --score-batch for BN statistics")
    parser.add_argument("--score-images", type=int, default=512, help="valid images each genotype is scored on")
    parser.add_argument("--score-batch", type=int, default=128)
    parser.add_argument("--ks", default="100,200", help="GCN training sizes")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--work", default="runs/bench/supernet_darts")
    parser.add_argument("--label", default=None, help="name of the results file (default: the cache keys)")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR), help="folder of the results file")
    parser.add_argument("--stop-after", choices=["train", "score"], default=None)
    args = parser.parse_args()
    args.exclude_ops = sorted(o for o in args.exclude_ops.split(",") if o)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.csv = args.csv or str(shared("nb301/nb301_sample_cifar10.csv"))
    train_key = cache_key(args, TRAIN_KEYS, TRAIN_CODE)
    score_key = cache_key(args, SCORE_KEYS, TRAIN_CODE)
    label = args.label or f"train-{train_key}-score-{score_key}"
    bench = BenchmarkRun("supernet_darts", args, label=label, out=Path(args.out_dir) / f"supernet_darts-{label}.json")

    archs, columns = read_sample(Path(args.csv), args.num_cells)
    root = args.data_root or str(shared("images/cifar10-jpg"))
    data = subset_data(load_images("imagefolder", root=root, image_size=args.image_size), args.train_images)
    train_dir = Path(args.work) / f"train-{train_key}"
    score_dir = train_dir / f"score-{score_key}"
    print(f"data {data}; {len(archs)} genotypes; run {score_dir}", flush=True)

    # -- 1. the supernet ------------------------------------------------------------------
    kwargs = {"sampling": args.sampling, "exclude_ops": args.exclude_ops} if args.strategy == "uniform" else {}
    epochs_done = len(load_run_supernet(train_dir).history) if checkpoint_path(train_dir).exists() else 0
    tick = time.perf_counter()
    if epochs_done < args.epochs:
        train_supernet(train_dir, dataset="imagefolder", data=data, strategy=args.strategy, strategy_kwargs=kwargs,
                       supernet=supernet_class("darts"), channels=args.channels, cells=args.cells,
                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                       seed=args.seed, device=args.device, resume=epochs_done > 0)
    train_seconds = time.perf_counter() - tick
    trained = load_run_supernet(train_dir, device=args.device)
    history = trained.history
    print(f"supernet: {len(history)} epochs, final train accuracy {history[-1]['accuracy']:.1f}%, "
          f"{sum(r['seconds'] for r in history):.0f} s of training", flush=True)
    if args.stop_after == "train":
        return

    # -- 2. inherited-weight scores (a run store over the darts space: resumable) -----------
    tick = time.perf_counter()
    with RunStore(score_dir, space="darts") as store:
        samples = sample_subnets(store, trained, data, num=len(archs), archs=archs,
                                 bn_recalibrate=args.bn_recalibrate, batch_size=args.score_batch,
                                 limit=max(1, args.score_images // args.score_batch))
    score_seconds = time.perf_counter() - tick
    supernet_acc = np.array([s.accuracy for s in samples])
    supernet_loss = np.array([s.loss for s in samples])
    if args.stop_after == "score":
        return

    # -- 3. judged by truth (read only here) ------------------------------------------------
    truth = columns["val_accuracy"]
    baselines = {"params": columns["params"], "naswot": columns["nwot"]}
    rows: dict[str, dict] = {"supernet (all cells)": row_metrics(truth, supernet_acc),
                             "supernet -loss (all cells)": row_metrics(truth, -supernet_loss)}
    for name, values in baselines.items():
        rows[f"{name} (all cells)"] = row_metrics(truth, values)
    for k in [int(k) for k in args.ks.split(",") if k]:
        if k >= len(archs) - 10:
            continue
        per_split: dict[str, list[dict]] = {}
        for split in range(args.splits):
            order = np.random.default_rng(10_000 + split).permutation(len(archs))
            fit, rest = order[:k], order[k:]
            model = GCNPredictor(space="darts", seed=split).fit([archs[i] for i in fit], supernet_acc[fit])
            candidates = {f"GCN on {k} scores": model.predict([archs[i] for i in rest]),
                          "supernet": supernet_acc[rest], **{name: values[rest] for name, values in baselines.items()}}
            for name, values in candidates.items():
                per_split.setdefault(name, []).append(row_metrics(truth[rest], values))
        for name, reports in per_split.items():
            rows[f"K={k}: {name}"] = {m: float(np.mean([r[m] for r in reports])) for m in reports[0]}
            rows[f"K={k}: {name}"]["kendall_tau_std"] = float(np.std([r["kendall_tau"] for r in reports]))

    supernet = {"epochs": len(history), "final_train_accuracy": history[-1]["accuracy"],
                "train_seconds_total": sum(r["seconds"] for r in history),
                "train_seconds_this_call": train_seconds, "score_seconds_this_call": score_seconds,
                "score_range": [float(supernet_acc.min()), float(supernet_acc.max())]}
    figures: dict[str, float | int] = {"num_cells": len(archs), "supernet_epochs": supernet["epochs"],
                                       "final_train_accuracy": supernet["final_train_accuracy"],
                                       "train_seconds_total": supernet["train_seconds_total"]}
    for name, metrics in rows.items():
        figures.update({f"{name}.{metric}": value for metric, value in metrics.items()})
    bench.write(figures, {"rows": rows, "supernet": supernet, "num_cells": len(archs),
                          "cache": {"train": train_dir.name, "score": score_dir.name}})
    print(f"\n{len(archs)} genotypes, DARTS supernet C={args.channels} cells={args.cells} {len(history)} epochs "
          f"(train acc {history[-1]['accuracy']:.1f}%), {args.strategy}, exclude={args.exclude_ops}")
    print(f"{'ranking':<30} {'tau':>6} {'rho':>6} {'P@5%':>6} {'tau top10%':>10} {'P@10%':>6}")
    for name, r in rows.items():
        print(f"{name:<30} {r['kendall_tau']:6.3f} {r['spearman']:6.3f} {r['precision_at_5']:6.2f} "
              f"{r['top10_kendall_tau']:10.3f} {r['precision_at_10']:6.2f}")


if __name__ == "__main__":
    main()
