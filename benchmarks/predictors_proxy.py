"""The GCN-fitting claim on CPU: does a GCN fitted to a cheap, noisy proxy rank the
space better than the proxy itself?

``nb201_cifar10_12ep.csv`` (12 training epochs) stands in for the supernet's noisy
scores. K random architectures are "scored" with it (their 12-epoch ``valid_acc``), the
GCN is fitted to those scores and predicts every architecture; we compare the ranking of
the whole space by (a) the raw proxy, available for all 15,625 (an upper bound for a
supernet that scored everything) and (b) the GCN, against the 200-epoch ``test_acc``:
Kendall tau overall and within the true top 10%. Mean ± std over seeds.

    python benchmarks/predictors_proxy.py --sizes 100,1000 --seeds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _predictors_common import Results, mean_std, shared
from gcnas.data import BenchmarkTable
from gcnas.predictors import GCNPredictor, kendall_tau, top_kendall_tau


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/predictors_proxy.json")
    parser.add_argument("--report", action="store_true", help="only print the table of the stored results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    truth_table = BenchmarkTable(shared("nb201/nb201_cifar10_200ep.csv"))
    proxy_table = BenchmarkTable(shared("nb201/nb201_cifar10_12ep.csv"))
    archs = truth_table.archs
    truth = truth_table.column("test_acc")
    proxy = proxy_table.values(archs, "valid_acc")
    results = Results(args.out, compute=not args.report)
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        for seed in range(args.seeds):
            def run() -> dict:
                rows = np.random.default_rng(2000 + seed).permutation(len(archs))[:size]
                started = time.perf_counter()
                model = GCNPredictor(seed=seed).fit([archs[i] for i in rows], proxy[rows])
                fitted = time.perf_counter() - started
                predicted = model.predict(archs)
                return {"gcn_tau": kendall_tau(truth, predicted), "gcn_top10_tau": top_kendall_tau(truth, predicted),
                        "fit_seconds": fitted}
            results.get({"size": size, "seed": seed}, run)
    print("\n| ranking of all 15,625 by | Kendall tau vs 200-epoch test_acc | top-10% Kendall tau |")
    print("| --- | --- | --- |")
    print(f"| raw 12-epoch proxy (every architecture scored) | {kendall_tau(truth, proxy):.3f} | "
          f"{top_kendall_tau(truth, proxy):.3f} |")
    for size in sizes:
        rows = [r for r in results.rows if r["size"] == size]
        if rows:
            print(f"| GCN fitted to {size} proxy scores | {mean_std([r['gcn_tau'] for r in rows])} | "
                  f"{mean_std([r['gcn_top10_tau'] for r in rows])} |")


if __name__ == "__main__":
    main()
