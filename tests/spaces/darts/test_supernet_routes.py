"""``DartsRoutes``: what the supernet strategies know of the DARTS supernet."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts import OPS, DartsSpace
from gcnas.spaces.darts.primitives import PRIMITIVES
from gcnas.spaces.darts.supernet import DartsRoutes, DartsSuperNet, ScaledPath, path_indices

ROUTES = DartsRoutes()
ALL = torch.tensor(ROUTES.path_ops)


def test_shape_columns_and_the_supernet_share_one_routes():
    assert ROUTES.arch_shape == (28, 8) and ROUTES.op_names == PRIMITIVES and PRIMITIVES[0] == "none"
    assert [PRIMITIVES[k] for k in ROUTES.path_ops] == list(OPS)     # a path never holds 'none'
    net = DartsSuperNet(C=2, layers=3)
    assert net.routes is DartsSuperNet.routes and net.arch_shape == (28, 8)


def test_sample_path_draws_inputs_and_ops_uniformly():
    g = torch.Generator().manual_seed(0)
    draws = [ROUTES.sample_path(g, ALL, "code") for _ in range(1400)]
    assert all(d == d.canonical() for d in draws)
    pairs = Counter((d.reduce[6][1], d.reduce[7][1]) for d in draws)   # node 5: 10 input pairs
    assert set(pairs) == set(combinations(range(5), 2))
    assert all(100 <= n <= 180 for n in pairs.values())               # 140 expected each
    ops = Counter(op for d in draws for op, _ in d.normal)
    assert set(ops) == set(OPS) and all(1400 <= n <= 1800 for n in ops.values())   # 1600 expected
    with pytest.raises(InvalidInputError, match="not 'none'"):
        ROUTES.sample_path(g, torch.tensor([0, 1]), "code")
    with pytest.raises(InvalidInputError, match="unknown sampling 'fair'"):
        ROUTES.sample_path(g, ALL, "fair")


def test_fair_paths_give_every_op_to_every_slot_once():
    block = ROUTES.fair_paths(torch.Generator().manual_seed(3), torch.tensor([3, 4, 5]))
    assert len(block) == 3
    for cell in ("normal", "reduce"):
        for slot in range(8):
            assert sorted(g.cell(cell)[slot][0] for g in block) == ["sep_conv_3x3", "sep_conv_5x5", "skip_connect"]


def test_path_state_one_hot_and_derive_round_trip():
    g = DartsSpace().sample(5)
    assert ROUTES.path_from_state(ROUTES.path_state(g)) == g
    one_hot = ROUTES.one_hot(g)
    assert one_hot.shape == (28, 8) and int(one_hot.sum()) == 16 and one_hot[:, 0].sum() == 0
    assert ROUTES.derive(one_hot.float()) == g.canonical()
    assert isinstance(ROUTES.discrete_route(g, one_hot.float(), all_ops=True), ScaledPath)
    with pytest.raises(InvalidInputError, match=r"\(28, 8\)"):
        ROUTES.derive(torch.zeros(6, 5))


def test_scaled_path_with_all_ops_keeps_the_output_and_trains_only_the_path():
    torch.manual_seed(0)
    net = DartsSuperNet(C=4, layers=3, num_classes=4).eval()
    g = DartsSpace().sample(2)
    x = torch.randn(3, 3, 8, 8)
    weights = ROUTES.one_hot(g).float().requires_grad_()
    out = net(x, ScaledPath(g, weights, all_ops=True))
    assert torch.allclose(out, net(x, g), atol=1e-6)
    out.sum().backward()
    used = {(row >= 14, row % 14, k) for row, k in path_indices(g)}   # (reduction cell?, edge, op)
    trained = set()
    for name, p in net.named_parameters():
        if ".edges." in name and p.grad is not None and p.grad.any():   # cells.I.edges.E.ops.K....
            i, e, k = (int(name.split(".")[j]) for j in (1, 3, 5))
            trained.add((net.cells[i].reduction, e, k))
    assert trained and trained <= used                   # the other ops ran without gradient
    assert (weights.grad[:, 1:] != 0).float().mean() > 0.9 and (weights.grad[:, 0] == 0).all()
