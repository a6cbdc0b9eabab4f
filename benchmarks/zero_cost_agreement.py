"""gcnas's zero-cost proxies against NAS-Bench-Suite-Zero's published scores (NB201, CIFAR-10).

For ``--num-cells`` cells of ``nb201_zc_suite_zero.csv`` (joined on ``arch``), computes params,
FLOPs, synflow, NASWOT and jacov with :func:`gcnas.predictors.features.cell_features` (the
NAS-Bench-201 network C=16 N=5, one batch of 64 train-half CIFAR-10 images from the image folder,
initialisation seed 0) and reports, per proxy, the Spearman correlation between ours and theirs.
A second initialisation seed and batch (``--check-seed``) measures how much NASWOT and jacov
move with the batch and the initialisation alone: the agreement any reimplementation can
expect, since the published scores come from another batch and initialisation.

    python benchmarks/zero_cost_agreement.py                  # 120 cells, about 7 min on one core
    python benchmarks/zero_cost_agreement.py --num-cells 724  # every cell of the file
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import BenchmarkRun  # noqa: E402

from gcnas.data import RunStore, load_images  # noqa: E402
from gcnas.predictors.features import ProxySettings, cell_features  # noqa: E402
from gcnas.spaces.nb201 import Arch  # noqa: E402

THEIRS = {"params": "params", "flops": "flops", "synflow": "synflow", "naswot": "nwot", "jacov": "jacov"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-cells", type=int, default=120)
    parser.add_argument("--check-seed", type=int, default=1, help="second initialisation seed and batch")
    parser.add_argument("--work", default="runs/bench/zero_cost_agreement")
    parser.add_argument("--label", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("zero_cost_agreement", args, label=args.label)
    rows = [r for r in csv.DictReader(open(shared("nb201/nb201_zc_suite_zero.csv"))) if r["dataset"] == "cifar10"]
    rows = rows[:args.num_cells]
    archs = [Arch.parse(r["arch"]) for r in rows]
    data = load_images("imagefolder", root=str(shared("images/cifar10-jpg")), image_size=32)
    figures: dict[str, float] = {"num_cells": len(archs)}
    ours: dict[int, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    with RunStore(args.work) as store:
        for seed in (0, args.check_seed):
            images, _ = next(data.train.batches(64, shuffle=True, seed=seed, augment=False))
            ours[seed] = {}
            for name in THEIRS:
                if seed != 0 and name in ("params", "flops"):
                    continue
                tick = time.perf_counter()
                ours[seed].update(cell_features(archs, store=store, images=images, names=[name],
                                                settings=ProxySettings(seed=seed)))
                seconds[f"{name}.seed{seed}"] = time.perf_counter() - tick
    print(f"{len(archs)} cells of NAS-Bench-Suite-Zero (CIFAR-10); Spearman of gcnas vs published")
    print(f"{'proxy':<8} {'vs published':>12} {'other seed+batch vs published':>30} {'ours vs ours':>13}")
    for name, column in THEIRS.items():
        theirs = np.array([float(r[column]) for r in rows])
        mine = ours[0][name]
        finite = np.isfinite(mine) & np.isfinite(theirs)
        rho = float(spearmanr(mine[finite], theirs[finite])[0])
        figures[f"{name}.spearman"] = rho
        line = f"{name:<8} {rho:12.3f}"
        if name in ours[args.check_seed]:
            other = ours[args.check_seed][name]
            both = finite & np.isfinite(other)
            figures[f"{name}.spearman_other_seed"] = float(spearmanr(other[both], theirs[both])[0])
            figures[f"{name}.spearman_ours_vs_ours"] = float(spearmanr(mine[both], other[both])[0])
            line += f" {figures[f'{name}.spearman_other_seed']:30.3f} {figures[f'{name}.spearman_ours_vs_ours']:13.3f}"
        print(line)
    bench.write(figures, {"seconds": seconds})


if __name__ == "__main__":
    main()
