"""Latency prediction (BRP-NAS style): the GCN fitted to measured latency per device.

For each device column of ``nb201_latency_ms.csv``, the GCN is fitted to log latency of
K random architectures (``prune=False, isomorphs=0``: a conv on a dead path still costs
time, and isomorphic cells do not share a latency) and predicts all the others. Figure:
the share predicted within ±10% of the measurement (mean ± std over seeds). Named
baseline in the same run: a least-squares line latency ~ a * FLOPs + b fitted on the same
K architectures. Finished rows are cached under ``runs/bench/predictors_latency/`` (keyed by
the code version) and reused on rerun; the results file holds the rows this command asked for.

    python benchmarks/predictors_latency.py --sizes 100,900 --seeds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _predictors_common import RowCache, mean_std, shared, summary_figures
from _results import BenchmarkRun, add_output_arguments
from gcnas.data import BenchmarkTable
from gcnas.spaces.nb201.counts import network_costs_many
from gcnas.predictors import GCNPredictor


def within(pred: np.ndarray, true: np.ndarray, tolerance: float = 0.1) -> float:
    return float(np.mean(np.abs(pred / true - 1) <= tolerance))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", default="gold_6240,1080ti_1,pixel3,fpga,eyeriss")
    parser.add_argument("--sizes", default="100,900")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="only print the table of the cached rows")
    add_output_arguments(parser, "predictors_latency")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("predictors_latency", args)
    table = BenchmarkTable(shared("nb201/nb201_latency_ms.csv"))
    archs = table.archs
    flops = network_costs_many(archs)["flops_m"]
    cache = RowCache(bench.cache_dir(keys=[]) / "rows.json", compute=not args.report)
    devices, sizes = args.devices.split(","), [int(s) for s in args.sizes.split(",")]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for device in devices:
        latency = table.column(device)
        for size in sizes:
            for seed in seeds:
                def measure() -> dict:
                    rows = np.random.default_rng(3000 + seed).permutation(len(archs))
                    train, rest = rows[:size], rows[size:]
                    started = time.perf_counter()
                    model = GCNPredictor(seed=seed, prune=False, isomorphs=0, rank_weight=0.0)
                    model.fit([archs[i] for i in train], np.log(latency[train]))
                    fitted = time.perf_counter() - started
                    gcn = np.exp(model.predict([archs[i] for i in rest]))
                    slope, intercept = np.polyfit(flops[train], latency[train], 1)
                    line = slope * flops[rest] + intercept
                    return {"gcn_within_10": within(gcn, latency[rest]), "flops_within_10": within(line, latency[rest]),
                            "fit_seconds": fitted}
                cache.get({"device": device, "size": size, "seed": seed}, measure)
    print("\n| device | K | GCN within ±10% | FLOPs line within ±10% | fit s |")
    print("| --- | --- | --- | --- | --- |")
    figures: dict = {}
    used = []
    for device in devices:
        for size in sizes:
            rows = [r for r in cache.rows if r["device"] == device and r["size"] == size and r["seed"] in seeds]
            used += rows
            if rows:
                figures.update(summary_figures(f"{device}@{size}", rows,
                                               ("gcn_within_10", "flops_within_10", "fit_seconds")))
                print(f"| {device} | {size} | {mean_std([r['gcn_within_10'] for r in rows])} | "
                      f"{mean_std([r['flops_within_10'] for r in rows])} | "
                      f"{np.mean([r['fit_seconds'] for r in rows]):.1f} |")
    if not args.report:
        bench.write(figures, details={"seeds": seeds, "rows": used})


if __name__ == "__main__":
    main()
