"""NASP on a toy problem: does the architecture step lower the validation loss?

A tiny supernet (``C=4``, one cell per stage) is trained briefly on ``digits`` by uniform
single-path steps, then frozen; the validation loss of an architecture under those fixed
weights is the function NASP's architecture updates must descend. For each seed, each
``arch_grad`` variant (``full``: the gradient of every op weight at the discrete point;
``path``: of the chosen ops only) and each sign of the update (``descent``, and ``ascent``,
the sign-flipped bug, as a control), NASP takes ``--steps`` bilevel steps from its own
random start; the table prints the loss of the derived architecture before and after, and
whether the final cell still has a path from input to output (a cell without one outputs
zeros: every image gets the same prediction).

    python benchmarks/supernet_nasp.py --seeds 6 --steps 30
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import torch
import torch.nn.functional as F

from _results import BenchmarkRun, add_output_arguments
from gcnas.data import load_images
from gcnas.spaces.nb201 import EDGES, Arch
from gcnas.supernet import Uniform
from gcnas.spaces.nb201 import SuperNet
from gcnas.supernet.strategies import NASP


def connected(arch: Arch) -> bool:
    """Whether some chain of non-``none`` edges leads from the input node to the output node."""
    reached = {0}
    for (to, frm), op in zip(EDGES, arch.ops):  # EDGES are ordered by target node
        if op != 0 and frm in reached:
            reached.add(to)
    return 3 in reached


class Ascent(NASP):
    """NASP with the architecture update's sign flipped (the control)."""

    def update_arch(self) -> None:
        if self._discrete is not None and self._discrete.grad is not None:
            self._discrete.grad.neg_()
        super().update_arch()


def _endless(split, batch_size: int, seed: int):
    return itertools.chain.from_iterable(split.batches(batch_size, shuffle=True, seed=seed + lap)
                                         for lap in itertools.count())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=6, help="NASP seeds 0..K-1 (default 6)")
    parser.add_argument("--steps", type=int, default=30, help="NASP steps per run (default 30)")
    parser.add_argument("--pretrain-steps", type=int, default=60, help="uniform steps before freezing (60)")
    parser.add_argument("--arch-lr", type=float, default=3e-3, help="NASP arch_lr (default: the library's)")
    parser.add_argument("--variants", default="full,path", help="arch_grad variants (full,path)")
    add_output_arguments(parser, "supernet_nasp")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("supernet_nasp", args)
    data = load_images("digits")
    torch.manual_seed(0)
    net = SuperNet(channels=4, cells=1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    train = _endless(data.train, 64, 0)
    uniform = Uniform(seed=0)
    for _ in range(args.pretrain_steps):
        uniform.train_step(net, *next(train), optimizer)
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    x_valid, y_valid = next(data.valid.batches(len(data.valid)))
    frozen = torch.optim.SGD(net.parameters(), lr=0.0)

    def loss(arch: Arch) -> float:
        with torch.no_grad():
            return float(F.cross_entropy(net(x_valid, arch), y_valid))

    rows = []
    for variant, (sign, cls) in itertools.product(args.variants.split(","),
                                                  (("descent", NASP), ("ascent", Ascent))):
        for seed in range(args.seeds):
            net.load_state_dict(weights)
            nasp = cls(seed=seed, arch_lr=args.arch_lr, arch_grad=variant)
            valid = _endless(data.valid, 64, 1000 * (seed + 1))
            start, tick = nasp.derive(), time.perf_counter()
            for _ in range(args.steps):
                nasp.train_step(net, *next(train), frozen, valid=next(valid))
            end = nasp.derive()
            rows.append({"arch_grad": variant, "update": sign, "seed": seed, "start": str(start),
                         "loss_start": loss(start), "end": str(end), "loss_end": loss(end),
                         "connected": connected(end), "seconds": time.perf_counter() - tick})
            r = rows[-1]
            print(f"{variant:4}  {sign:7}  seed {seed}  loss {r['loss_start']:.3f} -> {r['loss_end']:.3f}  "
                  f"{'' if r['connected'] else 'no path to the output  '}{r['end']}", flush=True)
    figures = {}
    print("\narch_grad  update   runs  lower  mean loss before  mean loss after  no path  s/step")
    for variant, sign in itertools.product(args.variants.split(","), ("descent", "ascent")):
        group = [r for r in rows if r["arch_grad"] == variant and r["update"] == sign]
        lower = sum(r["loss_end"] < r["loss_start"] for r in group)
        before = statistics.mean(r["loss_start"] for r in group)
        after = statistics.mean(r["loss_end"] for r in group)
        dead = sum(not r["connected"] for r in group)
        per_step = statistics.mean(r["seconds"] for r in group) / args.steps
        print(f"{variant:9}  {sign:7}  {len(group):4}  {lower:5}  {before:16.3f}  {after:15.3f}  {dead:7}  "
              f"{per_step:6.3f}")
        key = f"{variant}.{sign}"
        figures.update({f"{key}.lower": lower, f"{key}.runs": len(group), f"{key}.loss_before": round(before, 4),
                        f"{key}.loss_after": round(after, 4), f"{key}.no_path": dead,
                        f"{key}.seconds_per_step": round(per_step, 4)})
    bench.write(figures, details={"rows": rows})


if __name__ == "__main__":
    main()
