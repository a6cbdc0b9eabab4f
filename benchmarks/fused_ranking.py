"""The fused ranking on real CIFAR-10 images, judged by NAS-Bench-201's truth, beside its ingredients.

Over one fixed draw of ``--num-cells`` distinct canonical cells (the same 1,000 as
``supernet_ranking.py``), for each supernet training seed:

- the ingredients: parameter count, FLOPs, synflow, NASWOT, jacov (at initialisation, on the
  NAS-Bench-201 network, one batch of 64 train-half images), the raw supernet score
  (uniform single-path, fair sampling, C=8 N=1, 30 epochs, inherited weights with BatchNorm
  recalibrated, scored on valid-half images), and the GCN fitted to ``--gcn-k`` of those scores;
- the fused ranking (:class:`gcnas.predictors.FusedRanking`) without anchors (equal weights)
  and with ``L`` anchors: cells trained from scratch with a short schedule on the train half,
  labelled by their valid-half accuracy, chosen at evenly spread quantiles of the label-free
  zero-cost ranking (so the same anchors serve every supernet seed);
- Kendall tau against ``test_acc`` over all cells and within the true top 10%;
- the pick under the median and the 10th-percentile pixel3 latency (HW-NAS-Bench's measured
  latency, a cost, not a truth about accuracy): regret against the best cell under the bound
  for the fused pick, for "most parameters under the bound", for the raw supernet's pick, and
  for random search (the best *true* accuracy among ``L`` random cells under the bound: an
  upper bound on what random search that trains ``L`` cells would pick).

Truth is read only in the judging step; nothing is fitted, chosen or stopped on it.

The supernet scores come from ``supernet_ranking.py`` (one file per seed, see ``--supernet-scores``):

    python benchmarks/supernet_ranking.py --channels 8 --epochs 30 --sampling fair --num-cells 1000 \
        --score-images 1024 --proxies '' --stop-after score --seed S --work runs/bench/fused/sn-seedS
    python benchmarks/fused_ranking.py --dump-scores runs/bench/fused/sn-seedS --seed S
    python benchmarks/fused_ranking.py                       # features, anchors, the table
    python benchmarks/fused_ranking.py --summary             # the tables of the results file

On a GPU: ``supernet_ranking.py --device cuda --channels 16 --cells 5 ...`` for the scores, then
``fused_ranking.py --device cuda --anchor-channels 16 --anchor-cells 5 --label gpu``.

Every stage resumes (features in a run store, anchors as kept models).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import RESULTS_DIR, BenchmarkRun, load_results  # noqa: E402

from gcnas.data import BenchmarkTable, RunStore, load_images  # noqa: E402
from gcnas.predictors import GCNPredictor, ranking_report  # noqa: E402
from gcnas.predictors.features import ProxySettings, cell_features  # noqa: E402
from gcnas.predictors.fused import FusedRanking, anchor_cells, is_parameter_free  # noqa: E402
from gcnas.spaces.nb201 import NB201Space  # noqa: E402
from gcnas.supernet import train_model  # noqa: E402

PROXIES = ("params", "flops", "synflow", "naswot", "jacov")
FUSED_SIGNALS = ("supernet", "params", "synflow", "naswot", "jacov")


def dump_scores(work: Path, out: Path) -> None:
    """The supernet scores of the newest score folder under ``work`` -> ``out`` (JSON)."""
    from gcnas.supernet import load_supernet

    dirs = sorted(work.glob("train-*/score-*"), key=lambda p: p.stat().st_mtime)
    if not dirs:
        raise SystemExit(f"no supernet scores under {work}: run supernet_ranking.py --stop-after score first")
    with RunStore(dirs[-1]) as store:
        samples = store.samples()
    history = load_supernet(dirs[-1].parent).history
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"scores": {str(s.arch.code): [s.accuracy, s.loss] for s in samples},
                               "score_dir": str(dirs[-1]), "epochs": len(history),
                               "train_seconds": sum(r["seconds"] for r in history),
                               "final_train_accuracy": history[-1]["accuracy"]}))
    print(f"{out}: {len(samples)} scores", flush=True)


def metrics(truth: np.ndarray, score: np.ndarray) -> dict[str, float]:
    finite = np.isfinite(score)
    score = np.where(finite, score, score[finite].min() - 1.0)  # an undefined proxy (dead cell) ranks last
    report = ranking_report(truth, score)
    return {"kendall_tau": report["kendall_tau"], "top10_kendall_tau": report["top10_kendall_tau"],
            "spearman": report["spearman"], "precision_at_5": report["precision_at_5"]}


def pick_regret(score: np.ndarray, truth: np.ndarray, feasible: np.ndarray, guard: np.ndarray) -> dict[str, float]:
    """The true accuracy of the best-scored feasible, guarded cell, and its regret."""
    allowed = feasible & ~guard
    best_true = truth[feasible].max()
    pick = np.flatnonzero(allowed)[np.argmax(score[allowed])]
    return {"pick_true": float(truth[pick]), "regret": float(best_true - truth[pick]), "pick_position": int(pick)}


def summary_table(path: Path) -> str:
    """Markdown tables of a results file: rankings (mean over seeds, and spread), then regrets."""
    record = load_results(path)
    per_seed = record["details"]["per_seed"]
    seeds = sorted(per_seed, key=int)
    first = per_seed[seeds[0]]
    lines = [f"Supernet training seeds {', '.join(seeds)}; {record['figures']['num_cells']} cells; "
             f"Kendall tau vs NAS-Bench-201 test_acc (mean over seeds, spread max-min)", "",
             "| ranking | tau, all cells | spread | tau, true top 10% | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in seeds) + " |"]
    for name in first["rows"]:
        taus = [per_seed[s]["rows"][name]["kendall_tau"] for s in seeds]
        tops = [per_seed[s]["rows"][name]["top10_kendall_tau"] for s in seeds]
        lines.append(f"| {name} | {np.mean(taus):.3f} | {np.ptp(taus):.3f} | {np.mean(tops):.3f} | "
                     + " | ".join(f"{t:.3f}" for t in taus) + " |")
    lines += ["", "| pick under the pixel3 bound | regret, median bound (mean / max) | "
                  "regret, 10th-percentile bound (mean / max) |", "| --- | --- | --- |"]
    for key, entry in first["picks"]["median"].items():
        if not isinstance(entry, dict):
            continue
        cells = []
        for bound in ("median", "p10"):
            regrets = [per_seed[s]["picks"][bound][key]["regret"] for s in seeds]
            cells.append(f"{np.mean(regrets):.2f} / {np.max(regrets):.2f}")
        lines.append(f"| {key} | {cells[0]} | {cells[1]} |")
    bounds = record["details"]["bounds_ms"]
    lines += ["", f"Bounds: median {bounds['median']:.2f} ms, 10th percentile {bounds['p10']:.2f} ms (pixel3)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="image folder (default: shared cifar10-jpg)")
    parser.add_argument("--num-cells", type=int, default=1000)
    parser.add_argument("--cell-seed", type=int, default=0)
    parser.add_argument("--seeds", default="0,1,2", help="supernet training seeds")
    parser.add_argument("--supernet-scores", default="runs/bench/fused/supernet_scores_seed{seed}.json")
    parser.add_argument("--anchors", default="10,20,40", help="anchor counts L (nested)")
    parser.add_argument("--anchor-epochs", type=int, default=3)
    parser.add_argument("--anchor-steps", type=int, default=150, help="steps per anchor epoch (0: the whole split)")
    parser.add_argument("--anchor-work", default=None,
                        help="folder of the anchors' models (default WORK/anchors; another schedule needs another)")
    parser.add_argument("--anchor-channels", type=int, default=8)
    parser.add_argument("--anchor-cells", type=int, default=1)
    parser.add_argument("--lut-anchors", type=int, default=20, help="anchors of the lookup-table path rows")
    parser.add_argument("--device", default="cpu", help="where the proxies and anchors run (cuda on a GPU)")
    parser.add_argument("--gcn-k", type=int, default=200, help="supernet scores the GCN is fitted to")
    parser.add_argument("--random-draws", type=int, default=200)
    parser.add_argument("--work", default="runs/bench/fused")
    parser.add_argument("--label", default=None)
    parser.add_argument("--stop-after", choices=["features", "anchors"], default=None)
    parser.add_argument("--dump-scores", default=None, metavar="WORK", help="dump one seed's scores and stop")
    parser.add_argument("--seed", type=int, default=0, help="with --dump-scores: the seed")
    parser.add_argument("--summary", action="store_true", help="print the tables of the results file and stop")
    args = parser.parse_args()
    if args.summary:
        name = f"fused_ranking{'-' + args.label if args.label else ''}.json"
        print(summary_table(RESULTS_DIR / name))
        return
    work = Path(args.work)
    if args.dump_scores:
        dump_scores(Path(args.dump_scores), Path(args.supernet_scores.format(seed=args.seed)))
        return
    torch.set_num_threads(1)
    bench = BenchmarkRun("fused_ranking", args, label=args.label)

    root = args.data_root or str(shared("images/cifar10-jpg"))
    data = load_images("imagefolder", root=root, image_size=32)
    archs = NB201Space().sample_many(max(args.num_cells, 1000), args.cell_seed, distinct=True,
                                     canonical=True)[:args.num_cells]
    seconds: dict[str, float] = {}

    # -- 1. cheap features (cached in a run store) --------------------------------------------
    images, _ = next(data.train.batches(64, shuffle=True, seed=0, augment=False))
    feats: dict[str, np.ndarray] = {}
    with RunStore(work / "features") as store:
        for name in PROXIES:
            tick = time.perf_counter()
            feats.update(cell_features(archs, store=store, images=images, names=[name], settings=ProxySettings(),
                                       device=args.device))
            seconds[name] = time.perf_counter() - tick
    timing_file = work / "feature_seconds.json"
    recorded = json.loads(timing_file.read_text()) if timing_file.exists() else {}
    for name, value in seconds.items():  # the first (uncached) computation is the one that counts
        if value > recorded.get(name, 0.0):
            recorded[name] = value
    timing_file.write_text(json.dumps(recorded))
    seconds = dict(recorded)
    if args.stop_after == "features":
        return

    # -- 2. anchors: trained from scratch, the same for every supernet seed ---------------------
    guard = is_parameter_free(archs)
    label_free = FusedRanking().fit({n: feats[n] for n in ("params", "synflow", "naswot", "jacov")}).predict()
    counts = sorted(int(x) for x in args.anchors.split(",") if x)
    order = anchor_cells(label_free, max(counts), exclude=guard)
    anchor_acc: dict[int, float] = {}
    anchor_seconds = 0.0
    for position in order:
        model = train_model(Path(args.anchor_work) if args.anchor_work else work / "anchors", archs[position],
                            dataset="imagefolder", data=data, data_root=root,
                            epochs=args.anchor_epochs, steps_per_epoch=args.anchor_steps or None,
                            channels=args.anchor_channels, cells=args.anchor_cells, seed=0, device=args.device)
        anchor_acc[position] = model.result["valid_accuracy"]
        anchor_seconds += model.result["seconds"]
        print(f"anchor {len(anchor_acc)}/{len(order)}: {archs[position]} valid {anchor_acc[position]:.2f}%",
              flush=True)
    seconds["anchor_each"] = anchor_seconds / len(order)
    if args.stop_after == "anchors":
        return

    # -- 3. per supernet seed: rankings and picks, judged by truth (read only here) -------------
    table = BenchmarkTable(shared("nb201/nb201_cifar10_200ep.csv"))
    truth = table.values(archs, "test_acc")
    latency = BenchmarkTable(shared("nb201/nb201_latency_ms.csv")).values(archs, "pixel3")
    bounds = {"median": float(np.median(latency)), "p10": float(np.percentile(latency, 10))}
    rng_pick = np.random.default_rng(12345)
    per_seed: dict[str, dict] = {}
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        path = Path(args.supernet_scores.format(seed=seed))
        if not path.exists():
            print(f"seed {seed}: no supernet scores at {path}; skipped", flush=True)
            continue
        saved = json.loads(path.read_text())
        supernet = np.array([saved["scores"][str(a.code)][0] for a in archs])
        tick = time.perf_counter()
        fit_on = np.random.default_rng(seed).permutation(len(archs))[:args.gcn_k]
        gcn = GCNPredictor(seed=seed).fit([archs[i] for i in fit_on], supernet[fit_on]).predict(archs)
        gcn_seconds = time.perf_counter() - tick
        signals = {"supernet": supernet, **{n: feats[n] for n in ("params", "synflow", "naswot", "jacov")}}
        rankings = {name: feats[name] for name in PROXIES}
        rankings.update({"supernet": supernet, f"GCN on {args.gcn_k} supernet scores": gcn})
        rankings["rank average, no anchors"] = FusedRanking().fit(signals).predict()
        weights, fitted = {}, {}
        for count in counts:
            fused = fitted[count] = FusedRanking().fit(signals, {p: anchor_acc[p] for p in order[:count]})
            rankings[f"fused, L={count} anchors"] = fused.predict()
            weights[count] = {"weights": fused.weights(), "shrinkage": fused.shrinkage_,
                              "anchor_tau": fused.anchor_tau_}
        rows = {name: metrics(truth, score) for name, score in rankings.items()}
        # the lookup table's path: a GCN fitted to the fused values of half the cells ranks the other half
        lut_l = args.lut_anchors if args.lut_anchors in counts else max(counts)
        fused_values = fitted[lut_l].predict_accuracy()
        fused_values = np.where(guard, fused_values.min(), fused_values)
        half = np.random.default_rng(100 + seed).permutation(len(archs))
        fit_half, other = half[:len(archs) // 2], half[len(archs) // 2:]
        tick = time.perf_counter()
        lut_gcn = GCNPredictor(seed=seed).fit([archs[i] for i in fit_half], fused_values[fit_half])
        on_other = lut_gcn.predict([archs[i] for i in other])
        gcn_fused_seconds = time.perf_counter() - tick
        for name, score in ((f"GCN on fused (L={lut_l}) of the other half", on_other),
                            (f"fused (L={lut_l}), same half", fused_values[other]),
                            ("params, same half", feats["params"][other])):
            rows[name] = metrics(truth[other], score)
        picks = {}
        for bound_name, bound in bounds.items():
            feasible = latency <= bound
            none = np.zeros(len(archs), dtype=bool)
            picks[bound_name] = {
                "bound_ms": bound, "best_true": float(truth[feasible].max()),
                "params": pick_regret(feats["params"], truth, feasible, none),
                "supernet": pick_regret(supernet, truth, feasible, none),
                **{name: pick_regret(rankings[name], truth, feasible, guard)
                   for name in rankings if name.startswith(("fused", "rank average"))},
            }
            pool = np.flatnonzero(feasible)
            for count in counts:
                best = [truth[rng_pick.choice(pool, count, replace=False)].max() for _ in range(args.random_draws)]
                picks[bound_name][f"random, {count} cells (true best of them)"] = {
                    "pick_true": float(np.mean(best)), "regret": float(truth[feasible].max() - np.mean(best))}
        per_seed[str(seed)] = {"rows": rows, "picks": picks, "weights": weights, "gcn_seconds": gcn_seconds,
                               "gcn_on_fused_seconds": gcn_fused_seconds,
                               "supernet_train_seconds": saved.get("train_seconds"),
                               "supernet_final_train_accuracy": saved.get("final_train_accuracy")}
        print(f"\nseed {seed}: {'ranking':<36} {'tau':>6} {'tau top10%':>10}")
        for name, r in rows.items():
            print(f"         {name:<36} {r['kendall_tau']:6.3f} {r['top10_kendall_tau']:10.3f}")
        for bound_name, p in picks.items():
            print(f"  pick under {bound_name} pixel3 latency {p['bound_ms']:.2f} ms (best {p['best_true']:.2f}): " +
                  ", ".join(f"{k} {v['regret']:.2f}" for k, v in p.items() if isinstance(v, dict)))
    if not per_seed:
        raise SystemExit("no supernet scores for any seed: see the module docstring")

    figures: dict[str, float] = {"num_cells": len(archs), "seeds": len(per_seed)}
    names = list(next(iter(per_seed.values()))["rows"])
    for name in names:
        for metric in ("kendall_tau", "top10_kendall_tau"):
            values = [s["rows"][name][metric] for s in per_seed.values()]
            figures[f"{name}.{metric}.mean"] = float(np.mean(values))
            figures[f"{name}.{metric}.spread"] = float(np.ptp(values))
    for bound_name in bounds:
        for key in next(iter(per_seed.values()))["picks"][bound_name]:
            entry = next(iter(per_seed.values()))["picks"][bound_name][key]
            if isinstance(entry, dict):
                values = [s["picks"][bound_name][key]["regret"] for s in per_seed.values()]
                figures[f"pick {bound_name}.{key}.regret.mean"] = float(np.mean(values))
                figures[f"pick {bound_name}.{key}.regret.max"] = float(np.max(values))
    details = {"per_seed": per_seed, "seconds": seconds, "bounds_ms": bounds, "anchors": {
        "order": [str(archs[p]) for p in order], "valid_accuracy": [anchor_acc[p] for p in order],
        "epochs": args.anchor_epochs, "steps_per_epoch": args.anchor_steps, "channels": args.anchor_channels,
        "cells": args.anchor_cells}}
    bench.write(figures, details)
    print("\nwall seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
