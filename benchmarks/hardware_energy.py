"""Rank agreement of the analytic energy model with every published latency column.

Over all architectures of the published table (15,625), prints the Spearman rank
correlation of the analytic energy estimate (fp32 and int8 Horowitz constants) with each
device column, beside the named baselines "rank by FLOPs" and "rank by params" in the
same run. With the HW-NAS-Bench examples file it also prints the model's estimate beside
the published (measured / simulated) energy of archs 0, 1, 2, for scale only.

    python benchmarks/hardware_energy.py

Needs ../shared/data/nb201/ (or --table / --examples). Writes benchmarks/results/hardware_energy.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

from _results import BenchmarkRun, add_output_arguments
from gcnas.data import LatencyTable
from gcnas.hardware import EnergyModel
from gcnas.data.images import DATASET_SHAPES as DATASETS
from gcnas.spaces.nb201.counts import network_costs_many

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default=str(SHARED / "nb201_latency_ms.csv"))
    parser.add_argument("--examples", default=str(SHARED / "hw_nas_bench_examples.json"))
    add_output_arguments(parser, "hardware_energy")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("hardware_energy", args)

    table = LatencyTable(args.table)
    archs = table.archs
    start = time.perf_counter()
    estimates = {name: EnergyModel.preset(name).energy_mj(archs) for name in ("fp32", "int8")}
    seconds = time.perf_counter() - start
    counts = network_costs_many(archs)
    rankers = {"energy model fp32": estimates["fp32"], "energy model int8": estimates["int8"],
               "baseline: FLOPs": counts["flops_m"], "baseline: params": counts["params_m"]}
    slugs = {"energy model fp32": "energy_fp32", "energy model int8": "energy_int8", "baseline: FLOPs": "flops",
             "baseline: params": "params"}
    figures: dict = {"archs": len(archs), "model_seconds": seconds,
                     "spearman_fp32_int8": spearmanr(estimates["fp32"], estimates["int8"]).statistic}
    print(f"{len(archs)} architectures; the energy model costs {seconds * 1e3:.0f} ms for both presets")
    print(f"{'Spearman vs published latency':<22}" + "".join(f"{d:>11}" for d in table.devices))
    for name, values in rankers.items():
        rhos = [spearmanr(values, table.latency(archs, d)).statistic for d in table.devices]
        figures.update({f"spearman.{slugs[name]}.{d}": r for d, r in zip(table.devices, rhos)})
        print(f"{name:<22}" + "".join(f"{r:>11.3f}" for r in rhos))

    examples = Path(args.examples)
    scale = []
    if examples.is_file():
        print("\nHW-NAS-Bench published energy (mJ) beside the model estimate, archs 0-2 (scale only, n=3)")
        print(f"{'index':>5} {'dataset':<15} {'edgegpu':>9} {'eyeriss':>9} {'fpga':>9} {'model fp32':>11} "
              f"{'model int8':>11}")
        for record in json.loads(examples.read_text()):
            arch = table.arch(record["nb201_index"])
            classes, size = DATASETS[record["dataset"].lower()]
            model = [EnergyModel.preset(p).energy_mj([arch], num_classes=classes, input_size=size)[0]
                     for p in ("fp32", "int8")]
            m = record["metrics"]
            scale.append({"index": record["nb201_index"], "dataset": record["dataset"],
                          **{k: m[k] for k in ("edgegpu_energy", "eyeriss_energy", "fpga_energy")},
                          "model_fp32": model[0], "model_int8": model[1]})
            print(f"{record['nb201_index']:>5} {record['dataset']:<15} {m['edgegpu_energy']:>9.3f} "
                  f"{m['eyeriss_energy']:>9.3f} {m['fpga_energy']:>9.3f} {model[0]:>11.3f} {model[1]:>11.3f}")
    bench.write(figures, details={"devices": list(table.devices), "published_energy_scale": scale})


if __name__ == "__main__":
    main()
