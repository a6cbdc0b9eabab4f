"""Multi-objective search on NAS-Bench-201: maximise valid_acc, minimise pixel3 latency.

Measures (a) the hypervolume with the reference point at the true front's nadir, as a
fraction of the true front's, and (b) how many of the true Pareto architectures were
found, at 50/100/150 queries, for BO (arch2vec, one-hot; with the latency known, as the
table gives it, or modelled like accuracy: ``-qlognehvi``), regularised evolution and
random search on the same seeds. ``--third energy`` adds the analytic energy estimate
(``gcnas.hardware``) or ``--third params`` the parameter count as a third objective.
Latency and the third cost are cheap objectives: looked up, never modelled, by BO.

Each (method, seed) search is cached under ``runs/bench/search_multi/`` in a folder keyed by the
device, the third objective, the budget and the code version; the results file (default
``benchmarks/results/search_multi-<device>[_<third>].json``) holds the figures of this command.

    python benchmarks/search_multi.py --seeds 20 --budget 150
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from gcnas.data import BenchmarkTable
from gcnas.search import (TableObjective, hypervolume, nadir_reference, pareto_mask, plot_best_so_far, plot_pareto,
                          run_search)

try:
    from _results import BenchmarkRun, add_output_arguments
    from search_single import DEFAULT_PAIRS, METHODS_HELP, SHARED, make, paired, paired_counts
except ImportError:  # run as a module
    from benchmarks._results import BenchmarkRun, add_output_arguments
    from benchmarks.search_single import DEFAULT_PAIRS, METHODS_HELP, SHARED, make, paired, paired_counts


def third_objective(kind: str | None, table: BenchmarkTable):
    if kind is None:
        return None
    from gcnas.spaces.nb201.counts import network_costs_many

    archs = table.archs
    if kind == "params":
        values = network_costs_many(archs)["params_m"]
    else:
        from gcnas.hardware.energy import estimate_energy

        values = estimate_energy(archs)
    name = "params_m" if kind == "params" else "energy_mj"
    return TableObjective(name, maximize=False, cheap=True,
                          table=BenchmarkTable.from_columns(table.indices, archs, {name: np.asarray(values)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--methods", default="bo-arch2vec+stats,bo-onehot+stats,bo-arch2vec,bo-onehot,"
                        "bo-onehot-raw-qlognehvi,evolution,random", help=METHODS_HELP)
    parser.add_argument("--device", default="pixel3", help="latency column of nb201_latency_ms.csv")
    parser.add_argument("--third", choices=["energy", "params"], help="add a third (cost) objective")
    parser.add_argument("--scatter-methods", default="bo-arch2vec+stats,bo-onehot-raw-qlognehvi,evolution,random",
                        help="methods drawn in the Pareto scatter of the first seed")
    parser.add_argument("--pairs", default=DEFAULT_PAIRS.replace("bo-onehot-raw", "bo-onehot-raw-qlognehvi"),
                        help="A:B,... methods compared seed by seed")
    parser.add_argument("--plots", type=Path, default=None, help="folder of the plots (default: the cache folder)")
    add_output_arguments(parser, "search_multi")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    tag = f"{args.device}{'_' + args.third if args.third else ''}"
    bench = BenchmarkRun("search_multi", args, label=args.label or tag)
    acc_table = BenchmarkTable(SHARED / "nb201_cifar10_200ep.csv")
    lat_table = BenchmarkTable(SHARED / "nb201_latency_ms.csv")
    objectives = [TableObjective("valid_acc", table=acc_table),
                  TableObjective("latency_ms", maximize=False, cheap=True, table=lat_table, column=args.device)]
    third = third_objective(args.third, acc_table)
    if third is not None:
        objectives.append(third)
    archs = acc_table.archs
    signs = np.array([1.0 if o.maximize else -1.0 for o in objectives])
    Y_all = np.column_stack([o(archs) for o in objectives]) * signs
    true_mask = pareto_mask(Y_all)
    true_codes = {archs[i].code for i in np.flatnonzero(true_mask)}
    ref = nadir_reference(Y_all[true_mask])
    hv_true = hypervolume(Y_all[true_mask], ref)
    print(f"true Pareto front: {len(true_codes)} architectures; reference point (nadir) {ref * signs}")
    cache_dir = bench.cache_dir(keys=["device", "third", "budget"])
    plots = args.plots or cache_dir
    plots.mkdir(parents=True, exist_ok=True)
    rows, scatter, found_final, found_curves = [], {}, {}, {}
    checkpoints = sorted({*(n for n in (50, 100, 150) if n <= args.budget), args.budget})
    for method in args.methods.split(","):
        hv_at, found_at, times = {n: [] for n in checkpoints}, {n: [] for n in checkpoints}, []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            cache = cache_dir / f"{method}_s{seed}.json"
            if cache.exists():
                record = json.loads(cache.read_text())
            else:
                began = time.perf_counter()
                result = run_search(make(method), objectives, budget=args.budget, seed=seed)
                asks = [t.report["ask_seconds"] for t in result.trials[10:]]
                record = {"codes": [t.arch.code for t in result.trials], "Y": result.signed().tolist(),
                          "seconds": time.perf_counter() - began, "ask_mean": float(np.mean(asks))}
                cache.write_text(json.dumps(record))
            Y = np.array(record["Y"])
            for n in checkpoints:
                hv_at[n].append(hypervolume(Y[:n], ref) / hv_true)
                found_at[n].append(len(true_codes & set(record["codes"][:n])))
            times.append(record["ask_mean"])
            found_curves.setdefault(method, []).append(np.cumsum([c in true_codes for c in record["codes"]]))
            if seed == args.first_seed:
                scatter[method] = Y[:, :2] * signs[:2]
            print(f"{method} seed {seed}: hv {hv_at[checkpoints[-1]][-1]:.4f} found {found_at[checkpoints[-1]][-1]} "
                  f"step {record['ask_mean']:.3f}s", flush=True)
        found_final[method] = found_at[checkpoints[-1]]
        row = {"method": method, "seeds": args.seeds}
        for n in checkpoints:
            row[f"hv@{n}"] = float(np.median(hv_at[n]))
            row[f"found@{n}"] = float(np.median(found_at[n]))
        row[f"found@{checkpoints[-1]} min..max"] = f"{min(found_at[checkpoints[-1]])}..{max(found_at[checkpoints[-1]])}"
        row["step_s"] = float(np.mean(times))
        rows.append(row)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    figures: dict = {"true_front": len(true_codes), "seeds": args.seeds, "first_seed": args.first_seed,
                     "budget": args.budget,
                     **{f"reference.{o.name}": float(r) for o, r in zip(objectives, ref * signs)}}
    for r in rows:
        figures.update({f"{r['method']}.{k}": v for k, v in r.items() if k != "method"})
        lowest, highest = (int(x) for x in r[f"found@{checkpoints[-1]} min..max"].split(".."))
        figures.update({f"{r['method']}.found@{checkpoints[-1]}.min": lowest,
                        f"{r['method']}.found@{checkpoints[-1]}.max": highest})
    print(f"\ntrue Pareto architectures found within {checkpoints[-1]} queries, seed by seed:")
    for pair in filter(None, args.pairs.split(",")):
        a, b = pair.split(":")
        if a in found_final and b in found_final:
            print(paired(a, found_final[a], b, found_final[b], better="higher"))
            figures.update({f"pair.{a}:{b}.{k}": v
                            for k, v in paired_counts(found_final[a], found_final[b], better="higher").items()})
    curve_plot = plot_best_so_far(found_curves, plots / f"found_{tag}.png",
                                  ylabel=f"true Pareto architectures found (of {len(true_codes)})",
                                  title=f"valid_acc vs {args.device} latency{' vs ' + args.third if args.third else ''}")
    front = (Y_all[true_mask][:, :2] * signs[:2])[:, ::-1]
    shown = [m for m in args.scatter_methods.split(",") if m in scatter]
    plot = plot_pareto({m: scatter[m][:, ::-1] for m in shown}, plots / f"pareto_{tag}.png",
                       xlabel=f"{args.device} latency (ms)", ylabel="valid_acc", front=front, ylim=(80, 92),
                       title=f"seed {args.first_seed}, {args.budget} queries (accurate part of the front)")
    print(f"plots: {curve_plot} {plot}")
    bench.write(figures, details={"rows": rows, "found_final": found_final, "cache": cache_dir.name})


if __name__ == "__main__":
    main()
