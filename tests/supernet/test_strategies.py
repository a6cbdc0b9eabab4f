from __future__ import annotations

import math

import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.space import Arch
from gcnas.supernet import GAEA, SNAS, STRATEGIES, Uniform, make_strategy, train_supernet
from tests.supernet.conftest import TINY


def test_registry_lists_choices():
    assert set(STRATEGIES) == {"uniform", "gaea", "darts", "snas"}
    with pytest.raises(InvalidInputError, match="unknown strategy 'enas'; choose one of darts, gaea, snas, uniform"):
        make_strategy("enas")


def test_uniform_draws_are_seeded_and_cover_ops():
    a, b = Uniform(seed=3), Uniform(seed=3)
    draws = [a.route() for _ in range(50)]
    assert draws == [b.route() for _ in range(50)]
    assert all(isinstance(d, Arch) for d in draws)
    assert {op for d in draws for op in d.ops} == {0, 1, 2, 3, 4}
    with pytest.raises(InvalidInputError, match="no architecture weights"):
        a.derive()


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
