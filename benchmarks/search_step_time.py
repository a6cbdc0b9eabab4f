"""Time of one BO step on CPU with 150 observations over the 15,625 NAS-Bench-201 candidates.

Settings: one objective (qLogNEI); accuracy and Pixel 3 latency with the latency modelled
like accuracy (qLogNEHVI); the same two with the latency known from its table (the
probability of being Pareto-optimal); and three objectives, latency and the analytic
energy known. Our step (features of canonical cells scored once per distinct vector,
chunked diagonal posterior, closed-form pre-screen or a pool of likely candidates,
hyper-parameters refit every 5th step) is compared with the plain baseline in the same
run: a fresh hyper-parameter fit and qLogNEI / qLogNEHVI evaluated on every unevaluated
candidate, every objective modelled. One thread.

For one objective and for two modelled objectives that plain step runs the same acquisition
as ours. With the latency known it does not: the plain step is qLogNEHVI over two modelled
objectives, ours the probability of being Pareto-optimal, a different algorithm. For that
setting (and the three-objective one) a same-algorithm baseline is timed too: the Pareto
probability with a fresh fit every step, features of the raw cell (no grouping of
isomorphic cells) and the same candidate pool.

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
    from _results import BenchmarkRun, add_output_arguments
    from search_multi import third_objective
    from search_single import SHARED
except ImportError:
    from benchmarks._results import BenchmarkRun, add_output_arguments
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


def time_plain(objectives, obs, repeats: int, same_algorithm: bool = False, **options) -> tuple[float, float]:
    """Fresh fit + qLogNEI / qLogNEHVI on every unevaluated candidate (no pre-screen,
    no grouping, every objective modelled); with ``same_algorithm``, a fresh fit + the
    Pareto probability on the raw cells' features (``options``: our pool and sample sizes)."""
    if same_algorithm:
        bo = prepared(objectives, features="onehot", canonical=False, refit_every=1, acquisition="pareto", **options)
    else:
        bo = prepared(objectives, features="onehot", canonical=False, refit_every=1,
                      acquisition="qlognei" if len(objectives) == 1 else "qlognehvi")
    free = bo.unevaluated(obs)
    times, cpus = [], []
    for r in range(repeats):
        began, cpu = time.perf_counter(), time.process_time()
        bo.state_ = None
        if not same_algorithm:
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
    add_output_arguments(parser, "search_step_time")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    bench = BenchmarkRun("search_step_time", args)
    # qLogNEHVI's first use in a process loads (the first time on a machine: compiles) BoTorch's fused
    # C++ kernel: a one-time cost, not a step's, so it is paid and timed here, before any step
    began = time.perf_counter()
    from botorch.acquisition.multi_objective import logei

    getattr(logei, "_try_load_fused_kernel", lambda: None)()
    kernel_load_s = time.perf_counter() - began
    print(f"BoTorch fused qLogNEHVI kernel loaded in {kernel_load_s:.1f} s (once per process, not in the steps)")
    acc_table = BenchmarkTable(SHARED / "nb201_cifar10_200ep.csv")
    lat_table = BenchmarkTable(SHARED / "nb201_latency_ms.csv")
    acc = TableObjective("valid_acc", table=acc_table)
    lat = TableObjective("latency_ms", maximize=False, table=lat_table, column="pixel3")
    known_lat = TableObjective("latency_ms", maximize=False, cheap=True, table=lat_table, column="pixel3")
    energy = third_objective("energy", acc_table)
    settings = (("single", "single (qLogNEI)", [acc], "auto"),
                ("multi", "multi, latency modelled (qLogNEHVI)", [acc, lat], "auto"),
                ("known", "known latency (Pareto probability)", [acc, known_lat], "auto"),
                ("three", "three, latency+energy known (Pareto probability)", [acc, known_lat, energy], "auto"))
    print("wall seconds, and CPU seconds of this process (one thread: what a step costs on an idle core)")
    print("setting | our step wall (s) | our step CPU (s) | refit step wall (s) | reuse step wall (s) | "
          "acquisition wall (s) | plain step wall (s) | plain step CPU (s) | CPU ratio | "
          "same-algorithm plain wall (s) | CPU (s) | CPU ratio")
    figures: dict = {"observations": args.observations, "kernel_load_s": kernel_load_s}
    for slug, name, objectives, acquisition in settings:
        if args.only and args.only != slug:
            continue
        obs = observations(objectives, args.observations, seed=0)
        ours = time_ours(objectives, obs, args.repeats, prescreen=args.prescreen, mc_samples=args.mc_samples,
                         features=args.features, acquisition=acquisition)
        skip = args.skip_plain or (len(objectives) == 3 and not args.plain_three)
        plain, plain_cpu = (None, None) if skip else time_plain(objectives, obs, 1)
        # the plain step above is another algorithm when the costs are known: time the same one too
        same, same_cpu = (None, None)
        if not args.skip_plain and slug in ("known", "three"):
            same, same_cpu = time_plain(objectives, obs, 1, same_algorithm=True, mc_samples=args.mc_samples)
        figures.update({f"{slug}.ours_wall_s": ours["mean_s"], f"{slug}.ours_cpu_s": ours["cpu_s"],
                        f"{slug}.refit_wall_s": ours["refit_step_s"], f"{slug}.reuse_wall_s": ours["reuse_step_s"],
                        f"{slug}.acquisition_wall_s": ours["acquisition_s"],
                        f"{slug}.plain_wall_s": plain, f"{slug}.plain_cpu_s": plain_cpu,
                        f"{slug}.plain_cpu_ratio": None if plain_cpu is None else plain_cpu / ours["cpu_s"],
                        f"{slug}.plain_same_algorithm": slug in ("single", "multi"),
                        f"{slug}.same_wall_s": same, f"{slug}.same_cpu_s": same_cpu,
                        f"{slug}.same_cpu_ratio": None if same_cpu is None else same_cpu / ours["cpu_s"]})
        text = lambda value, digits=2: "-" if value is None else f"{value:.{digits}f}"  # noqa: E731
        print(f"{name} | {ours['mean_s']:.3f} | {ours['cpu_s']:.3f} | {ours['refit_step_s']:.3f} | "
              f"{ours['reuse_step_s']:.3f} | {ours['acquisition_s']:.3f} | {text(plain)} | {text(plain_cpu)} | "
              f"{text(figures[f'{slug}.plain_cpu_ratio'], 1)}x | {text(same)} | {text(same_cpu)} | "
              f"{text(figures[f'{slug}.same_cpu_ratio'], 1)}x", flush=True)
    bench.write(figures)


if __name__ == "__main__":
    main()
