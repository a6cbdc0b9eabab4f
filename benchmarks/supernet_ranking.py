"""One-shot ranking on real CIFAR-10 images, judged by NAS-Bench-201's truth.

Trains a uniform single-path supernet on the image folder ``cifar10-jpg`` (the train/ half
that NAS-Bench-201 calls train; the other half is valid), scores ``--num-cells`` distinct
canonical cells with inherited weights (BatchNorm recalibrated) on the valid half, and
ranks them against NAS-Bench-201's CIFAR-10 ``test_acc`` (200 epochs, trained from scratch
on the same images). Beside the raw supernet scores it reports, over the same cells:

- the GCN predictor fitted to K of the supernet scores, ranking the other cells (K = 100,
  200, 500; each K over ``--splits`` random splits, every row of a split on the same cells);
- the parameter count alone and two zero-cost proxies at initialisation (synflow, NASWOT);
- Kendall tau, Spearman and precision@5% over those cells, and Kendall tau / precision
  over the true top 10% of them (where a search works).

Truth is read only to report: nothing is fitted, selected or stopped on it.

Every stage resumes: the supernet checkpoint, the scores (run store), the proxies and the
results live under ``--work`` in a folder named by a hash of the settings that make them.

    python benchmarks/supernet_ranking.py                       # the default recipe, 2 CPU cores
    python benchmarks/supernet_ranking.py --sampling code --epochs 30 --num-cells 500 --label code-30ep
    python benchmarks/supernet_ranking.py --device cuda --channels 16 --cells 5   # NAS-Bench-201 scale
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
from _results import RESULTS_DIR, BenchmarkRun, cache_key, load_results  # noqa: E402

from gcnas.data import BenchmarkTable, RunStore, load_images  # noqa: E402
from gcnas.spaces.nb201.counts import network_costs_many  # noqa: E402
from gcnas.predictors import GCNPredictor, ranking_report  # noqa: E402
from gcnas.predictors.zero_cost import zero_cost_scores  # noqa: E402
from gcnas.spaces.nb201 import NB201Space  # noqa: E402
from gcnas.supernet import load_supernet, sample_subnets, train_supernet  # noqa: E402
from gcnas.supernet.checkpoint import checkpoint_path  # noqa: E402

TRAIN_KEYS = ("channels", "cells", "epochs", "batch_size", "lr", "weight_decay", "sampling", "exclude_ops",
              "train_images", "seed", "image_size", "data_root")
SCORE_KEYS = ("num_cells", "cell_seed", "bn_recalibrate", "score_images", "score_batch")
PROXY_KEYS = ("image_size", "data_root")
# the gcnas code that makes each cache (and the top-level modules, always): a change there starts afresh
TRAIN_CODE = ("supernet", "data")
PROXY_CODE = ("predictors", "supernet", "data")


def ranking_figures(rows: dict[str, dict[str, float]], supernet: dict, num_cells: int) -> dict[str, float | int]:
    """The flat figures of a run: ``<ranking>.<metric>`` for every row, and the supernet's own."""
    figures: dict[str, float | int] = {"num_cells": num_cells, "supernet_epochs": supernet["epochs"],
                                       "final_train_accuracy": supernet["final_train_accuracy"],
                                       "train_seconds_total": supernet["train_seconds_total"]}
    for name, metrics in rows.items():
        figures.update({f"{name}.{metric}": value for metric, value in metrics.items()})
    return figures


def subset_data(data, train_images: int | None):
    if train_images is None or train_images >= len(data.train):
        return data
    from gcnas.data.images import ImageSplit
    s = data.train
    data.train = ImageSplit(s.x[:train_images], s.y[:train_images], s.mean, s.std, s.augment)
    return data


def row_metrics(truth: np.ndarray, score: np.ndarray) -> dict[str, float]:
    report = ranking_report(truth, score)
    return {"kendall_tau": report["kendall_tau"], "spearman": report["spearman"],
            "precision_at_5": report["precision_at_5"], "top10_kendall_tau": report["top10_kendall_tau"],
            "precision_at_10": report["precision_at_10"]}


