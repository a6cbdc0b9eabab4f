"""Time of one BO step on CPU with 150 observations over the 15,625 NAS-Bench-201 candidates.

Compares our step (chunked diagonal posterior + closed-form pre-screen + qLogNEI /
qLogNEHVI over the best ``prescreen`` candidates, hyper-parameters refit every 5th
step) with the plain baseline in the same run: a fresh hyper-parameter fit and the
same acquisition evaluated on every unevaluated candidate. One thread.

    python benchmarks/search_step_time.py --repeats 5
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from gcnas.data import BenchmarkTable
from gcnas.search import BayesianOptimization, TableObjective
from gcnas.search.runner import _evaluate, _observations

try:
    from search_single import SHARED
except ImportError:
    from benchmarks.search_single import SHARED


def observations(objectives, n: int, seed: int):
    bo = BayesianOptimization(features="onehot")
    bo.prepare(bo.default_candidates())
    archs = bo.random(n, np.random.default_rng(seed), np.arange(len(bo.candidates_)))
    trials = [_evaluate(i, a, objectives, [], [], 0.0) for i, a in enumerate(archs)]
    return _observations(trials, objectives, [])


def time_ours(objectives, obs, repeats: int, **options) -> dict[str, float]:
    bo = BayesianOptimization(features="onehot", n_init=10, **options)
    bo.prepare(bo.default_candidates())
    rows = []
    for r in range(repeats * 5):                       # refit on every 5th step, as in a run
        bo.refit_every = 1 if r % 5 == 0 else 10**9
        began, cpu = time.perf_counter(), time.process_time()
        bo.ask(obs, 1, np.random.default_rng(r))
        rows.append((time.perf_counter() - began, bo.last_timing_, time.process_time() - cpu))
    total = np.array([t for t, _, _ in rows])
    refits = np.array([info["refit"] for _, info, _ in rows])
    return {"mean_s": float(total.mean()), "cpu_s": float(np.mean([c for _, _, c in rows])),
            "refit_step_s": float(total[refits].mean()),
            "reuse_step_s": float(total[~refits].mean()),
            "acquisition_s": float(np.mean([info["acquisition_s"] for _, info, _ in rows]))}


def time_plain(objectives, obs, repeats: int) -> float:
    """Fresh fit + the acquisition on every unevaluated candidate (no pre-screen)."""
    bo = BayesianOptimization(features="onehot", n_init=10, refit_every=1)
    bo.prepare(bo.default_candidates())
    free = bo.unevaluated(obs)
    times, cpus = [], []
    for r in range(repeats):
        began, cpu = time.perf_counter(), time.process_time()
        bo.state_ = None
        bo.prescreen = len(free)
        bo.ask(obs, 1, np.random.default_rng(r))
        times.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    return float(np.mean(times)), float(np.mean(cpus))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--observations", type=int, default=150)
    parser.add_argument("--skip-plain", action="store_true", help="skip the slow baseline")
    parser.add_argument("--prescreen", type=int, default=256, help="candidates given to the acquisition")
    parser.add_argument("--mc-samples", type=int, default=128, help="QMC samples of the acquisition")
    parser.add_argument("--only", choices=["single", "multi"], help="time one setting only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    acc_table = BenchmarkTable(SHARED / "nb201_cifar10_200ep.csv")
    lat_table = BenchmarkTable(SHARED / "nb201_latency_ms.csv")
    acc = TableObjective("valid_acc", table=acc_table)
    lat = TableObjective("latency_ms", maximize=False, table=lat_table, column="pixel3")
    print("wall seconds on a shared machine, and CPU seconds of this process (one thread: what a step costs on an "
          "idle core)")
    print("objectives | our step wall (s) | our step CPU (s) | refit step wall (s) | reuse step wall (s) | "
          "acquisition wall (s) | plain step wall (s) | plain step CPU (s) | CPU ratio")
    for name, objectives in (("single (qLogNEI)", [acc]), ("multi (qLogNEHVI)", [acc, lat])):
        if args.only and not name.startswith(args.only):
            continue
        obs = observations(objectives, args.observations, seed=0)
        ours = time_ours(objectives, obs, args.repeats, prescreen=args.prescreen, mc_samples=args.mc_samples)
        plain, plain_cpu = (float("nan"), float("nan")) if args.skip_plain else time_plain(objectives, obs, 1)
        print(f"{name} | {ours['mean_s']:.3f} | {ours['cpu_s']:.3f} | {ours['refit_step_s']:.3f} | "
              f"{ours['reuse_step_s']:.3f} | {ours['acquisition_s']:.3f} | {plain:.2f} | {plain_cpu:.2f} | "
              f"{plain_cpu / ours['cpu_s']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
