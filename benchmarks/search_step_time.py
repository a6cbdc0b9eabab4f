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


def time_ours(objectives, obs, repeats: int) -> dict[str, float]:
    bo = BayesianOptimization(features="onehot", n_init=10)
    bo.prepare(bo.default_candidates())
    rows = []
    for r in range(repeats * 5):                       # refit on every 5th step, as in a run
        bo.refit_every = 1 if r % 5 == 0 else 10**9
        began = time.perf_counter()
        bo.ask(obs, 1, np.random.default_rng(r))
        rows.append((time.perf_counter() - began, bo.last_timing_))
    total = np.array([t for t, _ in rows])
    refits = np.array([info["refit"] for _, info in rows])
    return {"mean_s": float(total.mean()), "refit_step_s": float(total[refits].mean()),
            "reuse_step_s": float(total[~refits].mean()),
            "acquisition_s": float(np.mean([info["acquisition_s"] for _, info in rows]))}


def time_plain(objectives, obs, repeats: int) -> float:
    """Fresh fit + the acquisition on every unevaluated candidate (no pre-screen)."""
    bo = BayesianOptimization(features="onehot", n_init=10, refit_every=1)
    bo.prepare(bo.default_candidates())
    free = bo.unevaluated(obs)
    times = []
    for r in range(repeats):
        began = time.perf_counter()
        bo.state_ = None
        bo.prescreen = len(free)
        bo.ask(obs, 1, np.random.default_rng(r))
        times.append(time.perf_counter() - began)
    return float(np.mean(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--observations", type=int, default=150)
    parser.add_argument("--skip-plain", action="store_true", help="skip the slow baseline")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    acc_table = BenchmarkTable(SHARED / "nb201_cifar10_200ep.csv")
    lat_table = BenchmarkTable(SHARED / "nb201_latency_ms.csv")
    acc = TableObjective("valid_acc", table=acc_table)
    lat = TableObjective("latency_ms", maximize=False, table=lat_table, column="pixel3")
    print("objectives | our step mean (s) | refit step (s) | reuse step (s) | acquisition (s) | plain step (s) | ratio")
    for name, objectives in (("single (qLogNEI)", [acc]), ("multi (qLogNEHVI)", [acc, lat])):
        obs = observations(objectives, args.observations, seed=0)
        ours = time_ours(objectives, obs, args.repeats)
        plain = float("nan") if args.skip_plain else time_plain(objectives, obs, 1)
        print(f"{name} | {ours['mean_s']:.3f} | {ours['refit_step_s']:.3f} | {ours['reuse_step_s']:.3f} | "
              f"{ours['acquisition_s']:.3f} | {plain:.2f} | {plain / ours['mean_s']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
