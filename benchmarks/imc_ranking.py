"""One-shot ranking on the IMC macro space, judged by the networks of ``imc_truth.py``.

Trains the macro space's elastic supernet (``supernet_class("imc")``: every stage holds four
blocks of each block type at full width and 7x7 kernels; a sub-network takes the first
blocks, channels and the centre of each kernel) with uniform single-path sampling on the
same images and at the same shape as the truth set (``--truth``: the CSV of
``imc_truth.py``), then:

- scores every truth network with inherited weights (BatchNorm recalibrated) on the valid
  half: the raw supernet ranking;
- scores ``--pool`` other networks drawn uniformly, and fits the GCN predictor
  (``space="imc"``) to those scores only, then ranks the truth networks with it (the GCN
  never sees a truth network nor its score);
- beside them, on the same networks: the parameter count, the FLOPs and NASWOT
  (``gcnas.predictors.naswot`` on the space's network, one batch of 64 train images).

Each is judged by Kendall tau (and Spearman) against the truth networks' test accuracy.
Truth is read only to report. The supernet checkpoint and the scores (a run store over the
``imc`` space) are cached under ``--work`` in folders named by their settings and the code.

    python benchmarks/imc_ranking.py                 # after imc_truth.py: about 40 min on one core
    python benchmarks/imc_ranking.py --truth benchmarks/results/imc_truth-toy.csv --epochs 1 \\
        --pool 20 --label toy                         # a toy run
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402
from _results import RESULTS_DIR, BenchmarkRun, cache_key  # noqa: E402
from imc_truth import read_truth, sample_networks  # noqa: E402
from supernet_ranking import row_metrics, subset_data  # noqa: E402

from gcnas.data import RunStore, load_images  # noqa: E402
from gcnas.predictors import GCNPredictor  # noqa: E402
from gcnas.predictors.zero_cost import naswot  # noqa: E402
from gcnas.spaces import get_space  # noqa: E402
from gcnas.supernet import sample_subnets, train_supernet  # noqa: E402
from gcnas.supernet.checkpoint import checkpoint_path  # noqa: E402
from gcnas.supernet.train import load_run_supernet, supernet_class  # noqa: E402

TRAIN_KEYS = ("channels", "cells", "epochs", "batch_size", "lr", "weight_decay", "sampling", "train_images",
              "image_size", "seed", "data_root")
SCORE_KEYS = ("truth", "pool", "pool_seed", "bn_recalibrate", "score_images", "score_batch")
TRAIN_CODE = ("supernet", "data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", default=str(RESULTS_DIR / "imc_truth.csv"), help="CSV of imc_truth.py")
    parser.add_argument("--data-root", default=None, help="image folder (default: shared images/cifar10-jpg)")
    parser.add_argument("--channels", type=int, default=8, help="as the truth set")
    parser.add_argument("--cells", type=int, default=4, help="blocks per stage the supernet holds (4: the space)")
    parser.add_argument("--image-size", type=int, default=16, help="as the truth set")
    parser.add_argument("--train-images", type=int, default=None, help="first N train-half images (default all)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--sampling", default="code", help="the uniform strategy's sampling")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=int, default=200, help="networks scored to fit the GCN (not the truth ones)")
    parser.add_argument("--pool-seed", type=int, default=12345)
    parser.add_argument("--bn-recalibrate", type=int, default=2, help="batches of --score-batch for BN statistics")
    parser.add_argument("--score-images", type=int, default=512, help="valid images each network is scored on")
    parser.add_argument("--score-batch", type=int, default=128)
    parser.add_argument("--gcn-seeds", type=int, default=3, help="GCN fits (seeds 0..N-1), figures averaged")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", default="runs/bench/imc_ranking")
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--stop-after", choices=["train"], default=None, help="only train the supernet")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.data_root = args.data_root or str(shared("images/cifar10-jpg"))
    bench = BenchmarkRun("imc_ranking", args)
    space = get_space("imc")

    data = subset_data(load_images("imagefolder", root=args.data_root, image_size=args.image_size),
                       args.train_images)
    train_dir = Path(args.work) / f"train-{cache_key(args, TRAIN_KEYS, TRAIN_CODE)}"
    score_dir = train_dir / f"score-{cache_key(args, SCORE_KEYS, TRAIN_CODE)}"
    print(f"{data}; run {score_dir}", flush=True)

    # -- 1. the elastic supernet (resumable) ------------------------------------------------
    done = len(load_run_supernet(train_dir).history) if checkpoint_path(train_dir).exists() else 0
    if done < args.epochs:
        train_supernet(train_dir, dataset="imagefolder", data=data, strategy="uniform",
                       strategy_kwargs={"sampling": args.sampling}, supernet=supernet_class("imc"),
                       channels=args.channels, cells=args.cells, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, weight_decay=args.weight_decay, seed=args.seed, device="cpu",
                       resume=done > 0)
    trained = load_run_supernet(train_dir, device="cpu")
    history = trained.history
    if args.stop_after == "train":
        return
    truth_archs, truth = read_truth(args.truth)
    test_acc = truth["test_accuracy"]

    # -- 2. scores: the truth networks (judged) and a pool of others (the GCN's training set) --
    truth_keys = {space.key(a) for a in truth_archs}
    pool = [a for a in sample_networks(args.pool + len(truth_archs), args.pool_seed)
            if space.key(a) not in truth_keys][:args.pool]
    tick = time.perf_counter()
    with RunStore(score_dir, space="imc") as store:
        scored = sample_subnets(store, trained, data, num=len(truth_archs) + len(pool), archs=truth_archs + pool,
                                bn_recalibrate=args.bn_recalibrate, batch_size=args.score_batch,
                                limit=max(1, args.score_images // args.score_batch))
    score_seconds = time.perf_counter() - tick
    scores = np.array([s.accuracy for s in scored])
    truth_scores, pool_scores = scores[:len(truth_archs)], scores[len(truth_archs):]

    # -- 3. the GCN fitted to the pool's scores; the free baselines ---------------------------
    gcn = np.mean([GCNPredictor(space="imc", seed=seed).fit(pool, pool_scores).predict(truth_archs)
                   for seed in range(args.gcn_seeds)], axis=0)
    images = next(iter(data.train.batches(64, shuffle=True, seed=args.seed)))[0]
    naswot_scores = np.array([naswot(a, images, channels=args.channels, cells=None, num_classes=data.num_classes,
                                     space=space) for a in truth_archs])

    # -- 4. judged by truth (read only here) ------------------------------------------------
    rankings = {"supernet": truth_scores, f"GCN on {len(pool)} pool scores": gcn,
                "params": truth["params_m"], "flops": truth["flops_m"], "naswot": naswot_scores}
    rows = {name: row_metrics(test_acc, values) for name, values in rankings.items()}
    figures: dict[str, float] = {"num_truth": len(truth_archs), "pool": len(pool), "supernet_epochs": len(history),
                                 "final_train_accuracy": history[-1]["accuracy"],
                                 "train_seconds_total": sum(r["seconds"] for r in history),
                                 "score_seconds_this_call": score_seconds}
    for name, metrics in rows.items():
        figures.update({f"{name}.{metric}": value for metric, value in metrics.items()})
    bench.write(figures, {"rows": rows, "cache": {"train": train_dir.name, "score": score_dir.name},
                          "truth_file": Path(args.truth).name})
    print(f"\n{len(truth_archs)} truth networks; supernet C={args.channels} {len(history)} epochs "
          f"(train acc {history[-1]['accuracy']:.1f}%)")
    print(f"{'ranking':<28} {'tau':>6} {'rho':>6}")
    for name, r in rows.items():
        print(f"{name:<28} {r['kendall_tau']:6.3f} {r['spearman']:6.3f}")


if __name__ == "__main__":
    main()
