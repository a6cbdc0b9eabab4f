"""Bounds at a stated confidence: are the top-10 picks under a latency bound really under it?

For each device column of ``nb201_latency_ms.csv`` and each seed: 300 random cells are the
"measured" ones; a :class:`~gcnas.predictors.ConformalPredictor` (5 fold GCNs on log latency,
``LATENCY_GCN``) is fitted to them and saved as a named latency predictor of a run, whose
lookup table is filled the way ``gcnas lut build --latency predictor:NAME`` fills it
(measured values where measured, predictions elsewhere, the calibration in its description).
The accuracy column is the table's ``valid_acc`` (the benchmark isolates the bound; the truth
judged is ``test_acc``). The bound is the device's 10th percentile. The oracle (the top-10 by
``valid_acc`` among the cells that truly meet the bound) shows how much of the accuracy gap is
``valid_acc`` vs ``test_acc`` rather than the bound. Top-10 picks
(``LookupTable.query``, every cell, not one per isomorphism class) are judged against the
true latency:

- today: the point estimate (``confidence=0``);
- at ``--confidence`` (0.9), each predicted pick's own upper end (``selection="each"``);
- at ``--confidence``, the default ``selection="fdr"`` (the expected share of predicted picks
  over the bound at most 1 - confidence), before any further measurement;
- after each round of ``measure_next`` (10 cells measured, predictor refitted, table rebuilt).

Figures per device (mean over seeds): picks truly within the bound (of 10), picks that are
measured, the gap in true ``test_acc`` between the best cell that truly meets the bound and the
best truly-within pick (``gap_best``) and the first truly-within pick (``gap_first``), and the
empirical coverage of the upper ends over the unmeasured cells. Rows are cached under
``runs/bench/latency_bounds/`` and reused on rerun.

    python benchmarks/latency_bounds.py --seeds 2 --rounds 2
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from _predictors_common import RowCache, shared, summary_figures
from _results import BenchmarkRun, add_output_arguments
from gcnas.data import BenchmarkTable, RunStore
from gcnas.predictors import LATENCY_GCN, ConformalPredictor, LookupTable, predictor_path, predictor_stage
from gcnas.predictors.lut import _predicted_latency
from gcnas.spaces.nb201 import NB201Space

DEVICES = "gold_6240,1080ti_1,pixel3,fpga,eyeriss"


def _build(store: RunStore, archs, latency_true, known: list[int], valid, seed: int) -> ConformalPredictor:
    """Fit the latency predictor to the known cells, save it as the run's predictor 'dev', fill the table."""
    model = ConformalPredictor(model_params=LATENCY_GCN, seed=seed).fit([archs[c] for c in known], latency_true[known])
    model.save(predictor_path(store.run_dir, "dev"))
    store.finish_stage(predictor_stage("dev"), {"target": "latency", "train_codes": list(known),
                                                "train_values": [float(latency_true[c]) for c in known]})
    latency, measured, calibration, folds = _predicted_latency(store, archs, "dev")
    columns = {"accuracy": valid, "latency_ms": latency, "latency_measured": measured,
               **{f"latency_ms_fold{k}": values for k, values in enumerate(folds)}}
    store.write_lut(archs, columns, meta={"calibration": {"latency_ms": calibration}, "latency": "predictor:dev"})
    return model


def _oracle(latency_true, valid, test, bound: float) -> dict:
    """The top-10 by ``valid_acc`` among the cells that truly meet the bound: what a perfect
    latency predictor would pick, so the part of the gap that is ``valid_acc`` vs ``test_acc``."""
    feasible = np.flatnonzero(latency_true <= bound)
    top = feasible[np.lexsort((feasible, -valid[feasible]))][:10]
    best = float(test[feasible].max())
    return {"gap_best": best - float(test[top].max()), "gap_first": best - float(test[top[0]])}


def _judge(rows, latency_true, test, bound: float) -> dict:
    codes = [r["position"] for r in rows]  # (rows in code order: position is the code)
    within = [c for c in codes if latency_true[c] <= bound]
    best = float(test[latency_true <= bound].max())
    return {"within": len(within), "picks": len(codes), "measured": int(sum(r["latency_measured"] for r in rows)),
            "gap_best": float(best - max(test[c] for c in within)) if within else None,
            "gap_first": float(best - test[within[0]]) if within else None,
            "rank1_within": bool(codes and latency_true[codes[0]] <= bound)}


class _Columns:
    def __init__(self, columns: dict) -> None:
        self.columns = columns

    def column(self, name: str) -> np.ndarray:
        return self.columns[name]


def _in_code_order(table: BenchmarkTable, names: list[str]) -> _Columns:
    """The named columns with row ``c`` holding the cell of code ``c`` (the tables are in index order)."""
    rows = np.empty(len(table.archs), dtype=np.int64)
    rows[[a.code for a in table.archs]] = np.arange(len(table.archs))
    return _Columns({n: np.asarray(table.column(n), dtype=np.float64)[rows] for n in names})


