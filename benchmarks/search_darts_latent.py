"""Latent BO on the whole DARTS space: does arch2vec's exact decode pay off in search?

The 725 NAS-Bench-301 genotypes cannot judge a search over the whole space (~1e18 cells):
a searcher that may propose any genotype proposes cells that no table holds. So, as
NAS-Bench-301 itself does, the objective here is a *surrogate*: the mean prediction of three
GCN predictors (``GCNPredictor(space="darts")``, seeds 0-2) fitted to the ``val_accuracy`` of
all 725 genotypes of ``../shared/data/nb301/nb301_sample_cifar10.csv``. That fit is the one
use of the table's truth, and it makes the objective; no searcher reads the table. The
figures compare searchers on one function; they are not accuracies of trained networks.

Methods (budget ``--budget`` queries, the first 10 random for the BO methods):

* ``latent-bo``: :class:`gcnas.search.LatentSpaceBO` over arch2vec's embedding with the DARTS
  default readout (one stretch per node of each cell graph: 352 numbers), which decodes
  every held-out genotype exactly (``benchmarks/encoders_arch2vec.py --space darts``);
* ``latent-bo-mean``: the same over one mean per cell graph (``readout_bins=1``: 32
  numbers), whose decode recovers no held-out genotype: the cell evaluated is not the
  point the acquisition picked;
* ``bo-graph+costs``: BO over graph statistics and counted params/FLOPs, proposing from a
  pool refreshed each step (random samples and mutations of the best cells);
* ``bo-arch2vec-mean``: the same pool BO over the default encoder's node latents averaged per
  cell graph (:class:`gcnas.search.EncoderFeatures`, 32 numbers; ``--features arch2vec`` on a
  DARTS run): arch2vec features without decoding;
* ``evolution``: regularised evolution (population 20, tournament 5);
* ``random``: random genotypes.

Both encoders are pretrained once on 6,000 sampled genotypes (8 epochs, seed 0, no labels)
and cached beside the rows under ``runs/bench/search_darts_latent/`` (keyed by the settings
and the code), so an interrupted run resumes. Reported per method: the median best
surrogate value after 25 / 50 / 100 queries over the seeds, beside the surrogate's best over
the 725 file genotypes and over 10,000 random genotypes.

Measured (2-core machine, one thread, load 1-2): 3 seeds of 60 queries take about 3 min a run
for latent BO over the 352-number embedding, 30 s over the 32-number one, 18 s for pool BO, a
second for evolution and random; each encoder pretrains in about 3 min, the surrogate in 3.

    python benchmarks/search_darts_latent.py                      # 3 seeds x 5 methods, 60 queries
    python benchmarks/search_darts_latent.py --seeds 1 --budget 20 --methods latent-bo,random --label toy
"""

from __future__ import annotations

import argparse
import csv
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from gcnas.encoders import Arch2Vec
from gcnas.predictors import GCNPredictor
from gcnas.search import (BayesianOptimization, CallableObjective, EncoderFeatures, LatentSpaceBO, RandomSearch,
                          RegularizedEvolution, run_search)
from gcnas.spaces import get_space

try:
    from _predictors_common import RowCache
    from _results import CACHE_ROOT, REPO, BenchmarkRun, add_output_arguments, cache_key
except ImportError:  # imported as benchmarks.search_darts_latent
    from benchmarks._predictors_common import RowCache
    from benchmarks._results import CACHE_ROOT, REPO, BenchmarkRun, add_output_arguments, cache_key

DEFAULT_CSV = REPO.parent / "shared" / "data" / "nb301" / "nb301_sample_cifar10.csv"
METHODS = ("latent-bo", "latent-bo-mean", "bo-graph+costs", "bo-arch2vec-mean", "evolution", "random")
ENCODER_BINS = {"latent-bo": None, "latent-bo-mean": 1, "bo-arch2vec-mean": None}  # None: the space's default
CHECKPOINTS = (25, 50, 100)
SURROGATE_SEEDS = (0, 1, 2)


class Surrogate:
    """Mean of GCN predictors fitted to the 725 genotypes' ``val_accuracy``; memoised by ``space.key``."""

    def __init__(self, csv_path: Path) -> None:
        self.space = get_space("darts")
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        self.cells = [self.space.parse(row["genotype"]) for row in rows]
        truth = np.array([float(row["val_accuracy"]) for row in rows])
        self.models = [GCNPredictor(space="darts", seed=seed).fit(self.cells, truth) for seed in SURROGATE_SEEDS]
        self._memo: dict[str, float] = {}

    def predict(self, cells: list) -> np.ndarray:
        return np.mean([model.predict(cells) for model in self.models], axis=0)

    def __call__(self, cell) -> float:
        key = self.space.key(cell)
        if key not in self._memo:
            self._memo[key] = float(self.predict([cell])[0])
        return self._memo[key]


