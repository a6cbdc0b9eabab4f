"""NB201 regression: the strategies, made space-generic (they take their weight shape, path
draws and derivation from ``SuperNet.routes``), give exactly what they gave before.

The oracle is ``frozen_strategies_107fe74.py``, a frozen copy of ``strategies.py`` from
before the change. Each test runs the same steps with both, in the same process, and
requires equal draws, losses, network weights, architecture weights and derived
architectures, every bit. (Before the change, the values of :func:`_run` and of a
``train_supernet`` run were also printed with the current code and compared after it: the
same, byte for byte; hard-coded floats were not kept, as they move with the thread count.)
"""

from __future__ import annotations

import importlib

import pytest
import torch

import gcnas.supernet.checkpoint as checkpoint
from gcnas.supernet import make_strategy, train_supernet
from gcnas.spaces.nb201 import SuperNet
from tests.supernet.conftest import TINY

OLD = importlib.import_module("tests.supernet.frozen_strategies_107fe74")

CASES: dict[str, tuple[str, dict]] = {
    "uniform-fair": ("uniform", {}),
    "uniform-code": ("uniform", {"sampling": "code"}),
    "uniform-canonical": ("uniform", {"sampling": "canonical", "exclude_ops": ["none"]}),
    "uniform-fair-nonone": ("uniform", {"exclude_ops": ["none"]}),
    "gaea": ("gaea", {"arch_lr": 0.5}),
    "gaea-bilevel": ("gaea", {"arch_lr": 0.5, "bilevel": True}),
    "darts": ("darts", {"arch_lr": 0.05}),
    "darts-single": ("darts", {"arch_lr": 0.05, "bilevel": False}),
    "snas": ("snas", {}),
    "nasp-full": ("nasp", {"arch_lr": 0.05}),
    "nasp-path-single": ("nasp", {"arch_lr": 0.05, "arch_grad": "path", "bilevel": False}),
    "nasp-explore": ("nasp", {"arch_lr": 0.05, "explore": 0.5}),
}


def _run(make, name: str, kwargs: dict, steps: int = 3) -> dict:
    """``steps`` training steps of strategy ``name`` (built by ``make``) on a tiny NB201 supernet."""
    torch.manual_seed(0)
    data = torch.Generator().manual_seed(1)
    x = torch.randn(2 * steps, 8, 3, 8, 8, generator=data)
    y = torch.randint(0, 10, (2 * steps, 8), generator=data)
    net = SuperNet(channels=4, cells=1)
    strategy = make(name, seed=7, **kwargs)
    strategy.start_epoch(0, 3)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    losses, routes = [], []

    def model(images: torch.Tensor, route) -> torch.Tensor:   # the supernet, recording every route it runs
        routes.append(route.detach().clone() if isinstance(route, torch.Tensor) else getattr(route, "arch", route))
        return net(images, route)

    for step in range(steps):
        loss, _ = strategy.train_step(model, x[2 * step], y[2 * step], optimizer,
                                      valid=(x[2 * step + 1], y[2 * step + 1]))
        losses.append(loss)
    probs = strategy.probabilities()
    return {"losses": torch.stack(losses), "routes": routes, "net": [p.detach() for p in net.parameters()],
            "arch": [p.detach() for p in strategy.arch_parameters()],
            "probs": probs, "derived": None if probs is None else strategy.derive(),
            "state": strategy.state_dict()}


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("case", list(CASES))
def test_steps_of_each_strategy_equal_the_frozen_code(case):
    new, old = _run(make_strategy, *CASES[case]), _run(OLD.make_strategy, *CASES[case])
    for key in ("losses", "routes", "net", "arch", "probs", "derived"):
        assert _same(new[key], old[key]), key
    state = {k: v for k, v in new["state"].items() if k != "space"}
    assert new["state"]["space"] == "nb201" and _same(state, old["state"])
    # and the frozen checkpoint state loads into the new strategy (old run directories resume)
    restored = make_strategy(CASES[case][0], seed=99, **CASES[case][1])
    restored.load_state_dict(old["state"])
    assert _same(restored.state_dict(), new["state"])


def test_nasp_explore_draws_every_op_as_before():
    new = make_strategy("nasp", seed=5, explore=1.0)
    old = OLD.make_strategy("nasp", seed=5, explore=1.0)
    draws = [new.route().arch for _ in range(40)]
    assert draws == [old.route().arch for _ in range(40)]
    assert {op for a in draws for op in a.ops} == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("name,kwargs", [("uniform", {}), ("gaea", {"arch_lr": 3.0}), ("nasp", {"arch_lr": 0.05})])
def test_train_supernet_equals_the_frozen_code(name, kwargs, tmp_path, monkeypatch):
    runs = {}
    for label, make in (("new", checkpoint.make_strategy), ("old", OLD.make_strategy)):
        monkeypatch.setattr(checkpoint, "make_strategy",
                            (lambda n, supernet=None, _m=make, **kw: _m(n, **kw)) if label == "old" else make)
        runs[label] = train_supernet(tmp_path / label, strategy=name, strategy_kwargs=kwargs, epochs=1, seed=3, **TINY)
    new, old = runs["new"], runs["old"]
    for key in ("loss", "accuracy", "entropy", "max_weight", "derived", "weights"):
        assert new.history[0].get(key) == old.history[0].get(key), key
    assert _same([p for p in new.supernet.parameters()], [p for p in old.supernet.parameters()])
    assert new.config["space"] == "nb201"
