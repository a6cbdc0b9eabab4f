"""build_network vs the official NAS-Bench-201 network (xautodl ``infer.tiny``), at full size.

For K random architectures (C=16, N=5, CIFAR-10 head): parameter counts of both, and the
largest logit difference after loading the official network's state dict into ours (train
and eval mode). Also prints the two published extremes of NAS-Bench-201's cost table
(1.531546 M params for the all-conv3x3 cell, 0.073306 M for the all-none cell).

    python benchmarks/supernet_network_check.py --num 50
"""

from __future__ import annotations

import argparse

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from xautodl.models import get_cell_based_tiny_net

    from gcnas.space import Arch, NB201Space
    from gcnas.supernet import build_network

    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    torch.manual_seed(args.seed)
    x = torch.randn(4, 3, 32, 32)
    same_params, worst = 0, 0.0
    archs = NB201Space().sample_many(args.num, args.seed)
    for arch in archs:
        theirs = get_cell_based_tiny_net({"name": "infer.tiny", "C": 16, "N": 5, "arch_str": str(arch),
                                          "num_classes": 10})
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
    for text, published in [("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                              "nor_conv_3x3~2|", 1.531546), ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 0.073306)]:
        arch = Arch.from_string(text)
        print(f"{text}: ours {count(build_network(arch)) / 1e6:.6f} M params, NAS-Bench-201 {published:.6f} M")


if __name__ == "__main__":
    main()
