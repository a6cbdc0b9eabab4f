"""Lookup-table build and query time for the whole space (15,625 architectures).

Build: a fitted GCN ensemble (5 members) predicts once per isomorphism class, then
params/FLOPs, the pixel3 latency column of ``nb201_latency_ms.csv`` and the analytic
energy model are joined and written to SQLite. Query: median wall time over repeats for
each query kind, next to the named baseline of a full scan (every row read into Python,
filtered and sorted there). Goals: build < 10 s, query < 10 ms.

    python benchmarks/predictors_lut.py --repeats 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch

from _predictors_common import shared
from _results import BenchmarkRun, add_output_arguments
from gcnas.data import BenchmarkTable, RunStore
from gcnas.predictors import GCNPredictor, LookupTable, load_predictor

QUERIES = {  # name in the results file: (description, query arguments)
    "top10": ("top-10 by accuracy, no bound", {}),
    "top10_latency": ("top-10, latency <= 5 ms", {"max_latency_ms": 5.0}),
    "top10_three_bounds": ("top-10, latency <= 5, params <= 0.5, energy <= 5",
                           {"max_latency_ms": 5.0, "max_params_m": 0.5, "max_energy_mj": 5.0}),
    "top10_four_bounds": ("top-10, all four bounds", {"max_latency_ms": 8.0, "max_params_m": 1.0,
                                                      "max_flops_m": 150.0, "max_energy_mj": 10.0}),
    "pareto_all": ("Pareto accuracy/latency, all", {"sort": "pareto", "top": None}),
    "pareto_params": ("Pareto accuracy/latency, params <= 0.5", {"sort": "pareto", "top": None, "max_params_m": 0.5}),
}


def timed(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def full_scan(store: RunStore, kwargs: dict) -> list:
    rows = store.select_lut()
    bounds = {"max_latency_ms": "latency_ms", "max_params_m": "params_m", "max_flops_m": "flops_m",
              "max_energy_mj": "energy_mj"}
    keep = [r for r in rows if all(r[c] <= kwargs[k] for k, c in bounds.items() if k in kwargs)]
    return sorted(keep, key=lambda r: -r["accuracy"])[:10]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--predictor", metavar="PT", help="a fitted predictor file (default: fit a GCN on 100 archs)")
    add_output_arguments(parser, "predictors_lut")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("predictors_lut", args)
    figures: dict = {"fit_seconds": None}
    table = BenchmarkTable(shared("nb201/nb201_cifar10_200ep.csv"))
    latency = f"{shared('nb201/nb201_latency_ms.csv')}:pixel3"
    if args.predictor:
        model = load_predictor(args.predictor)
    else:
        rows = np.random.default_rng(0).permutation(len(table))[:100]
        archs = table.archs
        started = time.perf_counter()
        model = GCNPredictor(seed=0).fit([archs[i] for i in rows], table.column("valid_acc")[rows])
        figures["fit_seconds"] = time.perf_counter() - started
        print(f"GCN fit on 100 archs (ensemble 5): {figures['fit_seconds']:.1f} s (not part of the build)")
    print(f"predictor: {model!r}")
    with tempfile.TemporaryDirectory() as run:
        store = RunStore(run)
        builds = []
        for _ in range(args.builds):
            started = time.perf_counter()
            lut = LookupTable.build(store, model, latency=latency, energy="model")
            builds.append(time.perf_counter() - started)
        print(f"\nLUT build, 15,625 archs, columns {lut.columns}: "
              f"median {statistics.median(builds):.2f} s over {len(builds)} builds (goal < 10 s)\n")
        print("| query | rows | median ms (goal < 10) | full-scan baseline ms | speed-up |")
        print("| --- | --- | --- | --- | --- |")
        figures.update({"builds": len(builds), "build_median_s": statistics.median(builds)})
        for slug, (name, kwargs) in QUERIES.items():
            result = lut.query(**kwargs)
            ms = timed(lambda: lut.query(**kwargs), args.repeats)
            scan = "-"
            ratio = "-"
            figures.update({f"{slug}.rows": len(result), f"{slug}.query_ms": ms})
            if kwargs.get("sort") != "pareto":
                scan_ms = timed(lambda: full_scan(store, kwargs), max(3, args.repeats // 10))
                scan, ratio = f"{scan_ms:.1f}", f"{scan_ms / ms:.0f}x"
                figures.update({f"{slug}.scan_ms": scan_ms, f"{slug}.speedup": scan_ms / ms})
            print(f"| {name} | {len(result)} | {ms:.2f} | {scan} | {ratio} |")
        store.close()
    bench.write(figures, details={"predictor": repr(model), "queries": {k: v[1] for k, v in QUERIES.items()},
                                "build_seconds": builds})


if __name__ == "__main__":
    main()
