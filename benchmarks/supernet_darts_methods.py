"""GAEA, DARTS and NASP on the DARTS space at CPU scale: the derived genotype, its cost, its predicted accuracy.

Each method trains the DARTS weight-sharing supernet (``DartsSuperNet``: both cell types, all
eight ops on each of the 14 edges) on the image folder ``cifar10-jpg`` at a CPU shape (small
``C``, few cells, downsized images, a subset of the train half; the valid half feeds the
bilevel architecture steps), and derives one genotype as DARTS does (the two strongest
incoming edges per node, ``none`` excluded). Per method and seed it reports:

- the derived genotype in DARTS' ``Genotype(...)`` notation, after every epoch too, with the
  mean per-edge entropy of the architecture weights, and the parameter-free ops
  (``skip_connect``, ``max_pool_3x3``, ``avg_pool_3x3``) of the normal cell: DARTS' known
  "collapse to skip connections";
- its params and FLOPs (M) at NAS-Bench-301's shape (``DartsSpace.costs``: the counts that
  reproduce the ``params`` / ``flops`` columns of ``nb301_sample_cifar10.csv`` exactly);
- its *predicted* accuracy. No trained truth exists for a new cell (NAS-Bench-301's 725
  sample genotypes are the only trained ones here, and a derived cell is none of them), so
  the accuracy is that of a GCN predictor (``space="darts"``, mean of seeds 0, 1, 2) fitted
  to the ``val_accuracy`` of ALL 725 genotypes of the file: the one place truth is used, to
  fit, and what comes out is a NAS-Bench-301-style accuracy estimate, not a measurement.
  Beside it, from the same GCN: the predictions of the 725 file cells (median, max) and of
  ``--random`` uniformly drawn genotypes (median, 90th percentile), and the percentile of
  each derived genotype among the random ones; the params of the file cells and of the
  random ones;
- seconds of training (wall and CPU of this process), the final train accuracy, the load
  average before and after.

Methods (``supernet_methods.METHODS``' strategy settings and default architecture step
sizes, scaled as there by ``--arch-lr-scale auto``: DARTS' 50 epochs of 391 steps / the
steps of this run): ``gaea`` is GAEA bilevel (GAEA PC-DARTS, the paper's DARTS-space
setting, is bilevel), ``darts`` first-order bilevel DARTS, ``nasp`` NASP (bilevel),
``snas`` SNAS.

Each run resumes (a checkpoint every epoch under ``--work``, in a folder keyed by the
training settings and the version of ``gcnas/supernet``, ``gcnas/spaces`` and ``gcnas/data``;
CPU seconds per epoch beside it); the three fitted GCNs are cached there too.

The CPU recipe (defaults): C=8, 5 cells, 16x16 images, batch 64, 6 epochs of the first
5,120 train-half images (80 steps an epoch, 480 in all: arch step sizes x40.7), sized from
the toy run's throughput so that the three methods train in about 30 min of one core.
Measured (one thread, the 2-core machine at load average 3.3 to 4.9): GAEA 751 s and DARTS
728 s of training (about 41 train img/s: every op on every edge, and each bilevel step a
second forward and backward on a valid batch), NASP 149 s (about 205 img/s: one path
backward, the other ops forward only); the three GCN fits 3 min (cached); 31 min in all.

    python benchmarks/supernet_darts_methods.py                      # the CPU recipe, seed 0
    python benchmarks/supernet_darts_methods.py --epochs 1 --train-images 256 --label toy --out-dir /tmp/toy
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import RESULTS_DIR, BenchmarkRun, cache_key  # noqa: E402
from supernet_darts import read_sample  # noqa: E402
from supernet_methods import METHODS, arch_lr_scale  # noqa: E402
from supernet_ranking import subset_data  # noqa: E402

from gcnas.data import load_images  # noqa: E402
from gcnas.data.images import ImageDataset  # noqa: E402
from gcnas.predictors import GCNPredictor, load_predictor  # noqa: E402
from gcnas.spaces import get_space  # noqa: E402
from gcnas.spaces.darts import Genotype  # noqa: E402
from gcnas.supernet import train_supernet  # noqa: E402
from gcnas.supernet.checkpoint import checkpoint_path  # noqa: E402
from gcnas.supernet.train import load_run_supernet, supernet_class  # noqa: E402

# name here -> name in supernet_methods.METHODS (strategy, its kwargs, its default arch step size)
METHOD_ROWS = {"gaea": "gaea-bilevel", "darts": "darts", "nasp": "nasp", "snas": "snas"}
PARAM_FREE = ("skip_connect", "max_pool_3x3", "avg_pool_3x3")
GCN_SEEDS = (0, 1, 2)
TRAIN_KEYS = ("channels", "cells", "epochs", "batch_size", "lr", "weight_decay", "train_images", "image_size",
              "data_root", "arch_lr_scale")
TRAIN_CODE = ("supernet", "spaces", "data")


def param_free_ops(genotype: Genotype, cell: str = "normal") -> int:
    """How many of the cell's eight ops have no parameters (skip connections and pools)."""
    return sum(op in PARAM_FREE for op, _ in genotype.cell(cell))


