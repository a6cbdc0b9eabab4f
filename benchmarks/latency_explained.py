"""Why latency prediction misses ±10%: the CPU measurement's own spread, and the ceilings of the
published tables.

Four parts, each under ten minutes on one thread; each stores its figures in the cache
(``runs/bench/latency_explained/parts.json``) and every run writes
``benchmarks/results/latency_explained.json`` from all the parts measured so far (each part keeps
its own command, commit, start time and load average; cpu and demo keep every run, since the
load differs between runs).

``--part cpu``: measurement of the measurement. The same ``--num`` cells (seeded) are timed here
under each setting (one after the other / interleaved in rounds of random order, with and
without warm-up, with the process pinned to one core), three passes each: passes 1 and 2 in one
worker process, pass 3 in a fresh process started after every setting's first worker. Every
pass reads both clocks (elapsed and the thread's CPU time). Figure: the share of cells whose
pass-2 (pass-3) latency lies within ±10% of pass 1, for the median and the fastest of the
repeats, raw and with the pass's common factor divided out. It is the ceiling of any
predictor's ±10% score judged against one such measurement. Every pass records the load average.

``--part tables``: the published ``nb201_latency_ms.csv`` columns, no fitting to held-out data:
which cells are near zero; whether the device timed dead edges (an additive per-edge model of
all ops vs of live ops only, least squares on all 15,625 cells); the spread within groups of
cells that a pruned, isomorphism-invariant graph model cannot tell apart (NAS-Bench-201
canonical classes: best single value per class) and within groups of cells that run the
identical network once dead edges are dropped; measurement drift in table order (lag-1
autocorrelation of the additive model's ratio, and how much a smooth factor along the table
order explains); and the best an architecture-only model reached with 12,000 training cells
(gradient boosting on the op of every edge and of every live edge).

``--part gcn``: the GCN latency predictor at K = 100 (train on 100 random cells, test on the
rest, split ``default_rng(3000 + seed)`` as ``predictors_latency.py``), before (log target,
MSE, as ``predictors_latency.py`` fits it) and after (log target, ``loss="l1"``: the
relative-error loss), per device and seed: share within ±10%, median |relative error|, and the
share within ±10% per latency quintile. Resumable: finished rows are reused.

``--part demo``: the latency stage of ``gcnas demo`` repeated, with the old measurement and the
new ``measure_many`` defaults (see :func:`run_demo`).

    python benchmarks/latency_explained.py --part cpu --num 50 --repeats 15
    python benchmarks/latency_explained.py --part tables
    python benchmarks/latency_explained.py --part gcn --seeds 3
    python benchmarks/latency_explained.py --part demo
    python benchmarks/latency_explained.py --report
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _predictors_common import shared
from _results import CACHE_ROOT, BenchmarkRun, code_version, command_line, git_state

DEVICES = ("gold_6240", "1080ti_1", "pixel3", "fpga", "eyeriss")
TOLERANCE = 0.1

# name -> (interleave, warmup, pinned to one core, niceness). A niceness of -20 (root only) takes a core
# from the other jobs of a shared machine; measured once ("interleaved, nice -20", run 1), it did not help.
CPU_SETTINGS = {
    "one after the other, warm-up 5": (False, 5, False, 0),
    "one after the other, no warm-up": (False, 0, False, 0),
    "one after the other, pinned": (False, 5, True, 0),
    "interleaved, warm-up 5": (True, 5, False, 0),
    "interleaved, pinned": (True, 5, True, 0),
}

# clock (wall: elapsed; cpu: the measuring thread's CPU time) . statistic of the repeats
STATISTICS = ("wall.median_ms", "wall.min_ms", "cpu.median_ms", "cpu.min_ms")

# name -> (GCNPredictor keyword arguments, target: "log" or "ms")
GCN_VARIANTS = {
    "before": (dict(prune=False, isomorphs=0, rank_weight=0.0), "log"),
    "after": (dict(prune=False, isomorphs=0, rank_weight=0.0, loss="l1"), "log"),
}


def within(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per cell: the prediction lies within ±10% of the measurement."""
    return np.abs(np.asarray(pred) / np.asarray(true) - 1) <= TOLERANCE


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _provenance() -> dict[str, Any]:
    return {"command": command_line(), "git": git_state(), "code_version": code_version(), "started": _now(),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


# -- part cpu ------------------------------------------------------------------------------

def cpu_worker(config: dict[str, Any]) -> list[dict[str, Any]]:
    """``passes`` measurements of ``codes`` under one setting, in this process."""
    import torch

    from gcnas.hardware.latency import measure_latencies
    from gcnas.spaces.nb201 import Arch

    torch.set_num_threads(1)
    if config["pinned"]:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    if config["nice"]:
        os.nice(config["nice"])  # PermissionError without root: the setting cannot be measured here
    archs = [Arch.from_code(c) for c in config["codes"]]
    out = []
    for _ in range(config["passes"]):
        load, started = os.getloadavg()[0], time.perf_counter()
        results = measure_latencies(archs, repeats=config["repeats"], warmup=config["warmup"],
                                    interleave=config["interleave"], threads=1, clock="cpu")
        out.append({"cpu.median_ms": [r.median_ms for r in results], "cpu.min_ms": [r.min_ms for r in results],
                    "wall.median_ms": [statistics.median(r.wall_times_ms) for r in results],
                    "wall.min_ms": [min(r.wall_times_ms) for r in results],
                    "loadavg_1min": round(load, 2), "seconds": round(time.perf_counter() - started, 2),
                    "affinity": sorted(os.sched_getaffinity(0))})
    return out


def run_cpu(args: argparse.Namespace) -> dict[str, Any]:
    from gcnas.spaces.nb201 import NB201Space

    provenance = _provenance()
    codes = [a.code for a in NB201Space().sample_many(args.num, args.seed)]
    passes: dict[str, list[dict[str, Any]]] = {name: [] for name in CPU_SETTINGS}
    for round_passes in (2, 1):  # passes 1-2 in one process per setting, then pass 3 in a fresh one
        for name, (interleave, warmup, pinned, nice) in CPU_SETTINGS.items():
            config = dict(codes=codes, interleave=interleave, warmup=warmup, pinned=pinned, nice=nice,
                          repeats=args.repeats, passes=round_passes)
            done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(config)], check=True,
                                  capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            passes[name] += json.loads(done.stdout.strip().splitlines()[-1])
            print(f"  {name}: pass {len(passes[name])} done, load {passes[name][-1]['loadavg_1min']}, "
                  f"{passes[name][-1]['seconds']} s", flush=True)
    settings = {}
    for name, runs in passes.items():
        row: dict[str, Any] = {"passes": runs}
        for statistic in STATISTICS:
            first = np.array(runs[0][statistic])
            for label, other in (("same_process", runs[1]), ("other_process", runs[2])):
                ratio = np.array(other[statistic]) / first
                relative = ratio / np.median(ratio)  # the pass's common factor divided out
                row[f"{statistic}.{label}.within_10"] = float(np.mean(np.abs(ratio - 1) <= TOLERANCE))
                row[f"{statistic}.{label}.relative_within_10"] = float(np.mean(np.abs(relative - 1) <= TOLERANCE))
                row[f"{statistic}.{label}.median_abs_diff"] = float(np.median(np.abs(ratio - 1)))
                row[f"{statistic}.{label}.median_ratio"] = float(np.median(ratio))
        settings[name] = row
    return {**provenance, "num": args.num, "repeats": args.repeats, "seed": args.seed, "codes": codes,
            "interleaved_rounds": "random order per round (measure_latencies)",
            "finished": _now(), "loadavg_end": [round(x, 2) for x in os.getloadavg()], "settings": settings}


