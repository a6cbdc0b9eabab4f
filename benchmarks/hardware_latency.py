"""Measured CPU latency here vs the published Intel Xeon Gold 6240 column (HELP / HW-NAS-Bench).

Samples K architectures (seeded), measures each twice on this machine (two independent
passes, to report run-to-run agreement), and prints the Spearman rank correlation of the
measured median latency with the published ``gold_6240`` column, beside the named
baseline "rank by FLOPs" (exact, free) in the same run. Also projects the time to
measure all 15,625 architectures from the measured per-architecture cost.

``build_network`` skips dead edges (ops whose output cannot reach the cell output), while
the published devices ran the official network that computes every edge; the baseline
"FLOPs of live edges" shows how far that difference alone caps the agreement.

    python benchmarks/hardware_latency.py --num 200 --repeats 15

Needs ../shared/data/nb201/nb201_latency_ms.csv (or --table).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from _results import BenchmarkRun, add_output_arguments
from gcnas.data import LatencyTable
from gcnas.hardware import measure_latency
from gcnas.spaces.nb201.counts import network_costs_many
from gcnas.spaces.nb201 import NUM_ARCHS, Arch, NB201Space
from gcnas.spaces.nb201.network import live_edges

DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201" / "nb201_latency_ms.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num", type=int, default=200, help="K sampled architectures")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table", default=str(DEFAULT_TABLE))
    add_output_arguments(parser, "hardware_latency")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("hardware_latency", args)

    table = LatencyTable(args.table)
    archs = NB201Space().sample_many(args.num, args.seed)
    passes, fastest, spreads, seconds = [], [], [], []
    for run in range(2):
        start = time.perf_counter()
        medians, minima, iqr = [], [], []
        for i, arch in enumerate(archs):
            result = measure_latency(arch, repeats=args.repeats, warmup=args.warmup, seed=args.seed)
            medians.append(result.median_ms)
            minima.append(result.min_ms)
            iqr.append(result.spread_ms / result.median_ms)
            if (i + 1) % 50 == 0:
                print(f"  pass {run + 1}: {i + 1}/{len(archs)} measured", flush=True)
        seconds.append(time.perf_counter() - start)
        passes.append(np.array(medians))
        fastest.append(np.array(minima))
        spreads.append(np.array(iqr))

    measured = np.mean(passes, axis=0)
    minimum = np.min(fastest, axis=0)
    flops = network_costs_many(archs)["flops_m"]
    live = [Arch(tuple(op if e in live_edges(a.ops) else 0 for e, op in enumerate(a.ops))) for a in archs]
    live_flops = network_costs_many(live)["flops_m"]
    print(f"\nK = {len(archs)} archs (seed {args.seed}), {args.repeats} timed repeats + {args.warmup} warm-up, "
          f"1 thread, batch 1, CIFAR-10 input; machine: {os.cpu_count()} CPU cores shared with other jobs")
    print(f"{'comparison':<46} {'Spearman':>9}")
    figures: dict = {"archs": len(archs)}
    for device in table.devices:
        published = table.latency(archs, device)
        for name, slug, values in (("measured here (median) vs ", "measured_median", measured),
                                   ("measured here (min) vs ", "measured_min", minimum),
                                   ("  baseline: FLOPs vs ", "flops", flops),
                                   ("  baseline: FLOPs of live edges vs ", "live_flops", live_flops)):
            rho = spearmanr(values, published).statistic
            figures[f"spearman.{slug}.{device}"] = rho
            print(f"{name + device:<46} {rho:>9.3f}")
    figures["spearman.measured_median.live_flops"] = spearmanr(measured, live_flops).statistic
    print(f"{'measured here (median) vs FLOPs of live edges':<46} "
          f"{figures['spearman.measured_median.live_flops']:>9.3f}")
    rel = np.abs(passes[0] - passes[1]) / measured
    figures.update({"run_to_run.median": spearmanr(passes[0], passes[1]).statistic,
                    "run_to_run.min": spearmanr(fastest[0], fastest[1]).statistic,
                    "run_to_run.relative_difference_median": float(np.median(rel)),
                    "run_to_run.relative_difference_p90": float(np.quantile(rel, 0.9)),
                    "within_run_iqr_over_median": float(np.median(np.concatenate(spreads)))})
    print(f"{'run-to-run (median): pass 1 vs pass 2':<46} {figures['run_to_run.median']:>9.3f}")
    print(f"{'run-to-run (min): pass 1 vs pass 2':<46} {figures['run_to_run.min']:>9.3f}")
    print(f"run-to-run |difference| / latency: median {np.median(rel):.3f}, 90th pct {np.quantile(rel, 0.9):.3f}")
    print(f"within-run IQR / median: median {np.median(np.concatenate(spreads)):.3f}")
    print(f"measured latency here: median {np.median(measured):.2f} ms (range {measured.min():.2f}-"
          f"{measured.max():.2f}); gold_6240 median {np.median(table.latency(archs, 'gold_6240')):.2f} ms")
    per_arch = np.mean(seconds) / len(archs)
    print(f"time per architecture (build + {args.warmup + args.repeats} passes): {per_arch:.3f} s; "
          f"projected for all {NUM_ARCHS}: {per_arch * NUM_ARCHS / 3600:.2f} h on this machine")
    figures.update({"latency_ms.median": float(np.median(measured)), "latency_ms.min": float(measured.min()),
                    "latency_ms.max": float(measured.max()),
                    "gold_6240_ms.median": float(np.median(table.latency(archs, "gold_6240"))),
                    "seconds_per_arch": per_arch, "projected_hours_all": per_arch * NUM_ARCHS / 3600})
    bench.write(figures, details={"codes": [a.code for a in archs], "passes_median_ms": [p.tolist() for p in passes],
                                "passes_min_ms": [f.tolist() for f in fastest]})


if __name__ == "__main__":
    main()
