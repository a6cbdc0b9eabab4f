"""How well BO's GP ranks unseen cells from each feature map (NAS-Bench-201 CIFAR-10 valid_acc).

For every feature map, a GP exactly as BO builds it (features of the canonical cell scaled
to the unit cube, rank-warped targets) is fitted to ``--num`` random cells and ranks the
rest; printed are Kendall's tau over all unseen cells and over the accurate ones (valid
accuracy above ``--above``, where search happens), and the share of the GP's top 100 that
lie in the best 1% of the space, as means over ``--repeats`` random training sets.

    python benchmarks/search_surrogate.py --num 100 --repeats 5
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from scipy.stats import kendalltau

from gcnas.data import BenchmarkTable
from gcnas.search.surrogate import copula_warp, fit_gp, posterior_stats
from gcnas.spaces.nb201 import NB201Space

try:
    from _results import BenchmarkRun, add_output_arguments
    from search_single import SHARED, benchmark_features
except ImportError:
    from benchmarks._results import BenchmarkRun, add_output_arguments
    from benchmarks.search_single import SHARED, benchmark_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", default="onehot,arch2vec,stats,onehot+stats,arch2vec+stats")
    parser.add_argument("--num", type=int, default=100, help="training cells")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--above", type=float, default=88.0)
    add_output_arguments(parser, "search_surrogate")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    bench = BenchmarkRun("search_surrogate", args)
    figures: dict = {"train_cells": args.num, "repeats": args.repeats, "above": args.above}
    table = BenchmarkTable(SHARED / "nb201_cifar10_200ep.csv")
    archs = NB201Space().all_archs()
    by_code = dict(zip((a.code for a in table.archs), table.column("valid_acc")))
    y = np.array([by_code[a.code] for a in archs])
    canonical = [a.canonical() for a in archs]
    top1 = np.quantile(y, 0.99)
    print(f"feature map | dims | tau (all unseen) | tau (valid > {args.above:g}) | top-100 in best 1%")
    for spec in args.features.split(","):
        F = np.asarray(benchmark_features(spec)(canonical), dtype=np.float64)
        span = np.ptp(F, axis=0)
        X = torch.as_tensor((F - F.min(axis=0)) / np.where(span > 0, span, 1.0))
        taus, good_taus, tops = [], [], []
        for repeat in range(args.repeats):
            train = np.random.default_rng(repeat).choice(len(archs), args.num, replace=False)
            model, _ = fit_gp(X[train], torch.as_tensor(copula_warp(y[train])).unsqueeze(-1))
            test = np.setdiff1d(np.arange(len(archs)), train)
            mean = posterior_stats(model, X[test])[0][:, 0].numpy()
            good = y[test] > args.above
            taus.append(kendalltau(mean, y[test])[0])
            good_taus.append(kendalltau(mean[good], y[test][good])[0])
            tops.append(float(np.mean(y[test][np.argsort(-mean)[:100]] > top1)))
        figures.update({f"{spec}.dims": F.shape[1], f"{spec}.tau": float(np.mean(taus)),
                        f"{spec}.tau_above": float(np.mean(good_taus)),
                        f"{spec}.top100_in_best1": float(np.mean(tops))})
        print(f"{spec} | {F.shape[1]} | {np.mean(taus):.3f} | {np.mean(good_taus):.3f} | {np.mean(tops):.3f}",
              flush=True)
    bench.write(figures)


if __name__ == "__main__":
    main()
