"""Images/s of one supernet training step on CPU, per strategy, against the official xautodl supernet.

For each strategy the same step (forward, backward, weight update and, for gradient
strategies, the architecture update) runs on gcnas's supernet and on the official
NAS-Bench-201 search supernet of the same shape from ``xautodl`` (the package of the
NAS-Bench-201 authors):

=========  =======================================================================
ours       official baseline
=========  =======================================================================
uniform    ``TinyNetworkRANDOM`` (single path, ``forward_dynamic``), same arch draws
gaea       ``TinyNetworkDarts`` cells run with GAEA's simplex weights + EG update
darts      ``TinyNetworkDarts`` (DARTS-V1 first order: valid step on alpha, train step)
snas       ``TinyNetworkDarts`` cells run with Gumbel-softmax weights
=========  =======================================================================

Rounds alternate ours / theirs so that load from other processes hits both alike; the
median of the rounds is reported.

    python benchmarks/supernet_throughput.py --channels 16 --cells 5 --batch-size 64 --size 32
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from _results import BenchmarkRun, add_output_arguments


def official(name: str, channels: int, cells: int):
    from xautodl.models import get_cell_based_tiny_net

    return get_cell_based_tiny_net({"name": name, "C": channels, "N": cells, "max_nodes": 4, "num_classes": 10,
                                    "space": ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"],
                                    "affine": False, "track_running_stats": True})


def theirs_logits(net, x, weights):
    """xautodl's TinyNetworkDarts forward with given op weights (its cells, its mixture)."""
    from xautodl.models.cell_searchs.search_cells import NAS201SearchCell

    feature = net.stem(x)
    for cell in net.cells:
        feature = cell(feature, weights) if isinstance(cell, NAS201SearchCell) else cell(feature)
    out = net.global_pooling(net.lastact(feature)).flatten(1)
    return net.classifier(out)


def make_ours(strategy: str, args):
    from gcnas.supernet import make_strategy
    from gcnas.spaces.nb201 import SuperNet

    torch.manual_seed(0)
    net = SuperNet(args.channels, args.cells)
    strat = make_strategy(strategy, seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4)
    layout = torch.channels_last if args.channels_last else torch.contiguous_format
    net.to(memory_format=layout)

    def step(x, y, xv, yv):
        x, xv = x.contiguous(memory_format=layout), xv.contiguous(memory_format=layout)
        strat.train_step(net, x, y, opt, valid=(xv, yv))
    return step


def make_theirs(strategy: str, args):
    from xautodl.models.cell_searchs.genotypes import Structure

    from gcnas.spaces.nb201 import NB201Space

    torch.manual_seed(0)
    if strategy == "uniform":
        net = official("RANDOM", args.channels, args.cells)
        draws = iter(NB201Space().sample_many(100_000, 0, distinct=False))
        opt = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4)

        def step(x, y, xv, yv):
            net.arch_cache = Structure.str2structure(str(next(draws)))
            opt.zero_grad()
            loss = F.cross_entropy(net(x)[1], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5)
            opt.step()
        return step

    net = official("DARTS-V1", args.channels, args.cells)
    weights = list(net.get_weights())
    opt = torch.optim.SGD(weights, lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4)
    alpha = net.arch_parameters
    arch_opt = torch.optim.Adam([alpha], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    simplex = torch.full((6, 5), 0.2, requires_grad=True)
    gen = torch.Generator().manual_seed(0)

    def route():
        if strategy == "gaea":
            return simplex
        if strategy == "snas":
            u = torch.rand(alpha.shape, generator=gen).clamp(1e-10, 1 - 1e-10)
            return F.softmax((alpha - torch.log(-torch.log(u))) / 1.0, dim=-1)
        return F.softmax(alpha, dim=-1)

    def step(x, y, xv, yv):
        if strategy == "darts":  # first-order: alpha on the valid batch, then weights
            arch_opt.zero_grad()
            F.cross_entropy(net(xv)[1], yv).backward()
            arch_opt.step()
        opt.zero_grad()
        simplex.grad = None
        alpha.grad = None
        loss = F.cross_entropy(theirs_logits(net, x, route()), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(weights, 5)
        opt.step()
        if strategy == "gaea":
            with torch.no_grad():
                simplex.copy_(torch.softmax(simplex.log() - 0.1 * simplex.grad, -1))
        elif strategy == "snas":
            arch_opt.step()
    return step


def images_per_s(step, batches, steps: int) -> float:
    tick = time.perf_counter()
    for i in range(steps):
        step(*batches[i % len(batches)])
    return steps * batches[0][0].shape[0] / (time.perf_counter() - tick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strategies", default="uniform,gaea,darts,snas")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--size", type=int, default=32, help="image height = width")
    parser.add_argument("--steps", type=int, default=5, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                        help="run ours in the default contiguous layout (ablation)")
    add_output_arguments(parser, "supernet_throughput")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench = BenchmarkRun("supernet_throughput", args)
    figures: dict = {}
    gen = torch.Generator().manual_seed(0)
    batches = [(torch.randn(args.batch_size, 3, args.size, args.size, generator=gen),
                torch.randint(0, 10, (args.batch_size,), generator=gen),
                torch.randn(args.batch_size, 3, args.size, args.size, generator=gen),
                torch.randint(0, 10, (args.batch_size,), generator=gen)) for _ in range(4)]
    print(f"CPU, {args.threads} thread(s); C={args.channels} N={args.cells} batch {args.batch_size} "
          f"{args.size}x{args.size}; ours channels-last={args.channels_last}; "
          f"median of {args.rounds} rounds x {args.steps} steps")
    print(f"{'strategy':<9} {'ours img/s':>11} {'xautodl img/s':>14} {'ours/theirs':>12}")
    for strategy in args.strategies.split(","):
        ours, theirs = make_ours(strategy, args), make_theirs(strategy, args)
        images_per_s(ours, batches, 1), images_per_s(theirs, batches, 1)  # warm-up
        a, b = [], []
        for _ in range(args.rounds):
            a.append(images_per_s(ours, batches, args.steps))
            b.append(images_per_s(theirs, batches, args.steps))
        ma, mb = statistics.median(a), statistics.median(b)
        figures.update({f"{strategy}.ours_img_s": ma, f"{strategy}.theirs_img_s": mb, f"{strategy}.ratio": ma / mb})
        print(f"{strategy:<9} {ma:>11.1f} {mb:>14.1f} {ma / mb:>11.2f}x", flush=True)
    bench.write(figures)


if __name__ == "__main__":
    main()