def pretrained_encoder(bins: int | None, folder: Path) -> Arch2Vec:
    """Arch2vec over 6,000 sampled genotypes, read from ``folder`` when already trained."""
    path = folder / f"arch2vec-bins{bins or 'default'}.pt"
    if path.exists():
        return Arch2Vec.load(path, space="darts")
    encoder = Arch2Vec(space="darts", sample_size=6000, decision_weight=1.0, readout_bins=bins,
                       seed=0).fit(epochs=8, progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    encoder.save(path)
    return encoder


def make_searcher(method: str, encoders: dict[str, Arch2Vec], n_init: int):
    """The searcher of ``method`` over the whole DARTS space."""
    if method == "bo-arch2vec-mean":
        return BayesianOptimization(features=EncoderFeatures(encoders[method]), n_init=n_init, space="darts")
    if method in ENCODER_BINS:
        return LatentSpaceBO(encoders[method], n_init=n_init)
    if method.startswith("bo-"):
        return BayesianOptimization(features=method[len("bo-"):], n_init=n_init, space="darts")
    if method == "evolution":
        return RegularizedEvolution(population_size=20, sample_size=5, space="darts")
    if method == "random":
        return RandomSearch(space="darts")
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def one_run(method: str, seed: int, surrogate: Surrogate, encoders: dict[str, Arch2Vec], budget: int,
            n_init: int) -> dict:
    """One search: its incumbent surrogate value per query and the genotype it ends with."""
    objective = CallableObjective("surrogate", fn=surrogate)
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_search(make_searcher(method, encoders, n_init), [objective], budget=budget, seed=seed)
    curve = result.best_so_far("surrogate")
    values = np.nan_to_num(result.values("surrogate"), nan=-np.inf)
    return {"incumbent": {str(k): float(curve[min(k, len(curve)) - 1]) for k in CHECKPOINTS if k <= budget},
            "best": float(curve[-1]), "best_cell": surrogate.space.format(result.trials[int(np.argmax(values))].arch),
            "distinct": len({surrogate.space.key(t.arch) for t in result.trials}), "queries": len(result.trials),
            "seconds": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("GCNAS_NB301_CSV", DEFAULT_CSV)))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=400, help="first seed (none used for tuning)")
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--n-init", type=int, default=10, help="random queries before BO's first model")
    parser.add_argument("--random-reference", type=int, default=10_000, help="random genotypes scored as a reference")
    add_output_arguments(parser, "search_darts_latent")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("search_darts_latent", args)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    folder = CACHE_ROOT / "search_darts_latent" / cache_key(
        {"csv": str(args.csv.resolve()), "budget": args.budget, "n_init": args.n_init},
        packages=["search", "spaces", "encoders", "predictors"])
    cache = RowCache(folder / "rows.json")

    surrogate = Surrogate(args.csv)
    space = surrogate.space
    rng = np.random.default_rng(12345)
    reference = [space.sample(rng) for _ in range(args.random_reference)]
    file_values, random_values = surrogate.predict(surrogate.cells), surrogate.predict(reference)
    encoders = {m: pretrained_encoder(ENCODER_BINS[m], folder) for m in methods if m in ENCODER_BINS}
    figures: dict = {"budget": args.budget, "seeds": args.seeds, "first_seed": args.first_seed,
                     "surrogate.file_best": float(file_values.max()),
                     "surrogate.file_median": float(np.median(file_values)),
                     "surrogate.random_best": float(random_values.max()),
                     "surrogate.random_p99": float(np.percentile(random_values, 99)),
                     "surrogate.random_median": float(np.median(random_values))}
    for method, encoder in encoders.items():
        figures[f"{method}.embedding_dim"] = encoder.embedding_dim
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    rows_by_method = {}
    for method in methods:
        rows = [cache.get({"method": method, "seed": seed},
                          lambda m=method, s=seed: one_run(m, s, surrogate, encoders, args.budget, args.n_init))
                for seed in seeds]
        rows_by_method[method] = rows
        for k in CHECKPOINTS:
            if k <= args.budget:
                figures[f"{method}.median_incumbent_at_{k}"] = float(np.median([r["incumbent"][str(k)] for r in rows]))
        figures[f"{method}.mean_best"] = float(np.mean([r["best"] for r in rows]))
        figures[f"{method}.above_file_best"] = float(np.mean([r["best"] > file_values.max() for r in rows]))
        figures[f"{method}.seconds_per_run"] = float(np.mean([r["seconds"] for r in rows]))
        print(f"{method}: " + ", ".join(f"seed {r['seed']} {r['best']:.3f}" for r in rows), flush=True)

    print(f"\nsurrogate (GCN on the 725 val_accuracy): file best {figures['surrogate.file_best']:.3f}, "
          f"random best of {args.random_reference:,} {figures['surrogate.random_best']:.3f} "
          f"(median {figures['surrogate.random_median']:.3f})")
    print(f"{'method':<16} {'@25':>8} {'@50':>8} {'@100':>8} {'> file best':>11} {'s/run':>7}")
    for method in methods:
        at = [figures.get(f"{method}.median_incumbent_at_{k}", float("nan")) for k in CHECKPOINTS]
        print(f"{method:<16} {at[0]:8.3f} {at[1]:8.3f} {at[2]:8.3f} {figures[f'{method}.above_file_best']:11.0%} "
              f"{figures[f'{method}.seconds_per_run']:7.1f}")
    bench.write(figures, details={"seeds": seeds, "rows": rows_by_method, "cache": folder.name})


if __name__ == "__main__":
    main()
