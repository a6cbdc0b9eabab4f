"""Time of one BO step on CPU with 150 observations over the 15,625 NAS-Bench-201 candidates.

Settings: one objective (qLogNEI); accuracy and Pixel 3 latency with the latency modelled
like accuracy (qLogNEHVI); the same two with the latency known from its table (the
probability of being Pareto-optimal); and three objectives, latency and the analytic
energy known. Our step (features of canonical cells scored once per distinct vector,
chunked diagonal posterior, closed-form pre-screen or a pool of likely candidates,
hyper-parameters refit every 5th step) is compared with the plain baseline in the same
run: a fresh hyper-parameter fit and qLogNEI / qLogNEHVI evaluated on every unevaluated
candidate, every objective modelled. One thread.

    python benchmarks/search_step_time.py --repeats 2
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from gcnas.data import BenchmarkTable
from gcnas.search import BayesianOptimization, TableObjective
from gcnas.search.runner import _cheap_values, _evaluate, _observations

try:
    from search_multi import third_objective
    from search_single import SHARED
except ImportError:
    from benchmarks.search_multi import third_objective
    from benchmarks.search_single import SHARED


def observations(objectives, n: int, seed: int):
    bo = BayesianOptimization(features="onehot")
    bo.prepare(bo.default_candidates())
    archs = bo.random(n, np.random.default_rng(seed), np.arange(len(bo.candidates_)))
    trials = [_evaluate(i, a, objectives, [], [], 0.0) for i, a in enumerate(archs)]
    return _observations(trials, objectives, [])


def prepared(objectives, **options) -> BayesianOptimization:
    bo = BayesianOptimization(n_init=10, **options)
    candidates = bo.default_candidates()
    bo.prepare(candidates, known=_cheap_values(candidates, objectives))
    return bo


def time_ours(objectives, obs, repeats: int, **options) -> dict[str, float]:
    bo = prepared(objectives, **options)
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


def time_plain(objectives, obs, repeats: int) -> tuple[float, float]:
    """Fresh fit + qLogNEI / qLogNEHVI on every unevaluated candidate (no pre-screen,
    no grouping, every objective modelled)."""
    bo = prepared(objectives, features="onehot", canonical=False, refit_every=1,
                  acquisition="qlognei" if len(objectives) == 1 else "qlognehvi")
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
    parser.add_argument("--features", default="onehot+stats", help="features of our step (default onehot+stats)")
    parser.add_argument("--only", choices=["single", "multi", "known", "three"], help="time one setting only")
    parser.add_argument("--plain-three", action="store_true",
                        help="also time the plain three-objective qLogNEHVI step (minutes)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    acc_table = BenchmarkTable(SHARED / "nb201_cifar10_200ep.csv")
    lat_table = BenchmarkTable(SHARED / "nb201_latency_ms.csv")
    acc = TableObjective("valid_acc", table=acc_table)
    lat = TableObjective("latency_ms", maximize=False, table=lat_table, column="pixel3")
    known_lat = TableObjective("latency_ms", maximize=False, cheap=True, table=lat_table, column="pixel3")
    energy = third_objective("energy", acc_table)
    settings = (("single (qLogNEI)", [acc], "auto"),
                ("multi, latency modelled (qLogNEHVI)", [acc, lat], "auto"),
                ("known latency (Pareto probability)", [acc, known_lat], "auto"),
                ("three, latency+energy known (Pareto probability)", [acc, known_lat, energy], "auto"))
    print("wall seconds, and CPU seconds of this process (one thread: what a step costs on an idle core)")
    print("setting | our step wall (s) | our step CPU (s) | refit step wall (s) | reuse step wall (s) | "
          "acquisition wall (s) | plain step wall (s) | plain step CPU (s) | CPU ratio")
    for name, objectives, acquisition in settings:
        if args.only and not name.startswith(args.only):
            continue
        obs = observations(objectives, args.observations, seed=0)
        ours = time_ours(objectives, obs, args.repeats, prescreen=args.prescreen, mc_samples=args.mc_samples,
                         features=args.features, acquisition=acquisition)
        skip = args.skip_plain or (len(objectives) == 3 and not args.plain_three)
        plain, plain_cpu = (float("nan"), float("nan")) if skip else time_plain(objectives, obs, 1)
        print(f"{name} | {ours['mean_s']:.3f} | {ours['cpu_s']:.3f} | {ours['refit_step_s']:.3f} | "
              f"{ours['reuse_step_s']:.3f} | {ours['acquisition_s']:.3f} | {plain:.2f} | {plain_cpu:.2f} | "
              f"{plain_cpu / ours['cpu_s']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
