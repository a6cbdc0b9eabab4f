from __future__ import annotations

import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch, NB201Space
from gcnas.spaces.nb201 import build_network, make_op
from gcnas.spaces.nb201.network import live_edges

ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("num_classes, expected", [(10, 1_531_546), (100, 1_537_396)])
def test_largest_cell_matches_published_params(num_classes, expected):
    # NAS-Bench-201's cost tables: the all-conv3x3 cell has 1.531546 M params on CIFAR-10
    # and 1.537396 M on CIFAR-100 (the space's maxima); the all-none cell 0.073306 M.
    assert n_params(build_network(Arch.from_string(ALL_CONV3), num_classes=num_classes)) == expected


def test_smallest_cell_matches_published_params():
    assert n_params(build_network(Arch.from_code(0))) == 73_306


def test_matches_official_xautodl_network():
    xautodl_models = pytest.importorskip("xautodl.models", reason="xautodl is not importable")
    from xautodl.config_utils import dict2config

    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    for arch in NB201Space().sample_many(10, seed=3):
        config = dict2config({"name": "infer.tiny", "C": 8, "N": 1, "arch_str": str(arch), "num_classes": 10}, None)
        theirs = xautodl_models.get_cell_based_tiny_net(config)
        ours = build_network(arch, channels=8, cells=1)
        assert n_params(ours) == n_params(theirs)
        ours.load_state_dict(theirs.state_dict())  # same parameter names, strict
        for train in (True, False):
            ours.train(train), theirs.train(train)
            torch.testing.assert_close(ours(x), theirs(x)[1])


def test_output_shape_and_bad_input():
    net = build_network(Arch.from_code(1234), channels=4, cells=1, num_classes=7)
    assert net(torch.zeros(3, 3, 8, 8)).shape == (3, 7)
    with pytest.raises(InvalidInputError, match=r"\(N, 3, H, W\)"):
        net(torch.zeros(3, 1, 8, 8))
    with pytest.raises(InvalidInputError, match="channels must be a positive integer"):
        build_network(Arch.from_code(0), channels=0)
    with pytest.raises(InvalidInputError, match="arch must be an Arch"):
        build_network("|none~0|")
    with pytest.raises(InvalidInputError, match="unknown operation 'conv'"):
        make_op("conv", 4)


def test_live_edges_skip_dead_branches():
    # Only the edge 3<-0 reaches the output when everything into node 3 but 3<-0 is none.
    arch = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert live_edges(arch.ops) == [3]
    assert live_edges(Arch.from_string(ALL_CONV3).ops) == [0, 1, 2, 3, 4, 5]
    assert live_edges(Arch.from_code(0).ops) == []


def test_public_names_exist():
    import gcnas.supernet

    assert gcnas.supernet.__all__ and all(hasattr(gcnas.supernet, name) for name in gcnas.supernet.__all__)
