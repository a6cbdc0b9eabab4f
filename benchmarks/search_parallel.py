"""Asynchronous parallel search: wall time and quality against the number of workers.

The objective is a stand-in for training: each evaluation sleeps ``--sleep`` seconds, then
returns the cell's NAS-Bench-201 CIFAR-10 ``valid_acc`` (the packaged table); the search
reports the true ``test_acc`` of its incumbent. A sleeping worker needs no core, so the
speed-up measures the search loop (proposals, pending points, storing trials, executor
overhead), not this machine's cores (two, here). For every executor (local processes,
Ray) and number of workers, at the same budget and seeds, methods ``bo`` (one-hot features:
no encoder needed) and ``random``: wall time, speed-up over the sequential run (one
evaluation at a time in this process), worker utilisation (evaluation time over workers x
wall time), the mean proposal time, and the final incumbent's test accuracy (mean +- std over
seeds), with asynchronous BO's difference from sequential BO on the same seeds.

    python benchmarks/search_parallel.py                       # workers 1,2,4,8; process and ray
    python benchmarks/search_parallel.py --budget 20 --seeds 1 --workers 1,2,4
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from gcnas.data import BenchmarkTable
from gcnas.parallel import make_executor
from gcnas.search import BayesianOptimization, Objective, RandomSearch, TableObjective, run_search
from gcnas.spaces.nb201 import Arch
from gcnas.threads import apply_thread_policy

try:
    from _results import BenchmarkRun, add_output_arguments
except ImportError:  # imported as benchmarks.search_parallel
    from benchmarks._results import BenchmarkRun, add_output_arguments


@dataclass
class SlowTable(Objective):
    """A table column that takes ``seconds`` to evaluate (a stand-in for training a cell)."""

    table: Any = None
    column: str = "valid_acc"
    seconds: float = 0.5

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        time.sleep(self.seconds * len(archs))
        return np.array([self.table.value(a, self.column) for a in archs], dtype=np.float64)


def _ready() -> bool:
    """Run once on each worker before the clock starts (imports, thread policy)."""
    import gcnas.search.runner  # noqa: F401

    return True


def searcher(method: str):
    """``bo`` (one-hot features of the canonical cell, 10 random proposals first) or ``random``."""
    if method == "bo":
        return BayesianOptimization(features="onehot", n_init=10)
    if method == "random":
        return RandomSearch()
    raise SystemExit(f"unknown method {method!r}; use bo or random")


def search(method: str, seed: int, args: argparse.Namespace, objective: Objective, test: Objective,
           executor=None) -> dict[str, float]:
    """One search: wall time, final incumbent's test accuracy, worker utilisation, mean proposal time."""
    began = time.perf_counter()
    result = run_search(searcher(method), [objective], budget=args.budget, report=[test], seed=seed,
                        executor=executor)
    wall = time.perf_counter() - began
    workers = executor.workers if executor is not None else 1
    busy = sum(t.report.get("eval_seconds", 0.0) for t in result.trials)
    return {"wall_s": wall, "test": float(result.best_so_far("test_acc")[-1]), "utilisation": busy / (workers * wall),
            "ask_s": float(np.mean([t.report["ask_seconds"] for t in result.trials])),
            "failed": int((~result.ok).sum())}


def summarise(runs: list[dict[str, float]]) -> dict[str, float | None]:
    """The seeds of one setting: means, and the spread of the test accuracy."""
    tests = np.array([r["test"] for r in runs])
    return {"wall_s": float(np.mean([r["wall_s"] for r in runs])), "test_mean": float(tests.mean()),
            "test_std": float(tests.std(ddof=1)) if len(tests) > 1 else None,  # one seed: no spread
            "utilisation": float(np.mean([r["utilisation"] for r in runs])),
            "ask_s": float(np.mean([r["ask_s"] for r in runs])), "failed": int(sum(r["failed"] for r in runs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4,8", help="comma list of worker counts (default 1,2,4,8)")
    parser.add_argument("--executors", default="process,ray", help="comma list of process, ray (default both)")
    parser.add_argument("--methods", default="bo,random", help="comma list of bo, random (default both)")
    parser.add_argument("--budget", type=int, default=40, help="evaluations per search (default 40)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per setting (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--sleep", type=float, default=0.5, help="seconds per evaluation (default 0.5)")
    add_output_arguments(parser, "search_parallel")
    args = parser.parse_args()
    apply_thread_policy()
    warnings.filterwarnings("ignore")
    bench = BenchmarkRun("search_parallel", args)
    workers = [int(w) for w in args.workers.split(",")]
    methods = args.methods.split(",")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    table = BenchmarkTable.packaged("nb201:cifar10")
    objective = SlowTable("valid_acc", table=table, seconds=args.sleep)
    test = TableObjective("test_acc", table=table)

    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    for method in methods:
        results[("sequential", 1, method)] = [search(method, s, args, objective, test) for s in seeds]
        print(f"sequential {method}: {summarise(results[('sequential', 1, method)])}", flush=True)
    startup: dict[str, float] = {}
    for kind in args.executors.split(","):
        if kind == "ray":
            try:
                import ray  # noqa: F401
            except ImportError:
                print("ray is not installed (pip install 'gcnas[ray]'): skipped", flush=True)
                continue
        for count in workers:
            began = time.perf_counter()
            with make_executor(kind, count) as executor:
                for future in [executor.submit(_ready) for _ in range(count)]:
                    future.result()
                startup[f"{kind}.w{count}"] = time.perf_counter() - began
                for method in methods:
                    runs = [search(method, s, args, objective, test, executor) for s in seeds]
                    results[(kind, count, method)] = runs
                    print(f"{kind} x{count} {method}: {summarise(runs)}", flush=True)

    rows, figures = [], {"budget": args.budget, "seeds": args.seeds, "sleep_s": args.sleep}
    for (kind, count, method), runs in results.items():
        row = {"executor": kind, "workers": count, "method": method, **summarise(runs)}
        sequential = results[("sequential", 1, method)]
        row["speedup"] = summarise(sequential)["wall_s"] / row["wall_s"]
        # paired over seeds: this setting's final test accuracy minus the sequential run's
        row["test_vs_sequential"] = float(np.mean([r["test"] - q["test"] for r, q in zip(runs, sequential)]))
        rows.append(row)
        key = f"{kind}.w{count}.{method}"
        figures.update({f"{key}.{k}": v for k, v in row.items() if k not in ("executor", "workers", "method")})
    print(f"\n{args.budget} evaluations of {args.sleep} s, {args.seeds} seed(s); ideal speed-up = workers")
    header = ["executor", "workers", "method", "wall_s", "speedup", "utilisation", "ask_s", "test (mean+-std)",
              "test - sequential", "failed"]
    print(" | ".join(header))
    for r in rows:
        print(" | ".join([r["executor"], str(r["workers"]), r["method"], f"{r['wall_s']:.1f}", f"{r['speedup']:.2f}",
                          f"{r['utilisation']:.2f}", f"{r['ask_s']:.3f}", f"{r['test_mean']:.2f} +- " + (f"{r['test_std']:.2f}" if r["test_std"] is not None else "n/a"),
                          f"{r['test_vs_sequential']:+.2f}", str(r["failed"])]))
    print("executor start-up (s, before the clock): " + ", ".join(f"{k} {v:.1f}" for k, v in startup.items()))
    figures.update({f"startup.{k}": v for k, v in startup.items()})
    bench.write(figures, details={"rows": rows, "runs": {"|".join(map(str, k)): v for k, v in results.items()}})


if __name__ == "__main__":
    main()
