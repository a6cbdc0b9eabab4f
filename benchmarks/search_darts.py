"""Search on the 725 NAS-Bench-301 cells: does BO find the best of them within 100 queries?

Reads ``../shared/data/nb301/nb301_sample_cifar10.csv`` (725 DARTS genotypes with their
NAS-Bench-301 CIFAR-10 ``val_accuracy``). The 725 are the candidate pool of every method
(``candidates=``), ``val_accuracy`` the table objective (:class:`gcnas.search.SpaceTable`,
cells found by ``space.key``), which no searcher reads except through its queries. Methods:

* ``bo-onehot``: BO (qLogNEI on a GP) over the one-hot of the 24 decisions (152 columns);
* ``bo-graph``: BO over graph statistics of both cells (node-type counts, edges, depth:
  :func:`gcnas.search.graph_features`, 26 columns);
* ``bo-graph+costs``: the same plus the logs of params and FLOPs that the space counts on each
  cell's network (``space.costs``: no training, nothing read from the table);
* ``random``: random search over the 725;
* ``evolution``: regularised evolution (population 20, tournament 5); a child is the
  unevaluated pool cell nearest its parent (a one-step mutation never lands in the pool);
* ``reinforce``: REINFORCE with the LSTM controller over the 24 decisions, sampling among
  the 725.

Budget 100 queries, the first 10 random for BO; seeds 300-319 by default. The feature maps
were chosen on seeds 0-5 (graph + costs found the best on 6 of 6 there); a first run of
``bo-onehot`` on seeds 300-315 was seen before that choice, nothing else of 300-319. For each method: the fraction of seeds
whose 100 queries include the best of the 725, the median number of queries to it (seeds
that never found it count as budget + 1), and the median incumbent at 25/50/100 queries.

Each (method, seed) row is cached under ``runs/bench/search_darts/`` (keyed by the settings
and the code), so an interrupted run resumes.

    python benchmarks/search_darts.py                       # 20 seeds x 6 methods
    python benchmarks/search_darts.py --seeds 2 --methods bo-onehot,random --budget 30
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from gcnas.search import (BayesianOptimization, RandomSearch, RegularizedEvolution, ReinforceSearch, SpaceTable,
                          TableObjective, run_search)
from gcnas.spaces import get_space

try:
    from _predictors_common import RowCache
    from _results import CACHE_ROOT, REPO, BenchmarkRun, add_output_arguments, cache_key
except ImportError:  # imported as benchmarks.search_darts
    from benchmarks._predictors_common import RowCache
    from benchmarks._results import CACHE_ROOT, REPO, BenchmarkRun, add_output_arguments, cache_key

DEFAULT_CSV = REPO.parent / "shared" / "data" / "nb301" / "nb301_sample_cifar10.csv"
METHODS = ("bo-onehot", "bo-graph", "bo-graph+costs", "random", "evolution", "reinforce")
CHECKPOINTS = (25, 50, 100)


def make_searcher(method: str, cells: list, n_init: int):
    """The searcher of ``method`` over the pool ``cells`` of the DARTS space."""
    space = get_space("darts")
    if method.startswith("bo-"):
        return BayesianOptimization(features=method[len("bo-"):], n_init=n_init, space=space, candidates=cells)
    if method == "random":
        return RandomSearch(space=space, candidates=cells)
    if method == "evolution":
        return RegularizedEvolution(population_size=20, sample_size=5, space=space, candidates=cells)
    if method == "reinforce":
        return ReinforceSearch(space=space, candidates=cells)
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def one_run(method: str, seed: int, table: SpaceTable, budget: int, n_init: int) -> dict:
    """One search: the queries it took to reach the best of the table, and its incumbent curve."""
    objective = TableObjective("val_accuracy", table=table)
    best = float(table.column("val_accuracy").max())
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_search(make_searcher(method, table.archs, n_init), [objective], budget=budget, seed=seed)
    curve = result.best_so_far("val_accuracy")
    hit = np.flatnonzero(curve >= best)
    return {"found": bool(len(hit)), "queries_to_best": int(hit[0]) + 1 if len(hit) else None,
            "incumbent": {str(k): float(curve[min(k, len(curve)) - 1]) for k in CHECKPOINTS if k <= budget},
            "seconds": time.perf_counter() - began}


def summary(method: str, rows: list[dict], budget: int) -> dict:
    """Headline figures of one method over its seeds."""
    found = [r["found"] for r in rows]
    queries = [r["queries_to_best"] if r["found"] else budget + 1 for r in rows]
    figures = {f"{method}.found_fraction": float(np.mean(found)),
               f"{method}.median_queries_to_best": float(np.median(queries)),
               f"{method}.seconds_per_run": float(np.mean([r["seconds"] for r in rows]))}
    for k in CHECKPOINTS:
        if k <= budget:
            figures[f"{method}.median_incumbent_at_{k}"] = float(np.median([r["incumbent"][str(k)] for r in rows]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("GCNAS_NB301_CSV", DEFAULT_CSV)))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=20, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=300, help="first seed (0-9 were seen while developing)")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--n-init", type=int, default=10, help="random queries before BO's first model")
    add_output_arguments(parser, "search_darts")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("search_darts", args)
    table = SpaceTable(args.csv, "darts", arch_column="genotype")
    accuracy = table.column("val_accuracy")
    cache = RowCache(CACHE_ROOT / "search_darts" / cache_key({"csv": str(args.csv.resolve()), "budget": args.budget,
                                                              "n_init": args.n_init}, packages=["search", "spaces"])
                     / "rows.json")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    methods = [m for m in args.methods.split(",") if m]
    figures: dict = {"cells": len(table), "best_val_accuracy": float(accuracy.max()),
                     "second_val_accuracy": float(np.sort(accuracy)[-2]), "budget": args.budget, "seeds": len(seeds)}
    rows_by_method = {}
    for method in methods:
        rows = [cache.get({"method": method, "seed": seed},
                          lambda m=method, s=seed: one_run(m, s, table, args.budget, args.n_init)) for seed in seeds]
        rows_by_method[method] = rows
        figures.update(summary(method, rows, args.budget))
    print(f"{'method':<18} found  median queries  incumbent@25/50/100")
    for method in methods:
        print(f"{method:<18} {figures[f'{method}.found_fraction']:5.2f}  "
              f"{figures[f'{method}.median_queries_to_best']:14.1f}  "
              + " / ".join(f"{figures.get(f'{method}.median_incumbent_at_{k}', float('nan')):.3f}"
                           for k in CHECKPOINTS))
    bench.write(figures, details={"seeds": seeds, "rows": rows_by_method,
                                  "best_genotype": table.space.format(table.archs[int(np.argmax(accuracy))])})


if __name__ == "__main__":
    main()