# -- part tables ---------------------------------------------------------------------------

def edge_ops(archs: list, live_only: bool) -> np.ndarray:
    """``(n, 6)`` op ids; with ``live_only`` an edge that cannot reach the output counts as ``none``."""
    from gcnas.spaces.nb201.network import live_edges

    if not live_only:
        return np.array([a.ops for a in archs])
    return np.array([[op if e in set(live_edges(a.ops)) else 0 for e, op in enumerate(a.ops)] for a in archs])


def one_hot(ops: np.ndarray) -> np.ndarray:
    """``(n, 31)``: the op of each edge one-hot, and an intercept."""
    out = np.zeros((len(ops), 31))
    for edge in range(6):
        out[np.arange(len(ops)), 5 * edge + ops[:, edge]] = 1
    out[:, 30] = 1
    return out


def additive_fit(ops: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares latency = intercept + a cost per (edge, op), on all cells; the fitted values."""
    design = one_hot(ops)
    weights, *_ = np.linalg.lstsq(design, y, rcond=None)
    return design @ weights


def best_value_share(groups: list[list[int]], y: np.ndarray) -> float:
    """Share of cells a model that gives every member of a group one value can put within ±10%.

    Per group the best value is found exactly: a value ``v`` covers ``y`` when
    ``y / 1.1 <= v <= y / 0.9``, so the most cells covered is the deepest overlap of those intervals.
    """
    covered = 0
    for members in groups:
        values = y[members]
        events = sorted([(v / (1 + TOLERANCE), 0) for v in values] + [(v / (1 - TOLERANCE), 1) for v in values])
        depth = best = 0
        for _, is_end in events:
            depth += -1 if is_end else 1
            best = max(best, depth)
        covered += best
    return covered / len(y)


def neighbours_median(ratio: np.ndarray, half: int = 15) -> np.ndarray:
    """Per cell, the median of the ``half`` cells before and after it in table order (itself left out)."""
    out = np.empty(len(ratio))
    for i in range(len(ratio)):
        out[i] = np.median(np.r_[ratio[max(0, i - half):i], ratio[i + 1:i + 1 + half]])
    return out


def no_path(archs: list) -> np.ndarray:
    """Cells without a live path from input to output: their output is zero."""
    from gcnas.spaces.nb201 import live_adjacency

    return np.array([live_adjacency(g.adjacency, g.features).sum() == 0 for g in (a.to_graph() for a in archs)])


def run_tables(args: argparse.Namespace) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingRegressor

    from gcnas.data import BenchmarkTable

    provenance = _provenance()
    table = BenchmarkTable(shared("nb201/nb201_latency_ms.csv"))
    archs = table.archs
    if np.any(np.diff(table.indices) <= 0):
        raise SystemExit("the latency table is not in official-index order; the drift analysis needs that order")
    all_ops, live_ops = edge_ops(archs, False), edge_ops(archs, True)
    zero = no_path(archs)
    classes = collections.defaultdict(list)
    for i, arch in enumerate(archs):
        classes[arch.canonical().code].append(i)
    twins = collections.defaultdict(list)  # identical networks once dead edges are dropped
    for i, ops in enumerate(map(tuple, live_ops)):
        twins[ops].append(i)
    twin_groups = [g for ops, g in twins.items() if len(g) > 1 and any(ops)]
    features = np.c_[all_ops, live_ops]
    rows = np.random.default_rng(0).permutation(len(archs))
    train, test = rows[:args.gbt_train], rows[args.gbt_train:]
    out: dict[str, Any] = {**provenance, "cells": len(archs), "no_path_cells": int(zero.sum()),
                           "canonical_classes": len(classes), "twin_groups": len(twin_groups),
                           "twin_cells": int(sum(map(len, twin_groups))), "gbt_train": args.gbt_train, "devices": {}}
    for device in DEVICES:
        y = table.column(device)
        fit_all, fit_live = additive_fit(all_ops, y), additive_fit(live_ops, y)
        timed_dead = bool(np.mean(within(fit_all, y)) >= np.mean(within(fit_live, y)))
        fitted = fit_all if timed_dead else fit_live
        ratio = y / fitted
        drift = np.ones(len(y))
        for _ in range(4):  # alternate: additive costs given the drift, drift given the costs
            fitted = additive_fit(all_ops if timed_dead else live_ops, y / drift)
            drift = neighbours_median(y / fitted)
        scale = np.linspace(0.8, 1.2, 401)
        arch_only = max(float(np.mean(within(c * fitted, y))) for c in scale)
        twin_dev = np.array([abs(y[i] / np.median(y[[j for j in g if j != i]]) - 1) for g in twin_groups for i in g])
        model = HistGradientBoostingRegressor(max_iter=2000, learning_rate=0.05, categorical_features=list(range(12)),
                                              random_state=0).fit(features[train], np.log(y[train]))
        gbt = np.exp(model.predict(features[test]))
        out["devices"][device] = {
            "latency_ms_quantiles": {q: float(np.quantile(y, float(q))) for q in ("0", "0.01", "0.05", "0.5", "1")},
            "no_path_median_ms": float(np.median(y[zero])),
            "no_path_max_ms": float(np.max(y[zero])),
            "path_min_ms": float(np.min(y[~zero])),
            "additive_all_ops.within_10": float(np.mean(within(fit_all, y))),
            "additive_live_ops.within_10": float(np.mean(within(fit_live, y))),
            "timed_dead_edges": timed_dead,
            "canonical_class_ceiling": best_value_share(list(classes.values()), y),
            "twins.within_10_of_twins_median": float(np.mean(twin_dev <= TOLERANCE)),
            "twins.median_abs_dev": float(np.median(twin_dev)),
            "twins.ceiling": best_value_share(twin_groups, y) * len(y) / len(twin_dev),
            "drift.lag1_autocorrelation": float(np.corrcoef(ratio[:-1], ratio[1:])[0, 1]),
            "drift.factor_p05_p50_p95": [float(v) for v in np.quantile(drift, [0.05, 0.5, 0.95])],
            "drift.additive_times_drift.within_10": float(np.mean(within(fitted * drift, y))),
            "drift.arch_only_ceiling": arch_only,
            "gbt_12000.within_10": float(np.mean(within(gbt, y[test]))),
            "gbt_12000.median_abs_rel_error": float(np.median(np.abs(gbt / y[test] - 1))),
        }
        print(f"  {device}: done", flush=True)
    out["finished"] = _now()
    return out


# -- part gcn ------------------------------------------------------------------------------

def gcn_row(archs: list, y: np.ndarray, variant: str, seed: int, size: int) -> dict[str, Any]:
    import torch

    from gcnas.predictors import GCNPredictor

    torch.set_num_threads(1)
    kwargs, target = GCN_VARIANTS[variant]
    rows = np.random.default_rng(3000 + seed).permutation(len(archs))
    train, rest = rows[:size], rows[size:]
    started = time.perf_counter()
    model = GCNPredictor(seed=seed, **kwargs)
    model.fit([archs[i] for i in train], np.log(y[train]) if target == "log" else y[train])
    pred = model.predict([archs[i] for i in rest])
    pred = np.exp(pred) if target == "log" else np.maximum(pred, 1e-3)
    true = y[rest]
    hits = within(pred, true)
    edges = np.quantile(true, [0, 0.2, 0.4, 0.6, 0.8, 1])
    quintile = np.clip(np.searchsorted(edges, true, side="right") - 1, 0, 4)
    return {"within_10": float(hits.mean()), "median_abs_rel_error": float(np.median(np.abs(pred / true - 1))),
            "within_10_by_quintile": [float(hits[quintile == q].mean()) for q in range(5)],
            "quintile_edges_ms": [float(e) for e in edges], "fit_seconds": round(time.perf_counter() - started, 1)}


def run_gcn(args: argparse.Namespace, stored: dict[str, Any]) -> dict[str, Any]:
    from gcnas.data import BenchmarkTable

    table = BenchmarkTable(shared("nb201/nb201_latency_ms.csv"))
    archs = table.archs
    part = stored.get("gcn") or {"runs": [], "rows": []}
    part["runs"].append(_provenance())
    version = code_version(["predictors"])
    for device in args.devices.split(","):
        for seed in range(args.seeds):
            for variant in GCN_VARIANTS:
                key = {"device": device, "seed": seed, "variant": variant, "size": args.size,
                       "settings": repr(GCN_VARIANTS[variant]), "code_version": version}
                if any(all(r.get(k) == v for k, v in key.items()) for r in part["rows"]):
                    continue
                row = {**key, **gcn_row(archs, table.column(device), variant, seed, args.size),
                       "loadavg": [round(x, 2) for x in os.getloadavg()]}
                part["rows"].append(row)
                stored["gcn"] = part
                save_parts(stored)  # every finished row survives an interrupted run
                print(f"  {device} seed {seed} {variant}: within ±10% {row['within_10']:.3f}", flush=True)
    part["runs"][-1]["finished"] = _now()
    return part


# -- part demo ----------------------------------------------------------------------------

# name -> measure_many keyword arguments: the old way (one after the other, elapsed time, median) and the defaults
DEMO_SETTINGS = {"before": dict(interleave=1, clock="wall", statistic="median"), "after": {}}


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    """The latency stage of ``gcnas demo`` (``gcnas.demo._latency``) repeated, measured the old and the new way.

    As the demo does: 100 canonical cells (seed 1), measured here (10 timed repeats, 2 warm-up, the
    C=16, N=5 network, 1 thread) into a fresh store; a GCN (ensemble 3, 200 epochs, seed 0) fitted to
    80 of them in milliseconds; the share of the other 20 predicted within ±10%. Beside it, the GCN
    the published tables favour (part gcn's "after": log latency, L1 loss, unpruned graph).
    """
    import tempfile

    import torch

    from gcnas.data import RunStore
    from gcnas.hardware import measure_many
    from gcnas.predictors import GCNPredictor
    from gcnas.spaces.nb201 import NB201Space

    torch.set_num_threads(1)
    provenance = _provenance()
    archs = sorted(NB201Space().sample_many(args.demo_cells, seed=1, canonical=True), key=lambda a: a.code)
    order = np.random.default_rng(0).permutation(len(archs))
    cut = max(2, int(round(len(archs) * 0.2)))
    train, held = order[cut:], order[:cut]
    rows = []
    for repeat in range(args.demo_repeats):
        for name, kwargs in DEMO_SETTINGS.items():
            with tempfile.TemporaryDirectory() as folder:
                store = RunStore(Path(folder) / "run")
                load, started = os.getloadavg()[0], time.perf_counter()
                measure_many(archs, store, repeats=10, warmup=2, progress=False, seed=0, **kwargs)
                seconds = time.perf_counter() - started
                stored = store.costs("latency_ms", "cpu")
            values = np.array([stored[a][0] for a in archs])
            model = GCNPredictor(ensemble=3, epochs=200, seed=0).fit([archs[i] for i in train], values[train])
            predicted = model.predict([archs[i] for i in held])
            # the latency GCN of the published tables ("after" of part gcn), with the demo's ensemble and epochs
            kwargs_after, _ = GCN_VARIANTS["after"]
            relative = GCNPredictor(ensemble=3, epochs=200, seed=0, **kwargs_after).fit(
                [archs[i] for i in train], np.log(values[train]))
            predicted_relative = np.exp(relative.predict([archs[i] for i in held]))
            rows.append({"repeat": repeat, "setting": name, "measure_many": kwargs or "defaults",
                         "loadavg_1min": round(load, 2),
                         "measure_seconds": round(seconds, 1), "latency_ms": values.tolist(),
                         "heldout_within_10": float(np.mean(within(predicted, values[held]))),
                         "heldout_within_10_log_l1": float(np.mean(within(predicted_relative, values[held])))})
            print(f"  repeat {repeat} {name}: held-out within ±10% {rows[-1]['heldout_within_10']:.2f}, "
                  f"load {load:.1f}", flush=True)
    return {**provenance, "cells": len(archs), "finished": _now(), "rows": rows,
            "interleaved_rounds": "random order per round; the defaults store the fastest repeat"}


# -- cache, figures, report -----------------------------------------------------------------

PARTS_FILE = CACHE_ROOT / "latency_explained" / "parts.json"


def load_parts() -> dict[str, Any]:
    return json.loads(PARTS_FILE.read_text()) if PARTS_FILE.exists() else {}


def save_parts(parts: dict[str, Any]) -> None:
    PARTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    partial = PARTS_FILE.with_name(PARTS_FILE.name + ".partial")
    partial.write_text(json.dumps(parts, indent=1))
    partial.replace(PARTS_FILE)


def without_per_cell_values(parts: dict[str, Any]) -> dict[str, Any]:
    """The parts for the results file: per-cell latencies (kept in the cache) become their median."""
    out = json.loads(json.dumps(parts))
    for run in out.get("cpu_runs", []):
        run.pop("codes", None)
        for row in run["settings"].values():
            for one_pass in row["passes"]:
                for statistic in STATISTICS:
                    if statistic in one_pass:
                        one_pass[f"{statistic}.median_over_cells"] = float(np.median(one_pass.pop(statistic)))
    for run in out.get("demo_runs", []):
        for row in run["rows"]:
            row["latency_ms.median_over_cells"] = float(np.median(row.pop("latency_ms")))
    return out


def figures_and_report(parts: dict[str, Any]) -> dict[str, Any]:
    """Print every figure; return the flat figures of the results file."""
    figures: dict[str, Any] = {}
    for run, cpu in enumerate(parts.get("cpu_runs", []), 1):
        print(f"\nCPU run {run}, {cpu['started']}, interleaved rounds in {cpu['interleaved_rounds']}: "
              f"run-to-run agreement ({cpu['num']} cells, {cpu['repeats']} timed repeats, 1 thread, batch 1; "
              f"load average {cpu['loadavg']} at start, {cpu['loadavg_end']} at end): share of cells whose "
              "pass 2 (same process) / pass 3 (fresh process) is within ±10% of pass 1; in brackets, once the "
              "pass's common factor (its median ratio to pass 1) is divided out")
        print("| setting | " + " | ".join(f"{s.removesuffix('_ms')}: same / fresh process" for s in STATISTICS)
              + " | wall / cpu | load (1 min) per pass |")
        print("| --- | " + " | ".join("---" for _ in STATISTICS) + " | --- | --- |")
        for name, row in cpu["settings"].items():
            cells = []
            for statistic in STATISTICS:
                text = []
                for label in ("same_process", "other_process"):
                    raw, relative = (row[f"{statistic}.{label}.{k}"] for k in ("within_10", "relative_within_10"))
                    text.append(f"{raw:.2f} ({relative:.2f})")
                    stem = f"cpu.run{run}.{name}.{statistic.removesuffix('_ms')}.{label}"
                    figures[f"{stem}.within_10"], figures[f"{stem}.relative_within_10"] = raw, relative
                cells.append(" / ".join(text))
            contention = np.median([np.median(np.array(p["wall.median_ms"]) / np.array(p["cpu.median_ms"]))
                                    for p in row["passes"]])
            loads = ", ".join(f"{p['loadavg_1min']:.1f}" for p in row["passes"])
            print(f"| {name} | " + " | ".join(cells) + f" | {contention:.2f} | {loads} |")
    tables = parts.get("tables")
    if tables:
        print(f"\nPublished tables ({tables['cells']} cells; {tables['no_path_cells']} without an input-output "
              f"path; {tables['canonical_classes']} canonical classes; {tables['twin_cells']} cells in "
              f"{tables['twin_groups']} groups identical once dead edges are dropped)")
        print("| device | p1 / median ms | no-path cells: median ms | additive fit within ±10%: all ops / live ops "
              "| canonical-class ceiling | twins within ±10% of their median (ceiling) | lag-1 autocorr. "
              "| additive x drift | "
              "arch-only ceiling (additive) | GBT, 12,000 train |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for device, d in tables["devices"].items():
            q = d["latency_ms_quantiles"]
            print(f"| {device} | {q['0.01']:.2f} / {q['0.5']:.2f} | {d['no_path_median_ms']:.3f} | "
                  f"{d['additive_all_ops.within_10']:.3f} / {d['additive_live_ops.within_10']:.3f} | "
                  f"{d['canonical_class_ceiling']:.3f} | {d['twins.within_10_of_twins_median']:.3f} "
                  f"({d['twins.ceiling']:.3f}) | "
                  f"{d['drift.lag1_autocorrelation']:.3f} | {d['drift.additive_times_drift.within_10']:.3f} | "
                  f"{d['drift.arch_only_ceiling']:.3f} | {d['gbt_12000.within_10']:.3f} |")
            for key in ("canonical_class_ceiling", "additive_all_ops.within_10", "additive_live_ops.within_10",
                        "drift.lag1_autocorrelation", "drift.additive_times_drift.within_10",
                        "drift.arch_only_ceiling", "gbt_12000.within_10", "gbt_12000.median_abs_rel_error",
                        "twins.within_10_of_twins_median", "twins.ceiling"):
                figures[f"tables.{device}.{key}"] = d[key]
            figures[f"tables.{device}.arch_only_ceiling"] = max(d["drift.arch_only_ceiling"], d["gbt_12000.within_10"])
    gcn = parts.get("gcn")
    if gcn and gcn["rows"]:
        print("\nGCN latency predictor, K = 100 train, rest test (mean over seeds)")
        print("| device | seeds | within ±10% before | after | median abs rel. error before | after | "
              "within ±10% by latency quintile, before | after |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for device in DEVICES:
            rows = {v: [r for r in gcn["rows"] if r["device"] == device and r["variant"] == v] for v in GCN_VARIANTS}
            if not all(rows.values()):
                continue
            line = [device, str(len(rows["before"]))]
            for key in ("within_10", "median_abs_rel_error"):
                for variant in GCN_VARIANTS:
                    value = float(np.mean([r[key] for r in rows[variant]]))
                    figures[f"gcn.{device}.{variant}.{key}"] = value
                    line.append(f"{value:.3f}")
            for variant in GCN_VARIANTS:
                quintiles = np.mean([r["within_10_by_quintile"] for r in rows[variant]], 0)
                line.append(" ".join(f"{v:.2f}" for v in quintiles))
            print("| " + " | ".join(line) + " |")
    for run, demo in enumerate(parts.get("demo_runs", []), 1):
        print(f"\nDemo run {run}, {demo['started']}: the demo's latency stage repeated ({demo['cells']} cells, "
              f"80 train / 20 held out; load average {demo['loadavg']} at start; interleaved rounds in "
              f"{demo['interleaved_rounds']}): held-out share within ±10%, and each repeat's agreement with the first")
        print("| setting | held-out within ±10%, per repeat | same, GCN on log latency with L1 loss | "
              "cells within ±10% of repeat 1 (common factor divided out) |")
        print("| --- | --- | --- | --- |")
        for name in DEMO_SETTINGS:
            rows = [r for r in demo["rows"] if r["setting"] == name]
            first = np.array(rows[0]["latency_ms"])
            agree = []
            for r in rows[1:]:
                ratio = np.array(r["latency_ms"]) / first
                agree.append(f"{np.mean(np.abs(ratio - 1) <= TOLERANCE):.2f} "
                             f"({np.mean(np.abs(ratio / np.median(ratio) - 1) <= TOLERANCE):.2f})")
            shares = [r["heldout_within_10"] for r in rows]
            l1 = ", ".join(f"{r['heldout_within_10_log_l1']:.2f}" if "heldout_within_10_log_l1" in r else "-"
                           for r in rows)
            figures[f"demo.run{run}.{name}.heldout_within_10.min"] = min(shares)
            figures[f"demo.run{run}.{name}.heldout_within_10.max"] = max(shares)
            print(f"| {name}: measure_many {rows[0]['measure_many']} | " + ", ".join(f"{v:.2f}" for v in shares)
                  + f" | {l1} | " + ", ".join(agree) + " |")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("cpu", "tables", "gcn", "demo"), help="the part to measure (default: none)")
    parser.add_argument("--report", action="store_true", help="only print the figures and write the results file")
    parser.add_argument("--num", type=int, default=50, help="cpu: cells timed")
    parser.add_argument("--repeats", type=int, default=15, help="cpu: timed passes per cell and pass")
    parser.add_argument("--seed", type=int, default=0, help="cpu: seed of the cell sample")
    parser.add_argument("--gbt-train", type=int, default=12000, help="tables: training cells of the GBT ceiling")
    parser.add_argument("--devices", default=",".join(DEVICES), help="gcn: device columns")
    parser.add_argument("--seeds", type=int, default=2, help="gcn: splits (seed s: default_rng(3000 + s))")
    parser.add_argument("--size", type=int, default=100, help="gcn: training cells K")
    parser.add_argument("--demo-cells", type=int, default=100, help="demo: cells measured (the demo's 100)")
    parser.add_argument("--demo-repeats", type=int, default=3, help="demo: repetitions of each setting")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(cpu_worker(json.loads(args.worker))))
        return
    bench = BenchmarkRun("latency_explained", {k: v for k, v in vars(args).items() if k != "worker"})
    parts = load_parts()
    if args.part == "cpu":
        parts.pop("cpu", None)
        parts.setdefault("cpu_runs", []).append(run_cpu(args))  # every run kept: the load differs between runs
    elif args.part == "tables":
        parts["tables"] = run_tables(args)
    elif args.part == "gcn":
        parts["gcn"] = run_gcn(args, parts)
    elif args.part == "demo":
        parts.setdefault("demo_runs", []).append(run_demo(args))  # every run kept, as for cpu
    save_parts(parts)
    figures = figures_and_report(parts)
    bench.write(figures, details={"parts": without_per_cell_values(parts), "per_cell_values": str(PARTS_FILE), "gcn_variants": {k: [v[0], v[1]] for k, v in GCN_VARIANTS.items()},
                                  "cpu_settings": {k: list(v) for k, v in CPU_SETTINGS.items()}})


if __name__ == "__main__":
    main()
