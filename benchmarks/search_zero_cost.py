"""Zero-cost proxies in BO's surrogate: the same BO with and without ``+zc`` (params, FLOPs, synflow).

Single objective on NAS-Bench-201 CIFAR-10 (the packaged table ``nb201:cifar10``): BO searches
``valid_acc``; the figure is how many queries it takes to evaluate the best-valid cell itself
(code 11667), per seed, for each feature map, on the same seeds (every BO of one seed starts from
the same 10 random cells). Reported: median queries, the share of seeds that found it within 25,
50, 100 queries, and the seed-paired sign test of each map against the map plus ``zc``.

The proxies come from a run store that caches them for the 6,466 canonical cells
(``--zc-store``, default ``runs/bench/nb201-zc``: params, FLOPs, synflow of NAS-Bench-201's
network, C=16, N=5, seed 0); each cell takes its canonical cell's values. A search stops once it
has evaluated the best-valid cell (what happens after does not change the figure); a seed that
never finds it counts as budget + 1. Each (method, seed) is cached under
``runs/bench/search_zero_cost/`` (keyed by the table, the budget, the store and the code), so a
killed run resumes and a rerun only summarises.

    python benchmarks/search_zero_cost.py --seeds 20 --first-seed 200 --budget 150
"""

from __future__ import annotations

import argparse
import functools
import json
import time
import warnings

import numpy as np
import torch

from gcnas.data import RunStore
from gcnas.data.table_specs import open_table
from gcnas.search import BayesianOptimization, TableObjective, run_search
from gcnas.search.features import ConcatFeatures, make_features

try:
    from _results import CACHE_ROOT, BenchmarkRun, add_output_arguments
    from search_single import benchmark_features, paired, paired_counts
except ImportError:  # imported as benchmarks.search_zero_cost
    from benchmarks._results import CACHE_ROOT, BenchmarkRun, add_output_arguments
    from benchmarks.search_single import benchmark_features, paired, paired_counts

DEFAULT_METHODS = "bo-arch2vec+stats,bo-arch2vec+stats+zc,bo-onehot+stats,bo-onehot+stats+zc"


class Found(Exception):
    """Raised from the trial callback once the best-valid cell was evaluated: the search stops there."""


@functools.lru_cache(maxsize=None)
def features(spec: str, zc_store: RunStore):
    """``arch2vec+stats+zc``: search_single's maps (cached arch2vec, onehot, stats) joined with the store's
    proxies; made once per spec (a later edit of gcnas does not retrain arch2vec halfway through)."""
    parts = spec.split("+")
    base = [p for p in parts if p != "zc"]
    maps = [benchmark_features("+".join(base))] if base else []
    if "zc" in parts:
        maps.append(make_features("zc", store=zc_store))
    return ConcatFeatures(maps, name=spec) if len(maps) > 1 else maps[0]


def queries_to_best(method: str, seed: int, *, table, target: int, budget: int, zc_store: RunStore) -> dict:
    """One BO search until it evaluates ``target`` (a code) or spends ``budget``: its trial number and time."""
    if not method.startswith("bo-"):
        raise SystemExit(f"unknown method {method}; use bo-FEATURES with FEATURES joined from arch2vec, onehot, "
                         "stats and zc")
    bo = BayesianOptimization(features=features(method[len("bo-"):], zc_store), n_init=10)
    seen: list[int] = []

    def stop(trial) -> None:
        seen.append(trial.arch.code)
        if trial.arch.code == target:
            raise Found

    began = time.perf_counter()
    try:
        run_search(bo, [TableObjective("valid_acc", table=table)], budget=budget, seed=seed, callback=stop)
    except Found:
        pass
    found = seen.index(target) + 1 if target in seen else None
    return {"found": found, "evaluated": len(seen), "seconds": time.perf_counter() - began}