def fitted_gcns(archs: list[Genotype], truth: np.ndarray, work: Path, csv: str) -> list[GCNPredictor]:
    """The GCNs of :data:`GCN_SEEDS` fitted to ``truth`` over ``archs``, cached under ``work``."""
    folder = work / f"gcn-{cache_key({'csv': csv, 'seeds': GCN_SEEDS}, None, ('predictors',))}"
    models = []
    for seed in GCN_SEEDS:
        path = folder / f"seed{seed}.pt"
        if not path.exists():
            tick = time.perf_counter()
            GCNPredictor(space="darts", seed=seed).fit(archs, truth).save(path)
            print(f"GCN seed {seed} fitted to {len(archs)} genotypes in {time.perf_counter() - tick:.0f} s", flush=True)
        models.append(load_predictor(path))
    return models


def predict(models: list[GCNPredictor], archs: list[Genotype]) -> np.ndarray:
    """The mean prediction of the GCNs."""
    return np.mean([m.predict(archs) for m in models], axis=0)


def train_method(name: str, seed: int, args: argparse.Namespace, data: ImageDataset, scale: float, work: Path) -> Path:
    """Train (or resume) one method at one seed; CPU seconds per epoch go to ``cpu_seconds.json``."""
    strategy, kwargs, default_lr = METHODS[METHOD_ROWS[name]]
    kwargs = {**kwargs, "arch_lr": default_lr * scale}
    run_dir = work / f"{name}-seed{seed}"
    done = len(load_run_supernet(run_dir).history) if checkpoint_path(run_dir).exists() else 0
    if done >= args.epochs:
        return run_dir
    cpu_file = run_dir / "cpu_seconds.json"
    cpu = json.loads(cpu_file.read_text()) if cpu_file.exists() else {}
    clock = [time.process_time()]

    def record_cpu(record: dict) -> None:
        now = time.process_time()
        cpu[str(record["epoch"])] = now - clock[0]
        clock[0] = now
        cpu_file.write_text(json.dumps(cpu))

    train_supernet(run_dir, dataset="imagefolder", data=data, strategy=strategy, strategy_kwargs=kwargs,
                   supernet=supernet_class("darts"), channels=args.channels, cells=args.cells,
                   epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                   seed=seed, device="cpu", resume=done > 0, progress=args.progress, callback=record_cpu)
    return run_dir


def run_row(name: str, seed: int, run_dir: Path, models: list[GCNPredictor], random_pred: np.ndarray,
            load: dict) -> dict:
    """One finished run: its genotype (and per epoch), costs, predicted accuracy and percentile, seconds."""
    space = get_space("darts")
    trained = load_run_supernet(run_dir)
    history = trained.history
    genotype = trained.derive()
    per_epoch = [space.parse(r["derived"]) for r in history]
    predicted = predict(models, [genotype, *per_epoch])
    costs = space.costs(genotype)
    cpu_file = run_dir / "cpu_seconds.json"
    cpu = json.loads(cpu_file.read_text()) if cpu_file.exists() else {}
    return {"method": name, "seed": seed, "strategy": trained.config["strategy"],
            "strategy_kwargs": trained.config["strategy_kwargs"], "run": run_dir.name,
            "genotype": space.format(genotype), "params_m": costs["params"], "flops_m": costs["flops"],
            "predicted_acc": float(predicted[0]),
            "predicted_percentile": float(100 * np.mean(random_pred < predicted[0])),
            "normal_param_free_ops": param_free_ops(genotype),
            "reduce_param_free_ops": param_free_ops(genotype, "reduce"),
            "genotype_per_epoch": [r["derived"] for r in history],
            "predicted_acc_per_epoch": [float(p) for p in predicted[1:]],
            "normal_param_free_ops_per_epoch": [param_free_ops(g) for g in per_epoch],
            "entropy_per_epoch": [r.get("entropy") for r in history],
            "max_weight_per_epoch": [r.get("max_weight") for r in history],
            "train_acc_per_epoch": [r["accuracy"] for r in history],
            "images_per_s_per_epoch": [r["images_per_s"] for r in history],
            "train_seconds": sum(r["seconds"] for r in history),
            "cpu_seconds": sum(cpu.values()) if len(cpu) == len(history) else None,
            "final_train_acc": history[-1]["accuracy"], "loadavg": load}