def summary_table(out_dir: Path) -> str:
    """Markdown: one row per results file (the ablations and the headline run), key figures."""
    lines = ["| run | supernet | train acc | raw tau (top10%) | -loss tau | GCN@200 tau | params tau | synflow | "
             "naswot |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for path in sorted(out_dir.glob("supernet_ranking-*.json")):
        record = load_results(path)
        r, st = record["details"], record["settings"]
        rows = r["rows"]

        def tau(name: str) -> str:
            row = rows.get(name)
            return "-" if row is None else f"{row['kendall_tau']:.3f}"

        gcn = rows.get("K=200: GCN on 200 scores")
        gcn_text = "-" if gcn is None else f"{gcn['kendall_tau']:.3f} (raw {tau('K=200: supernet')})"
        shape = (f"C={st['channels']} N={st['cells']}, {r['supernet']['epochs']} ep, {st['sampling']}"
                 + (f", no {'/'.join(st['exclude_ops'])}" if st["exclude_ops"] else "")
                 + f", bn {st['bn_recalibrate']}x{st['score_batch']}, {r['num_cells']} cells")
        raw = rows["supernet (all cells)"]
        lines.append(f"| {record['label']} | {shape} | {r['supernet']['final_train_accuracy']:.1f}% | "
                     f"{raw['kendall_tau']:.3f} ({raw['top10_kendall_tau']:.3f}) | {tau('supernet -loss (all cells)')} | "
                     f"{gcn_text} | {tau('params (all cells)')} | {tau('synflow (all cells)')} | "
                     f"{tau('naswot (all cells)')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="image folder (default: shared cifar10-jpg)")
    parser.add_argument("--table", default=None, help="truth table (default: shared nb201_cifar10_200ep.csv)")
    parser.add_argument("--truth-column", default="test_acc")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--sampling", default="canonical", choices=["code", "canonical", "fair"])
    parser.add_argument("--exclude-ops", default="", help="comma-separated ops never trained, e.g. none")
    parser.add_argument("--train-images", type=int, default=None, help="use only the first N train-half images")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-cells", type=int, default=1000)
    parser.add_argument("--cell-seed", type=int, default=0)
    parser.add_argument("--bn-recalibrate", type=int, default=4, help="batches of --score-batch for BN statistics")
    parser.add_argument("--score-images", type=int, default=2048, help="valid images each cell is scored on")
    parser.add_argument("--score-batch", type=int, default=256)
    parser.add_argument("--ks", default="100,200,500")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--gcn-on-loss", type=int, default=1, choices=[0, 1],
                        help="also fit the GCN to the negative supernet loss (a smoother score)")
    parser.add_argument("--proxies", default="synflow,naswot", help="zero-cost proxies ('' for none)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--work", default="runs/bench/supernet_ranking")
    parser.add_argument("--label", default=None, help="name of the results file (default: the cache keys)")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR), help="folder of the results file")
    parser.add_argument("--stop-after", choices=["proxies", "train", "score"], default=None)
    parser.add_argument("--summary", action="store_true", help="print the table of every results file and stop")
    args = parser.parse_args()
    if args.summary:
        print(summary_table(Path(args.out_dir)))
        return
    args.exclude_ops = sorted(o for o in args.exclude_ops.split(",") if o)
    if args.threads:
        torch.set_num_threads(args.threads)
    train_key = cache_key(args, TRAIN_KEYS, TRAIN_CODE)
    score_key = cache_key(args, SCORE_KEYS, TRAIN_CODE)
    label = args.label or f"train-{train_key}-score-{score_key}"
    bench = BenchmarkRun("supernet_ranking", args, label=label,
                       out=Path(args.out_dir) / f"supernet_ranking-{label}.json")

    root = args.data_root or str(shared("images/cifar10-jpg"))
    table = BenchmarkTable(args.table or shared("nb201/nb201_cifar10_200ep.csv"))
    data = load_images("imagefolder", root=root, image_size=args.image_size)
    proxy_split = data.train  # the proxies' batch comes from the whole train half, whatever --train-images
    data = subset_data(data, args.train_images)
    train_dir = Path(args.work) / f"train-{train_key}"
    score_dir = train_dir / f"score-{score_key}"
    print(f"data {data}; run {score_dir}", flush=True)

    # The first N of one fixed draw of 1,000 (or more): smaller runs score a subset of larger ones.
    archs = NB201Space().sample_many(max(args.num_cells, 1000), args.cell_seed, distinct=True,
                                     canonical=True)[:args.num_cells]
    baselines = {"params": network_costs_many(archs)["params_m"]}
    proxies = [p for p in args.proxies.split(",") if p]
    if proxies:
        proxy_file = Path(args.work) / f"proxies-{cache_key(args, PROXY_KEYS, PROXY_CODE)}.json"
        cached = json.loads(proxy_file.read_text()) if proxy_file.exists() else {}
        for proxy in proxies:
            known = cached.setdefault(proxy, {})
            todo = [a for a in archs if str(a.code) not in known]
            if todo:
                images, _ = next(proxy_split.batches(128, shuffle=True, seed=0, augment=False))
                for start in range(0, len(todo), 50):  # saved every 50 cells: an interrupted run resumes
                    chunk = todo[start:start + 50]
                    scores = zero_cost_scores(chunk, images, proxies=[proxy], num_classes=data.num_classes,
                                              progress=False, device=args.device)[proxy]
                    known.update({str(a.code): float(v) for a, v in zip(chunk, scores)})
                    proxy_file.parent.mkdir(parents=True, exist_ok=True)
                    proxy_file.write_text(json.dumps(cached))
                    print(f"{proxy}: {len(known)} cells", flush=True)
            values = np.array([known[str(a.code)] for a in archs])
            # NASWOT's kernel is singular (log det = -inf) when two images share every activation
            # code, as in a cell without a live path: such cells rank last
            finite = np.isfinite(values)
            baselines[proxy] = np.where(finite, values, values[finite].min() - 1.0)
    if args.stop_after == "proxies":
        return

    # -- 1. the supernet ------------------------------------------------------------------
    kwargs = {"sampling": args.sampling, "exclude_ops": args.exclude_ops}
    epochs_done = 0
    if checkpoint_path(train_dir).exists():
        epochs_done = len(load_supernet(train_dir).history)
    tick = time.perf_counter()
    if epochs_done < args.epochs:
        train_supernet(train_dir, dataset="imagefolder", data=data, strategy="uniform", strategy_kwargs=kwargs,
                       channels=args.channels, cells=args.cells, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, weight_decay=args.weight_decay, seed=args.seed, device=args.device,
                       resume=epochs_done > 0)
    train_seconds = time.perf_counter() - tick
    trained = load_supernet(train_dir, device=args.device)
    history = trained.history
    print(f"supernet: {len(history)} epochs, final train accuracy {history[-1]['accuracy']:.1f}%, "
          f"{sum(r['seconds'] for r in history):.0f} s of training", flush=True)
    if args.stop_after == "train":
        return

    # -- 2. inherited-weight scores --------------------------------------------------------
    tick = time.perf_counter()
    with RunStore(score_dir) as store:
        samples = sample_subnets(store, trained, data, num=args.num_cells, archs=archs,
                                 bn_recalibrate=args.bn_recalibrate, batch_size=args.score_batch,
                                 limit=max(1, args.score_images // args.score_batch))
    score_seconds = time.perf_counter() - tick
    supernet_acc = np.array([s.accuracy for s in samples])
    supernet_loss = np.array([s.loss for s in samples])
    if args.stop_after == "score":
        return

    # -- 3. judged by truth (read only here) ------------------------------------------------
    truth = table.values(archs, args.truth_column)
    rows: dict[str, dict] = {"supernet (all cells)": row_metrics(truth, supernet_acc),
                             "supernet -loss (all cells)": row_metrics(truth, -supernet_loss)}
    for name, values in baselines.items():
        rows[f"{name} (all cells)"] = row_metrics(truth, values)
    for k in [int(k) for k in args.ks.split(",") if k]:
        if k >= len(archs) - 10:
            continue
        per_split: dict[str, list[dict]] = {}
        for split in range(args.splits):
            order = np.random.default_rng(10_000 + split).permutation(len(archs))
            fit, rest = order[:k], order[k:]
            candidates = {}
            for target, values in (("scores", supernet_acc), ("-loss", -supernet_loss))[:1 + args.gcn_on_loss]:
                model = GCNPredictor(seed=split).fit([archs[i] for i in fit], values[fit])
                candidates[f"GCN on {k} {target}"] = model.predict([archs[i] for i in rest])
            candidates.update({"supernet": supernet_acc[rest], "supernet -loss": -supernet_loss[rest],
                               **{name: values[rest] for name, values in baselines.items()}})
            for name, values in candidates.items():
                per_split.setdefault(name, []).append(row_metrics(truth[rest], values))
        for name, reports in per_split.items():
            rows[f"K={k}: {name}"] = {m: float(np.mean([r[m] for r in reports])) for m in reports[0]}
            rows[f"K={k}: {name}"]["kendall_tau_std"] = float(np.std([r["kendall_tau"] for r in reports]))

    supernet = {"epochs": len(history), "final_train_accuracy": history[-1]["accuracy"],
                "train_seconds_total": sum(r["seconds"] for r in history),
                "train_seconds_this_call": train_seconds, "score_seconds_this_call": score_seconds,
                "score_range": [float(supernet_acc.min()), float(supernet_acc.max())]}
    details = {"rows": rows, "supernet": supernet, "num_cells": len(archs),
               "cache": {"train": train_dir.name, "score": score_dir.name}}
    bench.write(ranking_figures(rows, supernet, len(archs)), details)
    print(f"\n{len(archs)} cells, supernet {args.channels}x{args.cells} {len(history)} epochs "
          f"(train acc {history[-1]['accuracy']:.1f}%), sampling={args.sampling}, exclude={args.exclude_ops}")
    print(f"{'ranking':<34} {'tau':>6} {'rho':>6} {'P@5%':>6} {'tau top10%':>10} {'P@10%':>6}")
    for name, r in rows.items():
        print(f"{name:<34} {r['kendall_tau']:6.3f} {r['spearman']:6.3f} {r['precision_at_5']:6.2f} "
              f"{r['top10_kendall_tau']:10.3f} {r['precision_at_10']:6.2f}")


if __name__ == "__main__":
    main()
