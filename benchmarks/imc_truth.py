"""Truth for the IMC macro space: sampled networks trained from scratch on the CIFAR-10 image folder.

The macro space (``gcnas.spaces.get_space("imc")``) holds about 1.05e9 networks and has no
published table, so this benchmark makes one, once: ``--num`` networks drawn uniformly
(seeded), each trained from scratch with :func:`gcnas.supernet.train_standalone` on the first
``--train-images`` images of the train half of ``images/cifar10-jpg`` (resized to
``--image-size``), at the CPU shape ``--channels``, then tested on the 10,000 test images.
Beside each network's accuracies it writes its counted params and FLOPs at the trained shape
and its IMC latency, energy and area (``gcnas.hardware.imc_costs_of``, default crossbar
configuration) at the deployed shape, the space's default (``channels=32``, 32x32 images: the
figures ``--latency imc`` / ``--energy imc`` give every other stage), into
``benchmarks/results/imc_truth[-LABEL].csv``; the results file holds the spread of the
accuracies and the training time.

Every network is cached on its own under ``runs/bench/imc_truth/<settings>-<code>/``: an
interrupted run resumes where it stopped. The truth is for judging only: the ranking and
search benchmarks of this space (``imc_ranking.py``, ``imc_search.py``) read it after they
have fitted and searched.

    python benchmarks/imc_truth.py                      # 60 networks: about an hour on one core
    python benchmarks/imc_truth.py --num 3 --epochs 1 --train-images 512 --label toy   # a minute
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import BenchmarkRun  # noqa: E402
from supernet_ranking import subset_data  # noqa: E402

from gcnas.data import load_images  # noqa: E402
from gcnas.hardware import imc_costs_of  # noqa: E402
from gcnas.spaces import get_space  # noqa: E402
from gcnas.supernet import train_standalone  # noqa: E402

TRAIN_KEYS = ("num", "seed", "channels", "image_size", "epochs", "train_images", "valid_images", "batch_size",
              "lr", "weight_decay", "data_root")
COLUMNS = ("index", "arch", "test_accuracy", "valid_accuracy", "train_accuracy", "params_m", "flops_m",
           "imc_latency_ms", "imc_energy_uj", "imc_area_mm2", "depth", "seconds")


def sample_networks(num: int, seed: int) -> list:
    """``num`` distinct networks of the macro space drawn uniformly with ``seed``."""
    space = get_space("imc")
    rng = np.random.default_rng(seed)
    archs, seen = [], set()
    while len(archs) < num:
        arch = space.sample(rng)
        if space.key(arch) not in seen:
            seen.add(space.key(arch))
            archs.append(arch)
    return archs


def read_truth(path: str | Path) -> tuple[list, dict[str, np.ndarray]]:
    """The networks of a truth CSV written by this benchmark and its numeric columns."""
    space = get_space("imc")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    archs = [space.parse(row["arch"]) for row in rows]
    columns = {name: np.array([float(row[name]) for row in rows]) for name in COLUMNS if name not in ("arch",)}
    return archs, columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="image folder (default: shared images/cifar10-jpg)")
    parser.add_argument("--num", type=int, default=60, help="networks drawn and trained")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw and of every training")
    parser.add_argument("--channels", type=int, default=8, help="the widest width of stage 0 (and the stem)")
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=20000, help="first N images of the train half")
    parser.add_argument("--valid-images", type=int, default=2000, help="first N images of the valid half")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--label", default=None, help="names the results: imc_truth-LABEL.json / .csv")
    parser.add_argument("--out", default=None, help="results file (default benchmarks/results/imc_truth[-LABEL].json)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.data_root = args.data_root or str(shared("images/cifar10-jpg"))
    bench = BenchmarkRun("imc_truth", args)
    cache = bench.cache_dir(keys=TRAIN_KEYS, packages=["supernet", "data", "hardware"])
    space = get_space("imc")

    data = subset_data(load_images("imagefolder", root=args.data_root, image_size=args.image_size), args.train_images)
    from gcnas.data.images import ImageSplit
    v = data.valid
    data.valid = ImageSplit(v.x[:args.valid_images], v.y[:args.valid_images], v.mean, v.std, v.augment)
    archs = sample_networks(args.num, args.seed)
    print(f"{data}; {len(archs)} networks; cache {cache}", flush=True)

    rows = []
    for index, arch in enumerate(archs):
        path = cache / f"{index:04d}.json"
        if path.exists():
            row = json.loads(path.read_text())
        else:
            result = train_standalone(arch, space=space, cells=None, data=data, dataset="imagefolder",
                                      epochs=args.epochs, channels=args.channels, seed=args.seed,
                                      batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                                      device="cpu")
            costs = space.costs(arch, channels=args.channels, input_size=args.image_size,
                                num_classes=data.num_classes)
            imc = imc_costs_of(space, arch, num_classes=data.num_classes)  # the deployed shape, as `--latency imc`
            row = {"index": index, "arch": space.format(arch), "test_accuracy": result["test_accuracy"],
                   "valid_accuracy": result["valid_accuracy"], "train_accuracy": result["train_accuracy"],
                   "params_m": costs["params"], "flops_m": costs["flops"],
                   "imc_latency_ms": imc.latency_ms, "imc_energy_uj": imc.energy_uj, "imc_area_mm2": imc.area_mm2,
                   "depth": arch.depth, "seconds": result["seconds"]}
            path.write_text(json.dumps(row))
        rows.append(row)
        print(f"[{index + 1}/{len(archs)}] {row['arch']}: test {row['test_accuracy']:.2f}%  "
              f"{row['params_m']:.3f} M params  {row['seconds']:.0f} s", flush=True)

    csv_path = Path(bench.path).with_suffix(".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    test = np.array([r["test_accuracy"] for r in rows])
    seconds = np.array([r["seconds"] for r in rows])
    figures = {"num_networks": len(rows), "test_accuracy_mean": float(test.mean()),
               "test_accuracy_std": float(test.std()), "test_accuracy_min": float(test.min()),
               "test_accuracy_max": float(test.max()), "train_seconds_total": float(seconds.sum()),
               "train_seconds_median": float(np.median(seconds))}
    bench.write(figures, {"csv": csv_path.name, "cache": cache.name})
    print(f"\n{len(rows)} networks: test accuracy {test.mean():.2f} +- {test.std():.2f} "
          f"(min {test.min():.2f}, max {test.max():.2f}); {seconds.sum() / 60:.1f} min of training; {csv_path}")


if __name__ == "__main__":
    main()