def anchors(archs: list[Genotype], columns: dict[str, np.ndarray], file_pred: np.ndarray, random_archs: list[Genotype],
            random_pred: np.ndarray) -> dict[str, float]:
    """The reference figures: the file's cells and the random genotypes, predicted and counted."""
    space = get_space("darts")
    random_params = np.array([space.costs(g)["params"] for g in random_archs])
    params = columns["params"]
    return {"nb301.cells": len(archs), "nb301.predicted_median": float(np.median(file_pred)),
            "nb301.predicted_max": float(file_pred.max()),
            "nb301.val_accuracy_median": float(np.median(columns["val_accuracy"])),
            "nb301.val_accuracy_max": float(columns["val_accuracy"].max()),
            "nb301.params_median": float(np.median(params)), "nb301.params_min": float(params.min()),
            "nb301.params_max": float(params.max()),
            "random.cells": len(random_archs), "random.predicted_median": float(np.median(random_pred)),
            "random.predicted_p90": float(np.percentile(random_pred, 90)),
            "random.predicted_max": float(random_pred.max()), "random.params_median": float(np.median(random_params))}


def method_figures(rows: list[dict], methods: list[str]) -> dict[str, float | int | None]:
    """Per method, the mean over seeds of each headline number."""
    figures: dict[str, float | int | None] = {}
    keys = ("params_m", "flops_m", "predicted_acc", "predicted_percentile", "normal_param_free_ops",
            "reduce_param_free_ops", "train_seconds", "cpu_seconds", "final_train_acc")
    for name in methods:
        mine = [r for r in rows if r["method"] == name]
        figures[f"{name}.seeds"] = len(mine)
        for key in keys:
            values = [r[key] for r in mine if r[key] is not None]
            figures[f"{name}.{key}"] = float(np.mean(values)) if values else None
        entropy = [r["entropy_per_epoch"][-1] for r in mine]
        figures[f"{name}.entropy_end"] = float(np.mean(entropy))
    return figures