def summary(queries: list[int], budget: int) -> dict[str, float]:
    """Median queries (a miss counts as budget + 1) and the share of seeds found within 25/50/100/budget."""
    q = np.asarray(queries, dtype=float)
    row = {"median": float(np.median(q)), "mean": float(np.mean(q)), "p90": float(np.percentile(q, 90))}
    for at in sorted({25, 50, 100, budget}):
        if at <= budget:
            row[f"within{at}"] = float(np.mean(q <= at))
    return row


def report(bench: BenchmarkRun, args: argparse.Namespace, records: dict[str, dict[int, dict]], target,
           final: bool) -> None:
    """The figures of the seeds every method has finished: printed at the end, written each time."""
    methods = list(records)
    seeds = sorted(set.intersection(*(set(r) for r in records.values())))
    if not seeds:
        return
    queries = {m: [records[m][s]["found"] or args.budget + 1 for s in seeds] for m in methods}
    figures: dict = {"seeds": len(seeds), "first_seed": seeds[0], "budget": args.budget,
                     "target": str(target), "target_code": target.code}
    out = [f"\nqueries until the best-valid cell {target.code} was evaluated, seeds {seeds[0]}-{seeds[-1]} "
           f"({len(seeds)}), budget {args.budget} (a miss counts {args.budget + 1}):",
           "method | median | mean | p90 | "
           + " | ".join(k for k in summary([1], args.budget) if k.startswith("within"))]
    for m in methods:
        row = summary(queries[m], args.budget)
        figures.update({f"{m}.{k}": v for k, v in row.items()})
        out.append(f"{m} | " + " | ".join(f"{v:.3g}" for v in row.values()))
    pairs = args.pairs.split(",") if args.pairs else [f"{m}:{m}+zc" for m in methods if f"{m}+zc" in methods]
    for pair in filter(None, pairs):
        a, b = pair.split(":")
        if a in queries and b in queries:
            out.append(paired(b, queries[b], a, queries[a]))
            figures.update({f"pair.{b}:{a}.{k}": v for k, v in paired_counts(queries[b], queries[a]).items()})
    if final:
        print("\n".join(out), flush=True)
    details = {"complete": final, "seed_list": seeds,
               "queries": {m: dict(zip(map(str, seeds), q)) for m, q in queries.items()},
               "records": {m: {str(s): rs[s] for s in seeds} for m, rs in records.items()}}
    bench.write(figures, details=details)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=200,
                        help="first seed (default 200: held out; seeds 0-49 and 100-104 chose the defaults)")
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--methods", default=DEFAULT_METHODS,
                        help="bo-FEATURES, FEATURES joined with '+' from arch2vec, onehot, stats, zc")
    parser.add_argument("--table", default="nb201:cifar10")
    parser.add_argument("--zc-store", default=str(CACHE_ROOT / "nb201-zc"),
                        help="run store caching params, flops and synflow of the canonical cells")
    parser.add_argument("--pairs", default=None, help="A:B,... compared seed by seed (default: each map vs map+zc)")
    add_output_arguments(parser, "search_zero_cost")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    bench = BenchmarkRun("search_zero_cost", args)
    table = open_table(args.table)
    valid = table.column("valid_acc")
    target = table.archs[int(np.argmax(valid))]
    cache_dir = bench.cache_dir(keys=["table", "budget", "zc_store"])
    methods = args.methods.split(",")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    records: dict[str, dict[int, dict]] = {m: {} for m in methods}
    with RunStore(args.zc_store, mode="ro") as zc_store:
        for seed in seeds:  # seed by seed, so that a run stopped early leaves paired results
            for method in methods:
                cache = cache_dir / f"{method}_s{seed}.json"
                if cache.exists():
                    record = json.loads(cache.read_text())
                else:
                    record = queries_to_best(method, seed, table=table, target=target.code, budget=args.budget,
                                             zc_store=zc_store)
                    cache.write_text(json.dumps(record))
                records[method][seed] = record
                print(f"{method} seed {seed}: found at {record['found']} ({record['seconds']:.0f} s)", flush=True)
            report(bench, args, records, target, final=False)  # the results file so far, seeds in full
    report(bench, args, records, target, final=True)


if __name__ == "__main__":
    main()
