"""The DARTS evaluation network: shapes, a training step, params / FLOPs equal to NAS-Bench-301's columns."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.counts import count_module
from gcnas.spaces.darts import SHAPES, DartsSpace, parse_genotype
from gcnas.spaces.darts.network import NetworkCIFAR, reduction_layers
from gcnas.spaces.darts.primitives import PRIMITIVES, make_op
from tests.conftest import shared_file

SPACE = DartsSpace()


@pytest.mark.parametrize("name", PRIMITIVES)
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_keeps_channels_and_applies_the_stride(name, stride):
    y = make_op(name, 4, stride, pool_bn=True)(torch.randn(2, 4, 8, 8))
    assert y.shape == (2, 4, 8 // stride, 8 // stride)


def test_reductions_and_channels():
    assert reduction_layers(8) == (2, 5) and reduction_layers(20) == (6, 13)
    net = NetworkCIFAR(SPACE.sample(0), C=4, layers=5, num_classes=3, auxiliary=True)
    assert [c.reduction for c in net.cells] == [False, True, False, True, False]
    assert net.classifier.in_features == 4 * 4 * 4
    net.train()
    logits, aux = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 3)
    net.eval()
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_one_training_step_changes_the_weights_with_drop_path():
    torch.manual_seed(0)
    net = SPACE.network(SPACE.sample(1), C=4, layers=3, num_classes=5, drop_path_prob=0.2)
    before = [p.detach().clone() for p in net.parameters()]
    loss = torch.nn.functional.cross_entropy(net(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_bad_shape_arguments():
    with pytest.raises(InvalidInputError, match="layers"):
        NetworkCIFAR(SPACE.sample(0), C=4, layers=0)
    with pytest.raises(InvalidInputError, match="auxiliary"):
        NetworkCIFAR(SPACE.sample(0), C=4, layers=2, auxiliary=True)
    with pytest.raises(InvalidInputError, match="unknown DARTS network shape"):
        SPACE.costs(SPACE.sample(0), shape="huge")


def test_eval_network_has_the_size_darts_training_logs_print():
    # arch2vec's DARTS evaluation log (darts/cnn/eval-EXP/log.txt, C=36, 20 cells, auxiliary) prints
    # "param size = 3.616966MB" for its arch2vec_bo genotype; DARTS counts without the auxiliary head.
    arch2vec_bo = parse_genotype(
        "Genotype(normal=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('skip_connect', 0), ('dil_conv_3x3', 1), "
        "('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 2), ('sep_conv_3x3', 0)], "
        "normal_concat=[2, 3, 4, 5], reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('skip_connect', 0), "
        "('dil_conv_3x3', 1), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 2), "
        "('sep_conv_3x3', 0)], reduce_concat=[2, 3, 4, 5])")
    net = SPACE.network(arch2vec_bo, **SHAPES["darts"])
    assert sum(p.numel() for n, p in net.named_parameters() if "auxiliary" not in n) == 3_616_966
    # the torchstat rule runs the network in eval mode, where the auxiliary head is idle
    assert SPACE.costs(arch2vec_bo, shape="darts")["params"] == pytest.approx(3.616966, abs=1e-9)


def _published(value: float, text: str) -> bool:
    """``value`` written to the published precision (6 significant digits) equals the published text."""
    return float(f"{value:.6g}") == float(text)


def test_params_and_flops_equal_the_published_nb301_columns_on_all_725_cells():
    with shared_file("nb301/nb301_sample_cifar10.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 725
    for i, row in enumerate(rows):
        costs = SPACE.costs(SPACE.parse(row["genotype"]))
        assert _published(costs["params"], row["params"]), (i, costs, row["params"])
        assert _published(costs["flops"], row["flops"]), (i, costs, row["flops"])


def test_the_nb301_shape_is_what_matches():
    # the DARTS evaluation ops (affine BN, bare pools) at the same size do not reproduce the column
    g = SPACE.sample(0)
    stat = count_module(NetworkCIFAR(g, C=32, layers=8), rule="torchstat")
    assert stat.params / 1e6 > SPACE.costs(g)["params"] + 1e-3


def test_network_takes_the_shape_names_every_space_takes():
    g = SPACE.sample(3)
    common = SPACE.network(g, channels=4, cells=3, num_classes=5)
    own = NetworkCIFAR(g, C=4, layers=3, num_classes=5)
    assert [p.shape for p in common.parameters()] == [p.shape for p in own.parameters()]
    with pytest.raises(InvalidInputError, match="C= or channels=, not both"):
        SPACE.network(g, C=4, channels=8)
