"""build_network vs the official NAS-Bench-201 network (xautodl ``infer.tiny``), at full size.

For K random architectures (C=16, N=5, CIFAR-10 head): parameter counts of both, and the
largest logit difference after loading the official network's state dict into ours (train
and eval mode); and gcnas's counted params / FLOPs (``gcnas.spaces.nb201.network_costs``) beside
the official counter ``xautodl.utils.get_model_infos`` on the official network. Also prints
the two published extremes of NAS-Bench-201's cost table (1.531546 M params for the
all-conv3x3 cell, 0.073306 M for the all-none cell).

    python benchmarks/supernet_network_check.py --num 50
"""

from __future__ import annotations

import argparse

import torch

from _results import BenchmarkRun, add_output_arguments

# NAS-Bench-201's published CIFAR-10 parameter counts (M) of the two extreme cells: the anchor
PUBLISHED_PARAMS_M = {"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                      "nor_conv_3x3~2|": 1.531546, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|": 0.073306}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    add_output_arguments(parser, "supernet_network_check")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("supernet_network_check", args)
    from xautodl.models import get_cell_based_tiny_net
    from xautodl.utils import get_model_infos

    from gcnas.spaces.nb201.counts import network_costs
    from gcnas.spaces.nb201 import Arch, NB201Space
    from gcnas.spaces.nb201 import build_network

    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    torch.manual_seed(args.seed)
    x = torch.randn(4, 3, 32, 32)
    same_params, same_counts, worst, worst_count = 0, 0, 0.0, 0.0
    extremes = [Arch.from_string(text) for text in PUBLISHED_PARAMS_M]
    archs = NB201Space().sample_many(args.num, args.seed)
    counted = {}
    for arch in archs + extremes:
        theirs = get_cell_based_tiny_net({"name": "infer.tiny", "C": 16, "N": 5, "arch_str": str(arch),
                                          "num_classes": 10})
        flops, params = get_model_infos(theirs, (1, 3, 32, 32))  # before any forward pass of ours
        ours_costs = network_costs(arch)
        counted[str(arch)] = {"ours": ours_costs, "official": {"params_m": params, "flops_m": flops}}
        if arch in extremes and arch not in archs:
            continue
        difference = max(abs(ours_costs["params_m"] - params), abs(ours_costs["flops_m"] - flops))
        same_counts += difference < 1e-9
        worst_count = max(worst_count, difference)
        ours = build_network(arch)
        same_params += count(ours) == count(theirs)
        ours.load_state_dict(theirs.state_dict())
        for train in (True, False):
            ours.train(train), theirs.train(train)
            with torch.no_grad():
                worst = max(worst, float((ours(x) - theirs(x)[1]).abs().max()))
    print(f"{args.num} random architectures, C=16 N=5, 10 classes")
    print(f"equal parameter counts: {same_params}/{args.num}; max |logit difference| with the official "
          f"weights loaded: {worst:.3g}")
    print(f"counted params and FLOPs equal to get_model_infos: {same_counts}/{args.num} (max |difference| "
          f"{worst_count:.3g} M)")
    figures = {"archs": args.num, "equal_params": same_params, "max_logit_difference": worst,
               "equal_counts": same_counts, "max_count_difference_m": worst_count}
    for (text, published), name in zip(PUBLISHED_PARAMS_M.items(), ("all_conv3x3", "all_none")):
        arch = Arch.from_string(text)
        ours_m = count(build_network(arch)) / 1e6
        figures.update({f"{name}.params_m": ours_m, f"{name}.published_params_m": published,
                        f"{name}.flops_m": counted[text]["ours"]["flops_m"],
                        f"{name}.official_flops_m": counted[text]["official"]["flops_m"],
                        f"{name}.official_params_m": counted[text]["official"]["params_m"]})
        print(f"{text}: ours {ours_m:.6f} M params ({counted[text]['ours']['flops_m']:.5f} MFLOPs), "
              f"NAS-Bench-201 {published:.6f} M, get_model_infos {counted[text]['official']['params_m']:.6f} M "
              f"({counted[text]['official']['flops_m']:.5f} MFLOPs)")
    bench.write(figures, details={"counts": counted})


if __name__ == "__main__":
    main()
