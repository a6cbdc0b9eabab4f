"""DARTS params / FLOPs counted by gcnas beside the columns NAS-Bench-Suite-Zero publishes for NAS-Bench-301.

Reads ``../shared/data/nb301/nb301_sample_cifar10.csv`` (725 cells; ``params`` in millions,
``flops`` in millions, 6 significant digits), parses every genotype, checks that writing
it back gives the exact published string, and counts each cell's network under the
``nb301`` shape (``gcnas.spaces.darts.SHAPES``: C=32, 8 cells, search-network ops, no
auxiliary head; the ``torchstat`` rule on one 32x32 image). A count matches when, written
to 6 significant digits, it equals the published value. For contrast, ``--contrast K``
cells are also counted under three shapes that do not match (DARTS' evaluation ops at the
same size, NASLib's 16-channel nb301 network, DARTS' CIFAR-10 network), with their
median relative error. The counts come from ``gcnas.spaces.darts.counts`` without building
the network; ``--built N`` cells are also built and traced, to time both in one run and check
that they agree.

    python benchmarks/space_darts_counts.py
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np
import torch

from _results import REPO, BenchmarkRun, add_output_arguments

DEFAULT_CSV = REPO.parent / "shared" / "data" / "nb301" / "nb301_sample_cifar10.csv"
CONTRAST = {
    "darts_ops_C32_L8": dict(C=32, layers=8),
    "naslib_C16_L8": dict(C=16, layers=8, affine=False, pool_bn=True),
    "darts_eval_C36_L20": dict(C=36, layers=20, auxiliary=True),
}


def _matches(value: float, text: str) -> bool:
    return float(f"{value:.6g}") == float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("GCNAS_NB301_CSV", DEFAULT_CSV)))
    parser.add_argument("--contrast", type=int, default=20, help="cells counted under the non-matching shapes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--built", type=int, default=50,
                        help="cells also counted on the built network (timing beside the analytic counts)")
    add_output_arguments(parser, "space_darts_counts")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("space_darts_counts", args)
    from gcnas.spaces.counts import count_module
    from gcnas.spaces.darts import DartsSpace
    from gcnas.spaces.darts.network import NetworkCIFAR

    space = DartsSpace()
    with args.csv.open() as handle:
        rows = list(csv.DictReader(handle))
    began = time.perf_counter()
    round_trip = sum(space.format(space.parse(r["genotype"])) == r["genotype"] for r in rows)
    params_ok = flops_ok = 0
    params_rel, flops_rel, misses = [], [], []
    for i, row in enumerate(rows):
        costs = space.costs(space.parse(row["genotype"]))
        p_ok, f_ok = _matches(costs["params"], row["params"]), _matches(costs["flops"], row["flops"])
        params_ok += p_ok
        flops_ok += f_ok
        params_rel.append(abs(costs["params"] / float(row["params"]) - 1))
        flops_rel.append(abs(costs["flops"] / float(row["flops"]) - 1))
        if not (p_ok and f_ok):
            misses.append({"row": i, "params": costs["params"], "published_params": row["params"],
                           "flops": costs["flops"], "published_flops": row["flops"]})
    seconds = time.perf_counter() - began
    n = len(rows)
    print(f"{n} cells: round trip exact {round_trip}/{n}; params match {params_ok}/{n} "
          f"(max rel err {max(params_rel):.2e}); flops match {flops_ok}/{n} (max rel err {max(flops_rel):.2e}); "
          f"{seconds:.1f} s, {1000 * seconds / n:.0f} ms per cell")
    figures = {"cells": n, "round_trip_exact": round_trip, "params_match": params_ok, "flops_match": flops_ok,
               "params_match_rate": params_ok / n, "flops_match_rate": flops_ok / n,
               "params_max_rel_err": max(params_rel), "flops_max_rel_err": max(flops_rel),
               "ms_per_cell": 1000 * seconds / n}
    # the analytic counts beside building and tracing each network: same cells, same run
    from gcnas.spaces.darts import SHAPES

    sample = [space.parse(rows[i]["genotype"]) for i in range(min(args.built, n))]
    began = time.perf_counter()
    built = [count_module(NetworkCIFAR(g, **SHAPES["nb301"])) for g in sample]
    built_seconds = time.perf_counter() - began
    figures["built.cells"] = len(sample)
    figures["built.equal"] = sum((c.params / 1e6, c.flops / 1e6) == (space.costs(g)["params"], space.costs(g)["flops"])
                                 for c, g in zip(built, sample))
    figures["built.ms_per_cell"] = 1000 * built_seconds / max(1, len(sample))
    figures["built.speedup"] = figures["built.ms_per_cell"] / figures["ms_per_cell"]
    print(f"built and traced: {figures['built.ms_per_cell']:.1f} ms per cell on {len(sample)} cells "
          f"({figures['built.speedup']:.0f}x the analytic counts); equal on {figures['built.equal']}/{len(sample)}")
    contrast = {}
    chosen = np.random.default_rng(args.seed).choice(n, size=min(args.contrast, n), replace=False)
    for name, shape in CONTRAST.items():
        p_err, f_err = [], []
        for i in chosen:
            row = rows[int(i)]
            counts = count_module(NetworkCIFAR(space.parse(row["genotype"]), **shape))
            p_err.append(counts.params / 1e6 / float(row["params"]) - 1)
            f_err.append(counts.flops / 1e6 / float(row["flops"]) - 1)
        contrast[name] = {"shape": shape, "params_median_rel_err": float(np.median(p_err)),
                          "flops_median_rel_err": float(np.median(f_err))}
        figures[f"contrast.{name}.params_median_rel_err"] = float(np.median(p_err))
        figures[f"contrast.{name}.flops_median_rel_err"] = float(np.median(f_err))
        print(f"  {name}: median rel err params {np.median(p_err):+.3f}, flops {np.median(f_err):+.3f}")
    bench.write(figures, details={"misses": misses[:50], "contrast": contrast, "csv": str(args.csv)})


if __name__ == "__main__":
    main()
