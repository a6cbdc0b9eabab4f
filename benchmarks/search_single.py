"""Single-objective search on NAS-Bench-201 CIFAR-10: select on valid_acc, report test_acc.

Methods: BO over arch2vec (with and without the live-graph statistics), BO over one-hot
(of the canonical cell, with statistics, and of the raw cell as written), regularised
evolution and random search, on the same seeds (paired: the same 10 random initial
architectures for every BO). Prints the median incumbent test accuracy at 25/50/100/150 queries, the
fraction of seeds that found the best-valid architecture (the optimum: its test accuracy, read
from the table), and the mean time of a BO step; the baselines in the same run are the comparison.

Each (method, seed) search is cached under ``runs/bench/search_single/`` in a folder keyed by the
table, the budget and the code version; the results file holds the figures of this command.

    python benchmarks/search_single.py --seeds 20 --budget 150
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from gcnas.data import BenchmarkTable
from gcnas.search import (BayesianOptimization, Constraint, EmbeddingFeatures, LatentSpaceBO, RandomSearch,
                          RegularizedEvolution, ReinforceSearch, TableObjective, plot_best_so_far, run_search)
from gcnas.search.features import ConcatFeatures, onehot_features, stats_features

try:
    from _results import CACHE_ROOT, BenchmarkRun, add_output_arguments, cache_key
except ImportError:  # imported as benchmarks.search_single
    from benchmarks._results import CACHE_ROOT, BenchmarkRun, add_output_arguments, cache_key

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nb201"


def arch2vec_cache(seed: int = 0) -> Path:
    """``runs/bench/arch2vec/<key>/``: the encoder's folder, keyed by its settings and the encoder code."""
    path = CACHE_ROOT / "arch2vec" / cache_key({"latent_dim": 16, "seed": seed}, packages=["encoders"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def arch2vec_model(seed: int = 0):
    """The pretrained arch2vec encoder itself (for latent-space BO), cached (:func:`arch2vec_cache`)."""
    from gcnas.encoders import Arch2Vec

    path = arch2vec_cache(seed) / "arch2vec_nb201_d16.pt"
    if not path.exists():
        Arch2Vec(latent_dim=16, seed=seed).fit(None, progress=True).save(path)
    return Arch2Vec.load(path)


def arch2vec_features(seed: int = 0) -> EmbeddingFeatures:
    """Embeddings of the whole space by :func:`arch2vec_model`, cached beside it."""
    path = arch2vec_cache(seed) / "arch2vec_nb201_d16.npz"
    if not path.exists():
        from gcnas.spaces.nb201 import NB201Space

        archs = NB201Space().all_archs()
        np.savez(path, codes=np.array([a.code for a in archs]), z=arch2vec_model(seed).encode(archs))
    return EmbeddingFeatures.from_npz(path)


def benchmark_features(spec: str):
    """A feature map by name: ``arch2vec`` (the cached encoder), ``onehot``, ``stats``, or several joined with '+'."""
    maps = {"arch2vec": arch2vec_features, "onehot": lambda: onehot_features, "stats": lambda: stats_features}
    parts = spec.split("+")
    if any(p not in maps for p in parts):
        raise SystemExit(f"unknown features {spec!r}; use arch2vec, onehot, stats or several joined with '+'")
    return ConcatFeatures([maps[p]() for p in parts], name=spec) if len(parts) > 1 else maps[parts[0]]()


METHODS_HELP = ("bo-FEATURES[-raw][-qlognehvi][-initN] (FEATURES: arch2vec, onehot, stats or several joined with "
                "'+'; -raw: features of the cell as written, not of its canonical form; -qlognehvi: model every "
                "objective, cheap ones too; -initN: N random cells before the first model, default 10), latent-bo (in the arch2vec latent space, decoding proposals: "
                "no enumeration), evolution, random, reinforce[-bufferN][-rena] (the LSTM controller; "
                "-bufferN: memory buffer of N cells; -rena: a latency bound is not pruned but penalised in the "
                "reward, RENA)")


def make(method: str):
    """A searcher by benchmark name: ``bo-arch2vec+stats``, ``bo-onehot-raw``, ``evolution`` ..."""
    if method == "evolution":
        return RegularizedEvolution(population_size=20, sample_size=5)
    if method == "random":
        return RandomSearch()
    if method.startswith("reinforce"):
        flags = method.split("-")[1:]
        buffers = [int(f[len("buffer"):]) for f in flags if f.startswith("buffer") and f[len("buffer"):].isdigit()]
        if set(flags) - {"rena"} - {f"buffer{b}" for b in buffers}:
            raise SystemExit(f"unknown method {method}; use {METHODS_HELP}")
        return ReinforceSearch(memory_buffer=buffers[0] if buffers else 0, penalty=1.0)
    if method == "latent-bo":
        return LatentSpaceBO(arch2vec_model(), n_init=10)
    if not method.startswith("bo-"):
        raise SystemExit(f"unknown method {method}; use {METHODS_HELP}")
    spec, *flags = method[len("bo-"):].split("-")
    inits = [int(f[len("init"):]) for f in flags if f.startswith("init") and f[len("init"):].isdigit()]
    unknown = set(flags) - {"raw", "qlognehvi"} - {f"init{n}" for n in inits}
    if unknown or any(n < 2 for n in inits):
        raise SystemExit(f"unknown flags {sorted(unknown) or inits} in {method}; use {METHODS_HELP}")
    return BayesianOptimization(features=benchmark_features(spec), n_init=inits[0] if inits else 10,
                                canonical="raw" not in flags,
                                acquisition="qlognehvi" if "qlognehvi" in flags else "auto")


def paired_counts(a: Sequence[float], b: Sequence[float], better: str = "lower") -> dict[str, float | int]:
    """Seed-paired comparison of two methods: ``wins`` / ``losses`` / ``ties`` of ``a``, two-sided sign test ``p``."""
    from scipy.stats import binomtest

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = (b - a) if better == "lower" else (a - b)
    wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
    p = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    return {"wins": wins, "losses": losses, "ties": len(a) - wins - losses, "p": float(p)}


def paired(name_a: str, a: Sequence[float], name_b: str, b: Sequence[float], better: str = "lower") -> str:
    """:func:`paired_counts` as a sentence."""
    c = paired_counts(a, b, better)
    return (f"{name_a} vs {name_b} (same seeds): {name_a} better on {c['wins']}, worse on {c['losses']}, tied on "
            f"{c['ties']}; sign test p = {c['p']:.3f}")


DEFAULT_PAIRS = "bo-arch2vec+stats:bo-onehot+stats,bo-arch2vec:bo-onehot,bo-onehot:bo-onehot-raw"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--methods", default="bo-arch2vec+stats,bo-onehot+stats,bo-arch2vec,bo-onehot,bo-onehot-raw,"
                        "evolution,random", help=METHODS_HELP)
    parser.add_argument("--table", default=str(SHARED / "nb201_cifar10_200ep.csv"))
    parser.add_argument("--pairs", default=DEFAULT_PAIRS, help="A:B,... methods compared seed by seed")
    parser.add_argument("--max-latency-ms", type=float, default=None,
                        help="search under latency <= X ms (NAS-Bench-201 latency table, --latency-device)")
    parser.add_argument("--latency-device", default="pixel3", help="latency column of nb201_latency_ms.csv")
    parser.add_argument("--plot", type=Path, default=None,
                        help="best-so-far plot (default: best_so_far.png in the cache folder)")
    add_output_arguments(parser, "search_single")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    bench = BenchmarkRun("search_single", args)
    table = BenchmarkTable(args.table)
    valid, test = TableObjective("valid_acc", table=table), TableObjective("test_acc", table=table)
    allowed = np.ones(len(table.archs), dtype=bool)
    latency = None
    if args.max_latency_ms is not None:
        latency = TableObjective("latency_ms", maximize=False, cheap=True, column=args.latency_device,
                                 table=BenchmarkTable(SHARED / "nb201_latency_ms.csv"))
        allowed = latency(table.archs) <= args.max_latency_ms
    # the optimum: the best-valid cell among those that meet the bound
    best_valid_arch = table.archs[int(np.argmax(np.where(allowed, table.column("valid_acc"), -np.inf)))]
    best_valid_test = float(test([best_valid_arch])[0])
    cache_dir = bench.cache_dir(keys=["table", "budget", "max_latency_ms", "latency_device"])
    curves: dict[str, list[np.ndarray]] = {}
    queries: dict[str, list[int]] = {}
    rows = []
    for method in args.methods.split(","):
        found, times, infeasible = [], [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            cache = cache_dir / f"{method}_s{seed}.json"
            if cache.exists():
                record = json.loads(cache.read_text())
            else:
                began = time.perf_counter()
                bounds = [] if latency is None else [Constraint(latency, upper=args.max_latency_ms,
                                                                 prune="rena" not in method.split("-"))]
                result = run_search(make(method), [valid], budget=args.budget, report=[test], seed=seed,
                                    constraints=bounds)
                asks = [t.report["ask_seconds"] for t in result.trials[10:]]
                record = {"curve": result.best_so_far("test_acc").tolist(), "codes": [t.arch.code for t in result.trials],
                          "infeasible": int((~result.feasible).sum()),
                          "seconds": time.perf_counter() - began,
                          "ask_mean": float(np.mean(asks)), "ask_median": float(np.median(asks))}
                cache.write_text(json.dumps(record))
            curve = np.array(record["curve"])
            curves.setdefault(method, []).append(curve)
            # found = the best-valid cell itself was evaluated (other cells share its test accuracy)
            hit = [i for i, code in enumerate(record["codes"]) if code == best_valid_arch.code]
            found.append(hit[0] + 1 if hit else None)
            times.append(record["ask_mean"])
            infeasible.append(record.get("infeasible", 0))
            print(f"{method} seed {seed}: @50 {curve[min(49, len(curve) - 1)]:.2f} @end {curve[-1]:.2f} "
                  f"found at {found[-1]} step {record['ask_mean']:.3f}s", flush=True)
        M = np.array(curves[method])
        queries[method] = [f if f is not None else M.shape[1] + 1 for f in found]
        row = {"method": method, "seeds": len(M)}
        for at in (25, 50, 100, 150):
            if at <= M.shape[1]:
                row[f"test@{at}"] = float(np.nanmedian(M[:, at - 1]))
        for at in (25, 50, 100):
            if at <= M.shape[1]:
                row[f"mean@{at}"] = float(np.nanmean(M[:, at - 1]))
        # the literature's form (NAS-Bench-201 paper: mean ± std over runs of the final pick's test accuracy)
        row["final_mean"], row["final_std"] = float(np.nanmean(M[:, -1])), float(np.nanstd(M[:, -1]))
        row["found<=100"] = float(np.mean([f is not None and f <= 100 for f in found]))
        row["found<=150"] = float(np.mean([f is not None and f <= 150 for f in found]))
        # queries until the best-valid cell was evaluated; a seed that never found it counts as budget + 1
        row["queries_to_best (median)"] = float(np.median([f if f is not None else M.shape[1] + 1 for f in found]))
        row["step_s"] = float(np.mean(times))
        if latency is not None:
            row["infeasible_trials"] = float(np.mean(infeasible))
        rows.append(row)
    print(f"\nbest-valid architecture's test accuracy: {best_valid_test:.2f}")
    cols = list(dict.fromkeys(k for r in rows for k in r))
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r.get(c):.3f}" if isinstance(r.get(c), float) else str(r.get(c)) for c in cols))
    figures: dict = {"optimum": best_valid_test, "seeds": args.seeds, "first_seed": args.first_seed,
                     "budget": args.budget}
    for r in rows:
        figures.update({f"{r['method']}.{k}": v for k, v in r.items() if k != "method"})
    print("\nqueries until the best-valid cell was found, seed by seed:")
    for pair in filter(None, args.pairs.split(",")):
        a, b = pair.split(":")
        if a in queries and b in queries:
            print(paired(a, queries[a], b, queries[b]))
            figures.update({f"pair.{a}:{b}.{k}": v for k, v in paired_counts(queries[a], queries[b]).items()})
    plot = plot_best_so_far(curves, args.plot or cache_dir / "best_so_far.png",
                            ylabel="test_acc of incumbent (selected on valid_acc)", optimum=best_valid_test,
                            title="NAS-Bench-201 CIFAR-10", ylim=(92.5, 94.6))
    print(f"plot: {plot}")
    bench.write(figures, details={"best_valid_arch": str(best_valid_arch), "queries_to_best": queries,
                                "rows": rows, "cache": cache_dir.name})


if __name__ == "__main__":
    main()
