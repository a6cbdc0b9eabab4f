from __future__ import annotations

import math

import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch
from gcnas.supernet import GAEA, SNAS, STRATEGIES, Uniform, make_strategy, train_supernet
from tests.supernet.conftest import TINY


def test_registry_lists_choices():
    assert set(STRATEGIES) == {"uniform", "gaea", "darts", "snas", "nasp"}
    with pytest.raises(InvalidInputError, match="unknown strategy 'enas'; choose one of darts, gaea, nasp, snas, uniform"):
        make_strategy("enas")


def test_uniform_draws_are_seeded_and_cover_ops():
    a, b = Uniform(seed=3), Uniform(seed=3)
    draws = [a.route() for _ in range(50)]
    assert draws == [b.route() for _ in range(50)]
    assert all(isinstance(d, Arch) for d in draws)
    assert {op for d in draws for op in d.ops} == {0, 1, 2, 3, 4}
    with pytest.raises(InvalidInputError, match="no architecture weights"):
        a.derive()


def test_canonical_sampling_draws_isomorphism_classes_uniformly():
    import numpy as np

    from gcnas.spaces.nb201 import NB201Space

    strategy = Uniform(sampling="canonical", seed=1)
    draws = [strategy.route() for _ in range(3000)]
    assert all(d.is_canonical() for d in draws)
    # raw codes over-draw the functions that have many codes (dead edges), e.g. the cells with
    # no live path to the output (0.8% of codes, 1 of 6,466 classes)
    from gcnas.spaces.nb201.network import live_edges

    raw = Uniform(seed=1)
    raw_draws = [raw.route() for _ in range(3000)]
    assert sum(not live_edges(d.ops) for d in raw_draws) > 10
    assert sum(not live_edges(d.ops) for d in draws) <= 3
    assert len({d.code for d in draws}) > len({d.canonical().code for d in raw_draws}) + 200
    assert len(np.unique(NB201Space().canonical_codes())) == 6466


def test_fair_sampling_trains_every_op_of_every_edge_once_per_group():
    strategy = Uniform(sampling="fair", seed=2)
    for _ in range(4):
        group = [strategy.route() for _ in range(5)]
        for edge in range(6):
            assert sorted(a.ops[edge] for a in group) == [0, 1, 2, 3, 4]
    again = Uniform(sampling="fair", seed=2)
    assert [again.route() for _ in range(20)][:5] != [Uniform(sampling="fair", seed=3).route() for _ in range(5)]


def test_fair_sampling_resumes_mid_group():
    strategy = Uniform(sampling="fair", seed=4)
    [strategy.route() for _ in range(2)]
    state = strategy.state_dict()
    rest = [strategy.route() for _ in range(8)]
    restored = Uniform(sampling="fair", seed=99)
    restored.load_state_dict(state)
    assert [restored.route() for _ in range(8)] == rest


def test_excluded_ops_are_never_drawn_and_bad_options_are_refused():
    for sampling in ("code", "canonical", "fair"):
        strategy = Uniform(sampling=sampling, exclude_ops=("none",), seed=0)
        assert all(0 not in strategy.route().ops for _ in range(200))
    fair = Uniform(sampling="fair", exclude_ops=["none"], seed=0)
    group = [fair.route() for _ in range(4)]
    assert all(sorted(a.ops[e] for a in group) == [1, 2, 3, 4] for e in range(6))
    with pytest.raises(InvalidInputError, match="unknown sampling 'greedy'"):
        Uniform(sampling="greedy")
    with pytest.raises(InvalidInputError, match="unknown op"):
        Uniform(exclude_ops=("conv_5x5",))
    with pytest.raises(InvalidInputError, match="leaves no op"):
        Uniform(exclude_ops=("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"))


def test_gaea_exponentiated_gradient_stays_on_simplex():
    gaea = GAEA(arch_lr=0.5)
    gaea.weights.grad = torch.zeros(6, 5)
    gaea.weights.grad[:, 3] = -1.0  # conv3x3 lowers the loss on every edge
    gaea.update_arch()
    w = gaea.probabilities()
    torch.testing.assert_close(w.sum(1), torch.ones(6))
    expected = math.exp(0.5) / (4 + math.exp(0.5))
    torch.testing.assert_close(w[:, 3], torch.full((6,), expected))
    assert gaea.derive() == Arch((3,) * 6)


def test_snas_temperature_anneals():
    snas = SNAS(tau_max=1.0, tau_min=0.1)
    snas.start_epoch(0, 5)
    assert snas.tau == pytest.approx(1.0)
    snas.start_epoch(4, 5)
    assert snas.tau == pytest.approx(0.1)
    route = snas.route()
    torch.testing.assert_close(route.sum(1), torch.ones(6), rtol=1e-5, atol=1e-5)
    with pytest.raises(InvalidInputError, match="tau_min"):
        SNAS(tau_max=0.1, tau_min=1.0)


@pytest.mark.parametrize("strategy, kwargs", [("uniform", {}), ("gaea", {"arch_lr": 1.0}),
                                              ("gaea", {"bilevel": True}), ("darts", {"arch_lr": 0.05}),
                                              ("snas", {})])
def test_every_strategy_trains(tmp_path, digits, strategy, kwargs):
    trained = train_supernet(tmp_path, strategy=strategy, epochs=2, strategy_kwargs=kwargs, data=digits, **TINY)
    assert [r["epoch"] for r in trained.history] == [1, 2]
    assert all(math.isfinite(r["loss"]) for r in trained.history)
    if strategy == "uniform":
        assert trained.history[-1]["entropy"] is None
    else:
        probs = trained.strategy.probabilities()
        torch.testing.assert_close(probs.sum(1), torch.ones(6))
        assert not torch.allclose(probs, torch.full((6, 5), 0.2))  # the architecture weights learned
        assert trained.history[-1]["entropy"] < math.log(5)
        assert isinstance(trained.derive(), Arch)
        assert trained.history[-1]["derived"] == str(trained.derive())