def print_table(rows: list[dict], figures: dict, args: argparse.Namespace, train_images: int, scale: float) -> None:
    print(f"\nDARTS space, supernet C={args.channels} cells={args.cells} {args.image_size}x{args.image_size}, "
          f"{args.epochs} epochs of {train_images} images, batch {args.batch_size}, arch step sizes x{scale:.2f}")
    print("predicted acc: GCN (mean of 3 seeds) fitted to the val_accuracy of all 725 NAS-Bench-301 sample cells; "
          "no trained truth exists for a derived cell")
    print(f"{'method':<6} {'seed':>4} {'params M':>8} {'FLOPs M':>8} {'pred acc':>8} {'pctile':>6} "
          f"{'free ops':>8} {'entropy':>7} {'train acc':>9} {'train s':>7} {'CPU s':>6}  load avg")
    for r in rows:
        cpu = "-" if r["cpu_seconds"] is None else f"{r['cpu_seconds']:.0f}"
        print(f"{r['method']:<6} {r['seed']:>4} {r['params_m']:>8.3f} {r['flops_m']:>8.1f} {r['predicted_acc']:>8.2f} "
              f"{r['predicted_percentile']:>6.1f} {r['normal_param_free_ops']:>8} {r['entropy_per_epoch'][-1]:>7.3f} "
              f"{r['final_train_acc']:>9.1f} {r['train_seconds']:>7.0f} {cpu:>6}  "
              f"{r['loadavg']['start']} -> {r['loadavg']['end']}")
    print(f"{'nb301 cells':<12} params median {figures['nb301.params_median']:.3f} "
          f"[{figures['nb301.params_min']:.3f}, {figures['nb301.params_max']:.3f}]  predicted median "
          f"{figures['nb301.predicted_median']:.2f} max {figures['nb301.predicted_max']:.2f}  (true val_accuracy "
          f"median {figures['nb301.val_accuracy_median']:.2f} max {figures['nb301.val_accuracy_max']:.2f})")
    print(f"{'random':<12} params median {figures['random.params_median']:.3f}  predicted median "
          f"{figures['random.predicted_median']:.2f} p90 {figures['random.predicted_p90']:.2f} "
          f"max {figures['random.predicted_max']:.2f}")
    for r in rows:
        print(f"\n{r['method']} seed {r['seed']}: {r['genotype']}")
        for epoch, (g, p, f, e) in enumerate(zip(r["genotype_per_epoch"], r["predicted_acc_per_epoch"],
                                                 r["normal_param_free_ops_per_epoch"], r["entropy_per_epoch"]), 1):
            print(f"  epoch {epoch}: pred {p:.2f}  free ops {f}  entropy {e:.3f}  {g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="gaea,darts,nasp", help=f"any of {', '.join(METHOD_ROWS)}")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--data-root", default=None, help="image folder (default: shared images/cifar10-jpg)")
    parser.add_argument("--csv", default=None,
                        help="genotypes and truth (default: shared nb301/nb301_sample_cifar10.csv)")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=5, help="cells in all (two of them reductions)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=3e-4)
    parser.add_argument("--train-images", type=int, default=5120, help="first N images of the train half")
    parser.add_argument("--image-size", type=int, default=16, help="images are resized to this side (CPU: 16)")
    parser.add_argument("--arch-lr-scale", default="auto", help="factor on every default arch step size, or auto")
    parser.add_argument("--random", type=int, default=1000, help="random genotypes predicted as the anchor")
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--progress", action="store_true", help="show the training bars")
    parser.add_argument("--work", default="runs/bench/supernet_darts_methods")
    parser.add_argument("--label", default=None, help="results file suffix (default: none)")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR), help="folder of the results file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHOD_ROWS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose among {', '.join(METHOD_ROWS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    args.csv = args.csv or str(shared("nb301/nb301_sample_cifar10.csv"))
    out_name = f"supernet_darts_methods{'-' + args.label if args.label else ''}.json"
    bench = BenchmarkRun("supernet_darts_methods", args, label=args.label, out=Path(args.out_dir) / out_name)

    data = subset_data(load_images("imagefolder", root=args.data_root or str(shared("images/cifar10-jpg")),
                                   image_size=args.image_size), args.train_images)
    scale = arch_lr_scale(args, len(data.train))
    work = Path(args.work) / cache_key(args, TRAIN_KEYS, TRAIN_CODE)
    print(f"data {data}; arch step sizes x{scale:.2f}; work {work}", flush=True)
    load = {}
    for seed in seeds:
        for name in methods:
            start = [round(x, 2) for x in os.getloadavg()]
            wall, cpu = time.perf_counter(), time.process_time()
            train_method(name, seed, args, data, scale, work)
            load[(name, seed)] = {"start": start, "end": [round(x, 2) for x in os.getloadavg()],
                                  "wall_this_call": time.perf_counter() - wall,
                                  "cpu_this_call": time.process_time() - cpu}
            print(f"{name} seed {seed}: trained ({load[(name, seed)]['wall_this_call']:.0f} s this call)", flush=True)

    # -- the predictor: truth is used here, to fit, and nowhere else --------------------------
    archs, columns = read_sample(Path(args.csv), None)
    models = fitted_gcns(archs, columns["val_accuracy"], Path(args.work), args.csv)
    rng = np.random.default_rng(args.random_seed)
    random_archs = [get_space("darts").sample(rng) for _ in range(args.random)]
    random_pred = predict(models, random_archs)
    figures = anchors(archs, columns, predict(models, archs), random_archs, random_pred)
    rows = [run_row(name, seed, work / f"{name}-seed{seed}", models, random_pred, load[(name, seed)])
            for seed in seeds for name in methods]
    figures.update(method_figures(rows, methods))
    figures.update({"epochs": args.epochs, "train_images": len(data.train), "arch_lr_scale": scale})
    print_table(rows, figures, args, len(data.train), scale)
    bench.write(figures, {"rows": rows, "cache": work.name, "gcn_seeds": GCN_SEEDS,
                          "predicted_acc_is": "a GCN fitted to the val_accuracy of all 725 NAS-Bench-301 sample "
                                              "genotypes (mean of seeds 0, 1, 2): an estimate of a NAS-Bench-301-style "
                                              "accuracy; no trained truth exists for a derived cell"})


if __name__ == "__main__":
    main()
