"""The DARTS supernet: single-path, mixed and scaled routes train; derivation follows DARTS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts import DartsSpace, Genotype
from gcnas.spaces.darts.supernet import EDGES, DartsSuperNet, ScaledPath, derive_genotype, path_indices

SPACE = DartsSpace()


def _step(net, route, x, y):
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt.zero_grad()
    loss = F.cross_entropy(net(x, route), y)
    loss.backward()
    opt.step()
    changed = {n for n, p in net.named_parameters() if not torch.equal(before[n], p)}
    return loss, changed


@pytest.fixture(scope="module")
def batch():
    torch.manual_seed(0)
    return torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])


def test_single_path_trains_only_the_sampled_ops(batch):
    torch.manual_seed(0)
    net = DartsSuperNet(C=4, layers=3, num_classes=4)
    g = SPACE.sample(np.random.default_rng(0))
    loss, changed = _step(net, g, *batch)
    assert torch.isfinite(loss)
    used = {(row % 14, k) for row, k in path_indices(g)}
    edge_ops = {(int(n.split(".")[3]), int(n.split(".")[5])) for n in changed if ".edges." in n}
    assert edge_ops and edge_ops <= used          # no op off the path moved
    assert any(n.startswith("classifier") for n in changed)


def test_mixture_step_gives_every_arch_weight_a_gradient(batch):
    torch.manual_seed(0)
    net = DartsSuperNet(C=4, layers=3, num_classes=4)
    alpha = torch.zeros(28, 8, requires_grad=True)
    loss = F.cross_entropy(net(batch[0], F.softmax(alpha, dim=-1)), batch[1])
    loss.backward()
    assert alpha.grad is not None and (alpha.grad[:, 1:].abs() > 0).all()
    _, changed = _step(net, torch.full((28, 8), 1 / 8), *batch)
    assert sum(".edges." in n for n in changed) > 100


def test_one_hot_scaled_path_equals_the_single_path(batch):
    torch.manual_seed(0)
    net = DartsSuperNet(C=4, layers=3, num_classes=4).eval()
    g = SPACE.sample(3)
    weights = torch.zeros(28, 8)
    for row, k in path_indices(g):
        weights[row, k] = 1.0
    weights.requires_grad_()
    out = net(batch[0], ScaledPath(g, weights))
    assert torch.allclose(out, net(batch[0], g))
    out.sum().backward()
    on_path = torch.zeros(28, 8, dtype=torch.bool)
    for row, k in path_indices(g):
        on_path[row, k] = True
    assert (weights.grad[~on_path] == 0).all() and (weights.grad[on_path] != 0).any()


def test_bad_route():
    with pytest.raises(InvalidInputError, match="route must be"):
        DartsSuperNet(C=4, layers=3)(torch.zeros(1, 3, 8, 8), torch.zeros(14, 8))


def test_derive_genotype_picks_top_two_edges_without_none():
    w = torch.rand(14, 8, generator=torch.Generator().manual_seed(0))
    w[:, 0] = 10.0                                    # 'none' strongest everywhere: must be ignored
    # node 5 (rows 9..13: inputs 0..4): make inputs 3 and 1 the strongest, with ops 6 and 2
    w[9:14, 1:] = 0.0
    w[12, 6] = 0.9
    w[10, 2] = 0.8
    g = derive_genotype(w, w)
    assert isinstance(g, Genotype)
    assert g.normal[6:] == (("dil_conv_3x3", 3), ("avg_pool_3x3", 1))
    assert all(op != "none" for op, _ in g.normal + g.reduce)
    # a genotype's one-hot weights derive the genotype back (up to pair order)
    h = SPACE.sample(11)
    weights = torch.zeros(28, 8)
    for row, k in path_indices(h):
        weights[row, k] = 1.0
    assert derive_genotype(weights[:14], weights[14:]).canonical() == h
    with pytest.raises(InvalidInputError, match=r"\(14, 8\)"):
        derive_genotype(torch.zeros(28, 8), w)


def test_edges_follow_darts_order():
    assert len(EDGES) == 14 and EDGES[:2] == ((0, 0), (0, 1)) and EDGES[-1] == (3, 4)


def test_supernet_offers_arch_shape_and_derive():
    net = DartsSuperNet(C=4, layers=3)
    assert net.arch_shape == (28, 8)
    g = SPACE.sample(4)
    weights = torch.zeros(28, 8)
    for row, k in path_indices(g):
        weights[row, k] = 1.0
    assert net.derive(weights).canonical() == g
