"""The GCN-fitting claim on CPU: does a GCN fitted to a cheap, noisy proxy rank the
space better than the proxy itself?

``nb201_cifar10_12ep.csv`` (12 training epochs) stands in for the supernet's noisy
scores. K random architectures are "scored" with it (their 12-epoch ``valid_acc``), the
GCN is fitted to those scores and predicts every architecture; we compare the ranking of
the whole space by (a) the raw proxy, available for all 15,625 (an upper bound for a
supernet that scored everything) and (b) the GCN, against the 200-epoch ``test_acc``:
Kendall tau overall and within the true top 10%. Mean ± std over seeds. Finished rows are
cached under ``runs/bench/predictors_proxy/`` (keyed by the code version).

    python benchmarks/predictors_proxy.py --sizes 100,1000 --seeds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _predictors_common import RowCache, mean_std, shared, summary_figures
from _results import BenchmarkRun, add_output_arguments
from gcnas.data import BenchmarkTable
from gcnas.predictors import GCNPredictor, kendall_tau, top_kendall_tau


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="only print the table of the cached rows")
    add_output_arguments(parser, "predictors_proxy")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("predictors_proxy", args)
    truth_table = BenchmarkTable(shared("nb201/nb201_cifar10_200ep.csv"))
    proxy_table = BenchmarkTable(shared("nb201/nb201_cifar10_12ep.csv"))
    archs = truth_table.archs
    truth = truth_table.column("test_acc")
    proxy = proxy_table.values(archs, "valid_acc")
    cache = RowCache(bench.cache_dir(keys=[]) / "rows.json", compute=not args.report)
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for size in sizes:
        for seed in seeds:
            def measure() -> dict:
                rows = np.random.default_rng(2000 + seed).permutation(len(archs))[:size]
                started = time.perf_counter()
                model = GCNPredictor(seed=seed).fit([archs[i] for i in rows], proxy[rows])
                fitted = time.perf_counter() - started
                predicted = model.predict(archs)
                return {"gcn_tau": kendall_tau(truth, predicted), "gcn_top10_tau": top_kendall_tau(truth, predicted),
                        "fit_seconds": fitted}
            cache.get({"size": size, "seed": seed}, measure)
    print("\n| ranking of all 15,625 by | Kendall tau vs 200-epoch test_acc | top-10% Kendall tau |")
    print("| --- | --- | --- |")
    figures: dict = {"proxy.kendall_tau": kendall_tau(truth, proxy),
                     "proxy.top10_kendall_tau": top_kendall_tau(truth, proxy)}
    print(f"| raw 12-epoch proxy (every architecture scored) | {figures['proxy.kendall_tau']:.3f} | "
          f"{figures['proxy.top10_kendall_tau']:.3f} |")
    used = []
    for size in sizes:
        rows = [r for r in cache.rows if r["size"] == size and r["seed"] in seeds]
        used += rows
        if rows:
            figures.update(summary_figures(f"gcn@{size}", rows, ("gcn_tau", "gcn_top10_tau", "fit_seconds")))
            print(f"| GCN fitted to {size} proxy scores | {mean_std([r['gcn_tau'] for r in rows])} | "
                  f"{mean_std([r['gcn_top10_tau'] for r in rows])} |")
    if not args.report:
        bench.write(figures, details={"seeds": seeds, "rows": used})


if __name__ == "__main__":
    main()