def run_one(device: str, seed: int, args, archs, table, valid, test) -> dict:
    latency_true = table.column(device)
    bound = float(np.quantile(latency_true, 0.1))
    known = sorted(np.random.default_rng(5000 + seed).choice(len(archs), args.num_train, replace=False).tolist())
    out: dict = {"bound_ms": bound}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(folder)
        model = _build(store, archs, latency_true, known, valid, seed)
        out["fit_seconds"] = time.perf_counter() - started
        lut = LookupTable(store)
        others = np.setdiff1d(np.arange(len(archs)), known)
        _, _, high = model.interval([archs[i] for i in others], args.confidence)
        out["coverage"] = float(np.mean(latency_true[others] <= high))
        out["point_coverage"] = float(np.mean(latency_true[others] <= model.predict([archs[i] for i in others])))
        for name, confidence, selection in (("point", 0.0, "fdr"), ("each", args.confidence, "each"),
                                            ("conf", args.confidence, "fdr")):
            rows = lut.query(max_latency_ms=bound, top=10, distinct=False, confidence=confidence, selection=selection)
            out.update({f"{name}.{k}": v for k, v in _judge(rows, latency_true, test, bound).items()})
        for round_ in range(1, args.rounds + 1):
            following = lut.measure_next(max_latency_ms=bound, num=args.per_round, top=10, distinct=False,
                                         confidence=args.confidence)
            known = sorted(set(known) | {r["position"] for r in following})
            _build(store, archs, latency_true, known, valid, seed)
            rows = lut.query(max_latency_ms=bound, top=10, distinct=False, confidence=args.confidence)
            out.update({f"round{round_}.{k}": v for k, v in _judge(rows, latency_true, test, bound).items()})
            out[f"round{round_}.listed"] = len(following)
    out["seconds"] = time.perf_counter() - started
    return out


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", default=DEVICES)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--num-train", type=int, default=300, help="measured cells per device (default 300)")
    parser.add_argument("--confidence", type=float, default=0.9)
    parser.add_argument("--rounds", type=int, default=2, help="measure-next rounds (default 2)")
    parser.add_argument("--per-round", type=int, default=10, help="cells measured per round (default 10)")
    parser.add_argument("--report", action="store_true", help="only print the table of the cached rows")
    add_output_arguments(parser, "latency_bounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("latency_bounds", args)
    archs = NB201Space().all_archs()  # code order, the lookup table's
    table = _in_code_order(BenchmarkTable(shared("nb201/nb201_latency_ms.csv")), DEVICES.split(","))
    accuracy = _in_code_order(BenchmarkTable(shared("nb201/nb201_cifar10_200ep.csv")), ["valid_acc", "test_acc"])
    valid, test = accuracy.column("valid_acc"), accuracy.column("test_acc")
    cache = RowCache(bench.cache_dir(keys=["num_train", "confidence", "rounds", "per_round"],
                                     packages=["predictors"]) / "rows.json", compute=not args.report)
    devices = args.devices.split(",")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for device in devices:
        for seed in seeds:
            cache.get({"device": device, "seed": seed}, lambda: run_one(device, seed, args, archs, table, valid, test))
    stages = ["point", "each", "conf", *(f"round{r}" for r in range(1, args.rounds + 1))]
    metrics = [f"{s}.{m}" for s in stages for m in ("within", "measured", "gap_best", "gap_first")]
    figures: dict = {}
    used = []
    print("\n| device | bound ms | coverage | oracle gap | " + " | ".join(f"{s} within / gap" for s in stages) + " |")
    print("| --- " * (4 + len(stages)) + "|")
    for device in devices:
        rows = [r for r in cache.rows if r["device"] == device and r["seed"] in seeds]
        if not rows:
            continue
        used += rows
        gaps = [m for m in metrics if m.endswith(("gap_best", "gap_first"))]
        figures.update(summary_figures(device, rows, ["bound_ms", "coverage", "point_coverage", "fit_seconds",
                                                      "seconds", *(m for m in metrics if m not in gaps)]))
        for m in gaps:  # over the seeds with a truly-within pick; how many had none
            values = [r[m] for r in rows if r.get(m) is not None]
            figures[f"{device}.{m}.mean"] = float(np.mean(values)) if values else None
            figures[f"{device}.{m}.max"] = float(np.max(values)) if values else None
            figures[f"{device}.{m}.none_within"] = len(rows) - len(values)
        figures.update({f"{device}.{s}.min_within": min(r[f"{s}.within"] for r in rows) for s in stages})
        figures.update({f"{device}.{s}.rank1_within": float(np.mean([r[f"{s}.rank1_within"] for r in rows]))
                        for s in stages})
        oracle = _oracle(table.column(device), valid, test, rows[0]["bound_ms"])
        figures.update({f"{device}.oracle.{k}": v for k, v in oracle.items()})
        print(f"| {device} | {np.mean([r['bound_ms'] for r in rows]):.2f} | "
              f"{np.mean([r['coverage'] for r in rows]):.3f} | {oracle['gap_best']:.2f} | " +
              " | ".join(f"{np.mean([r[f'{s}.within'] for r in rows]):.1f} / "
                         f"{_number(figures[f'{device}.{s}.gap_best.mean'])}" for s in stages) + " |")
    if not args.report:
        bench.write(figures, details={"seeds": seeds, "stages": stages, "rows": used})


if __name__ == "__main__":
    main()
