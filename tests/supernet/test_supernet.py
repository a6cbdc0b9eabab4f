from __future__ import annotations

import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch, NB201Space
from gcnas.spaces.nb201 import SuperNet


def test_single_path_equals_one_hot_mixture():
    torch.manual_seed(0)
    net = SuperNet(channels=4, cells=1).eval()
    x = torch.randn(3, 3, 8, 8)
    for arch in NB201Space().sample_many(6, seed=1):
        one_hot = torch.nn.functional.one_hot(torch.tensor(arch.ops), 5).float()
        torch.testing.assert_close(net(x, arch), net(x, one_hot), rtol=1e-5, atol=1e-5)


def test_single_path_touches_only_chosen_ops():
    net = SuperNet(channels=4, cells=1)
    arch = Arch.from_string("|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    net(torch.randn(2, 3, 8, 8), arch).sum().backward()
    cell = net.cells[0]
    used = {(e, k) for e, edge in enumerate(cell.edges) for k, op in enumerate(edge)
            if any(p.grad is not None for p in op.parameters())}
    assert used == {(0, 2), (2, 3)}  # the two convolutions on the chosen path


def test_mixture_gradient_reaches_weights():
    net = SuperNet(channels=4, cells=1)
    weights = torch.full((6, 5), 0.2, requires_grad=True)
    net(torch.randn(2, 3, 8, 8), weights).sum().backward()
    assert weights.grad is not None and weights.grad.shape == (6, 5)
    assert torch.all(weights.grad[:, 0] == 0)  # "none" contributes nothing


def test_bad_route():
    net = SuperNet(channels=4, cells=1)
    with pytest.raises(InvalidInputError, match=r"route must be an Arch or a \(6, 5\)"):
        net(torch.zeros(1, 3, 8, 8), torch.zeros(5, 5))
    with pytest.raises(InvalidInputError, match="route must be"):
        net(torch.zeros(1, 3, 8, 8), "|none~0|")
