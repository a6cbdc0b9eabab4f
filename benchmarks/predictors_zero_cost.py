"""Zero-cost proxies as graph-level inputs of the GCN predictor: with and without, on the same splits.

The protocol of ``predictors_ranking.py``: fit to ``valid_acc`` of K random NAS-Bench-201 cells
(seed ``s`` draws them with ``default_rng(1000 + s)`` and seeds the model), rank all the others,
score against their ``test_acc`` (Kendall tau; Kendall tau within the true top 10%; precision@10%).
``gcn`` is the default GCN (it already feeds the log parameter count to its head);
``gcn+zc`` adds ``features=ProxyFeatures()`` (log params, log FLOPs, synflow of the canonical
cell, read from the ``--zc-store`` cache), standardised on the training cells by the predictor.

    python benchmarks/predictors_zero_cost.py --sizes 100,1000 --seeds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _predictors_common import RowCache, mean_std, summary_figures
from _results import CACHE_ROOT, BenchmarkRun, add_output_arguments
from gcnas.data import RunStore
from gcnas.data.table_specs import open_table
from gcnas.predictors import make_predictor, ranking_report
from gcnas.search.features import ProxyFeatures

METRICS = ("kendall_tau", "top10_kendall_tau", "precision_at_10", "spearman", "fit_seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="gcn,gcn+zc", help="MODEL or MODEL+zc (any make_predictor name)")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=100,
                        help="first seed (default 100, as predictors_ranking.py: seeds 0-4 tuned the GCN)")
    parser.add_argument("--zc-store", default=str(CACHE_ROOT / "nb201-zc"))
    add_output_arguments(parser, "predictors_zero_cost")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("predictors_zero_cost", args)
    table = open_table("nb201:cifar10")
    archs, valid, test = table.archs, table.column("valid_acc"), table.column("test_acc")
    cache = RowCache(bench.cache_dir(keys=["zc_store"]) / "rows.json")
    models, sizes = args.models.split(","), [int(s) for s in args.sizes.split(",")]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    with RunStore(args.zc_store, mode="ro") as store:
        zc = ProxyFeatures(store=store)
        zc(archs)  # read the cache once, while the store is open
        for size in sizes:
            for model in models:
                for seed in seeds:
                    def measure() -> dict:
                        rows = np.random.default_rng(1000 + seed).permutation(len(archs))
                        train, rest = rows[:size], rows[size:]
                        name, *extra = model.split("+")
                        started = time.perf_counter()
                        predictor = make_predictor(name, seed=seed, **({"features": zc} if extra else {}))
                        predictor.fit([archs[i] for i in train], valid[train])
                        fitted = time.perf_counter() - started
                        report = ranking_report(test[rest], predictor.predict([archs[i] for i in rest]))
                        return {**report, "fit_seconds": fitted}
                    row = cache.get({"model": model, "size": size, "seed": seed}, measure)
                    print(f"{model} K={size} seed {seed}: tau {row['kendall_tau']:.3f}", flush=True)
    print(f"\nseeds {seeds[0]}-{seeds[-1]}\n| model | K | Kendall tau | top-10% Kendall tau | precision@10% | fit s |")
    print("| --- | --- | --- | --- | --- | --- |")
    figures: dict = {}
    for size in sizes:
        for model in models:
            rows = [r for r in cache.rows if r["model"] == model and r["size"] == size and r["seed"] in seeds]
            if rows:
                figures.update(summary_figures(f"{model}@{size}", rows, METRICS))
                print(f"| {model} | {size} | {mean_std([r['kendall_tau'] for r in rows])} | "
                      f"{mean_std([r['top10_kendall_tau'] for r in rows])} | "
                      f"{mean_std([r['precision_at_10'] for r in rows])} | "
                      f"{np.mean([r['fit_seconds'] for r in rows]):.1f} |")
    bench.write(figures, details={"seeds": seeds})


if __name__ == "__main__":
    main()
