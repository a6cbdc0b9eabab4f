"""GAEA vs DARTS: per-epoch entropy of the architecture weights on ``digits``.

GAEA's claim (Li et al., ICLR 2021): exponentiated-gradient updates make the op weights
sparse (max weight per edge close to 1, entropy towards 0) while DARTS' softmax weights
stay dense (entropy near log 5 = 1.609). Each method trains the same supernet from the same
seed; the table prints the mean per-edge entropy and mean max weight after every epoch.

    python benchmarks/supernet_entropy.py --epochs 10 --gaea-lr 3 --darts-lr 0.03

The papers' step sizes (GAEA 0.1, DARTS Adam 3e-4) are tuned for ~20,000 steps (50 CIFAR
epochs); digits gives ~22 steps an epoch, so the benchmark scales both up alike.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time

import torch

from _results import BenchmarkRun, add_output_arguments
from gcnas.data import load_images
from gcnas.supernet import train_supernet

RUNS = {
    "gaea": ("gaea", {}),
    "gaea-bilevel": ("gaea", {"bilevel": True}),
    "darts": ("darts", {}),
    "darts-1level": ("darts", {"bilevel": False}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="gaea,darts,darts-1level", help=f"any of {', '.join(RUNS)}")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--gaea-lr", type=float, help="GAEA arch_lr (default: the library default)")
    parser.add_argument("--darts-lr", type=float, help="DARTS arch_lr (default: the library default)")
    parser.add_argument("--seed", type=int, default=0)
    add_output_arguments(parser, "supernet_entropy")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("supernet_entropy", args)
    data = load_images("digits")
    results = {}
    for name in args.runs.split(","):
        strategy, kwargs = RUNS[name]
        lr = args.gaea_lr if strategy == "gaea" else args.darts_lr
        kwargs = {**kwargs, **({"arch_lr": lr} if lr is not None else {})}
        tick = time.perf_counter()
        with tempfile.TemporaryDirectory() as run:
            trained = train_supernet(run, dataset="digits", data=data, strategy=strategy, strategy_kwargs=kwargs,
                                     channels=args.channels, cells=args.cells, epochs=args.epochs,
                                     batch_size=args.batch_size, seed=args.seed, device="cpu", progress=False)
        results[name] = (trained, time.perf_counter() - tick, kwargs)
        print(f"{name}: {kwargs or 'defaults'}  {time.perf_counter() - tick:.0f}s  derived {trained.derive()}",
              flush=True)
    print(f"\nmean per-edge entropy (nats; uniform = log 5 = {math.log(5):.3f}) / mean max weight, digits, "
          f"C={args.channels} N={args.cells}, batch {args.batch_size}, seed {args.seed}")
    names = list(results)
    print("epoch  " + "  ".join(f"{n:>20}" for n in names))
    for e in range(args.epochs):
        cells = [f"{results[n][0].history[e]['entropy']:.3f} / {results[n][0].history[e]['max_weight']:.3f}"
                 for n in names]
        print(f"{e + 1:>5}  " + "  ".join(f"{c:>20}" for c in cells))
    print("final train accuracy  " + "  ".join(f"{results[n][0].history[-1]['accuracy']:>6.1f}%" for n in names))
    figures: dict = {"epochs": args.epochs, "uniform_entropy": math.log(5)}
    for n in names:
        trained, seconds, _ = results[n]
        last = trained.history[-1]
        figures.update({f"{n}.entropy": last["entropy"], f"{n}.max_weight": last["max_weight"],
                        f"{n}.train_accuracy": last["accuracy"], f"{n}.seconds": seconds,
                        f"{n}.derived": str(trained.derive())})
        figures.update({f"{n}.entropy@{e + 1}": h["entropy"] for e, h in enumerate(trained.history)})
        figures.update({f"{n}.max_weight@{e + 1}": h["max_weight"] for e, h in enumerate(trained.history)})
    bench.write(figures, details={n: {"strategy_kwargs": results[n][2], "history": results[n][0].history}
                                for n in names})


if __name__ == "__main__":
    main()
