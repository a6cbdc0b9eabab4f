"""Multi-objective search on the IMC macro space, judged by training the picks from scratch.

The space (about 1.05e9 networks) cannot be listed: every searcher proposes from a pool it
refreshes each step (``CandidatePool``: fresh samples plus mutations of the best networks so
far). Two objectives: the accuracy of a network's sub-network in the elastic supernet of
``imc_ranking.py`` (inherited weights, BatchNorm recalibrated, scored on valid images; each
query is one such evaluation) and its IMC latency from the crossbar model (``--latency imc``:
known for every candidate without a query). Methods, each with the same budget of queries:

- ``bo``: BO over graph statistics and the counted params/FLOPs of each network
  (``features="graph+costs"``), latency known: the probability of improving the front;
- ``evolution``: regularised evolution (population 20, tournament 5) over the same pool;
- ``random``: random search;
- ``reinforce``: REINFORCE with the LSTM controller over the 16 decisions, rewarded by the
  supernet accuracy alone (its front is what it happened to evaluate; not in the default
  methods, ``--methods bo,evolution,random,reinforce`` adds it).

After each search, up to ``--picks`` networks of its observed front (supernet accuracy x IMC
latency) are picked evenly along the latency axis and trained from scratch with the recipe of
``imc_truth.py`` (the same images, shape and schedule; cached per network). Judged: the
hypervolume of the picks' *true* test accuracy x IMC latency (reference: chance accuracy,
10%, and the slowest IMC latency of 200 networks drawn with seed 999), and the hypervolume of
the observed front in the searched objectives. Truth is only read to judge: the searchers see supernet
scores and latencies.

    python benchmarks/imc_search.py --supernet-run runs/bench/imc_ranking/train-...   # 5 seeds
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import BenchmarkRun  # noqa: E402
from supernet_ranking import subset_data  # noqa: E402

from gcnas.data import load_images  # noqa: E402
from gcnas.data.images import ImageSplit  # noqa: E402
from gcnas.search import (BayesianOptimization, CostObjective, RandomSearch, RegularizedEvolution,  # noqa: E402
                          ReinforceSearch, SupernetObjective, hypervolume, pareto_mask, run_search)
from gcnas.spaces import get_space  # noqa: E402
from gcnas.supernet import train_standalone  # noqa: E402
from gcnas.supernet.train import load_run_supernet  # noqa: E402

METHODS = ("bo", "evolution", "random", "reinforce")
SEARCH_KEYS = ("supernet_run", "reference_draws", "budget", "n_init", "bn_recalibrate", "score_images", "score_batch", "pool_random",
               "pool_mutations")
TRAIN_KEYS = ("channels", "image_size", "epochs", "train_images", "valid_images", "batch_size", "lr",
              "weight_decay", "train_seed", "data_root")


def make_searcher(method: str, n_init: int, pool_random: int, pool_mutations: int):
    from gcnas.search import CandidatePool

    pool = CandidatePool(n_random=pool_random, n_mutations=pool_mutations)
    if method == "bo":
        return BayesianOptimization(features="graph+costs", n_init=n_init, space="imc", pool=pool)
    if method == "evolution":
        return RegularizedEvolution(population_size=20, sample_size=5, space="imc", pool=pool)
    if method == "random":
        return RandomSearch(space="imc", pool=pool)
    if method == "reinforce":
        return ReinforceSearch(space="imc")
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def front_picks(accuracy: np.ndarray, latency: np.ndarray, picks: int) -> list[int]:
    """Up to ``picks`` rows of the observed front, evenly spread along the latency axis."""
    ok = np.isfinite(accuracy) & np.isfinite(latency)
    rows = np.flatnonzero(ok)
    front = rows[pareto_mask(np.column_stack([accuracy[rows], -latency[rows]]))]
    front = front[np.argsort(latency[front])]
    if len(front) <= picks:
        return front.tolist()
    return [int(front[i]) for i in np.unique(np.round(np.linspace(0, len(front) - 1, picks)).astype(int))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--supernet-run", required=True, help="the train-... folder imc_ranking.py trained")
    parser.add_argument("--reference-draws", type=int, default=200,
                        help="the reference latency is the slowest of this many networks drawn with seed 999")
    parser.add_argument("--data-root", default=None, help="image folder (default: shared images/cifar10-jpg)")
    parser.add_argument("--methods", default="bo,evolution,random", help=f"any of {', '.join(METHODS)}")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=60, help="supernet evaluations per search")
    parser.add_argument("--n-init", type=int, default=10, help="BO's random proposals first")
    parser.add_argument("--pool-random", type=int, default=50)
    parser.add_argument("--pool-mutations", type=int, default=100)
    parser.add_argument("--bn-recalibrate", type=int, default=2)
    parser.add_argument("--score-images", type=int, default=512)
    parser.add_argument("--score-batch", type=int, default=128)
    parser.add_argument("--picks", type=int, default=3, help="front networks trained per search")
    # the truth recipe (imc_truth.py's defaults)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=20000)
    parser.add_argument("--valid-images", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.data_root = args.data_root or str(shared("images/cifar10-jpg"))
    args.supernet_run = str(Path(args.supernet_run))
    bench = BenchmarkRun("imc_search", args)
    search_cache = bench.cache_dir(keys=SEARCH_KEYS, packages=["search", "supernet", "hardware", "data"],
                                   name="search")
    pick_cache = bench.cache_dir(keys=TRAIN_KEYS, packages=["supernet", "data"], name="picks")
    space = get_space("imc")

    data = subset_data(load_images("imagefolder", root=args.data_root, image_size=args.image_size),
                       args.train_images)
    v = data.valid
    trained = load_run_supernet(args.supernet_run, device="cpu")
    accuracy = SupernetObjective("accuracy", supernet=trained, data=data,
                                 options={"bn_recalibrate": args.bn_recalibrate, "batch_size": args.score_batch,
                                          "limit": max(1, args.score_images // args.score_batch)})
    latency = CostObjective("latency_ms", latency="imc", space=space)
    truth_data = copy.copy(data)  # imc_truth.py's splits: its smaller valid half, the same train images
    truth_data.valid = ImageSplit(v.x[:args.valid_images], v.y[:args.valid_images], v.mean, v.std, v.augment)
    draw = np.random.default_rng(999)
    slowest = float(np.max(latency([space.sample(draw) for _ in range(args.reference_draws)])))
    reference = np.array([10.0, -slowest])

    def true_accuracy(text: str) -> float:
        path = pick_cache / f"{space.key(space.parse(text)).replace('/', '_')}.json"
        if path.exists():
            return json.loads(path.read_text())["test_accuracy"]
        result = train_standalone(space.parse(text), space=space, cells=None, data=truth_data,
                                  dataset="imagefolder", epochs=args.epochs, channels=args.channels,
                                  seed=args.train_seed, batch_size=args.batch_size, lr=args.lr,
                                  weight_decay=args.weight_decay, device="cpu")
        path.write_text(json.dumps({"arch": text, "test_accuracy": result["test_accuracy"],
                                    "seconds": result["seconds"]}))
        return result["test_accuracy"]

    rows, per_seed = [], {}
    for method in args.methods.split(","):
        hv_true, hv_searched, seconds = [], [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            cache = search_cache / f"{method}_s{seed}.json"
            if cache.exists():
                record = json.loads(cache.read_text())
            else:
                tick = time.perf_counter()
                result = run_search(make_searcher(method, args.n_init, args.pool_random, args.pool_mutations),
                                    [accuracy, latency], budget=args.budget, seed=seed)
                record = {"archs": [space.format(t.arch) for t in result.trials],
                          "accuracy": result.values("accuracy").tolist(),
                          "latency_ms": result.values("latency_ms").tolist(),
                          "seconds": time.perf_counter() - tick}
                cache.write_text(json.dumps(record))
            acc, lat = np.array(record["accuracy"]), np.array(record["latency_ms"])
            picks = front_picks(acc, lat, args.picks)
            truth_points = np.array([[true_accuracy(record["archs"][i]), -lat[i]] for i in picks])
            hv_true.append(hypervolume(truth_points, reference))
            searched_ref = np.array([0.0, reference[1]])
            hv_searched.append(hypervolume(np.column_stack([acc, -lat])[np.isfinite(acc)], searched_ref))
            seconds.append(record["seconds"])
            per_seed.setdefault(method, []).append(
                {"seed": seed, "hv_true": hv_true[-1], "hv_searched": hv_searched[-1],
                 "picks": [{"arch": record["archs"][i], "supernet_accuracy": float(acc[i]),
                            "imc_latency_ms": float(lat[i]), "true_test_accuracy": float(p[0])}
                           for i, p in zip(picks, truth_points)]})
            print(f"{method} seed {seed}: true hv {hv_true[-1]:.1f}  searched hv {hv_searched[-1]:.1f}  "
                  f"picks {[round(float(p[0]), 1) for p in truth_points]} "
                  f"at {[round(float(-p[1]), 2) for p in truth_points]} ms", flush=True)
        rows.append({"method": method, "hv_true_median": float(np.median(hv_true)),
                     "hv_true_mean": float(np.mean(hv_true)), "hv_true_min": float(np.min(hv_true)),
                     "hv_searched_median": float(np.median(hv_searched)),
                     "search_seconds_mean": float(np.mean(seconds))})
    figures: dict = {"seeds": args.seeds, "first_seed": args.first_seed, "budget": args.budget,
                     "reference_accuracy": float(reference[0]), "reference_latency_ms": float(-reference[1])}
    for r in rows:
        figures.update({f"{r['method']}.{k}": v for k, v in r.items() if k != "method"})
    if "bo" in per_seed:
        for other in (m for m in per_seed if m != "bo"):
            wins = sum(b["hv_true"] > o["hv_true"] for b, o in zip(per_seed["bo"], per_seed[other]))
            figures[f"bo_above_{other}_seeds"] = int(wins)
    bench.write(figures, {"rows": rows, "per_seed": per_seed, "cache": {"search": search_cache.name,
                                                                        "picks": pick_cache.name}})
    print(f"\n{'method':<10} {'true hv (median)':>16} {'mean':>8} {'min':>8} {'searched hv':>12}")
    for r in rows:
        print(f"{r['method']:<10} {r['hv_true_median']:16.1f} {r['hv_true_mean']:8.1f} {r['hv_true_min']:8.1f} "
              f"{r['hv_searched_median']:12.1f}")


if __name__ == "__main__":
    main()
