from __future__ import annotations

import itertools
import json
import math

import pytest
import torch
import torch.nn.functional as F

from gcnas.cli import main
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch, NB201Space
from gcnas.supernet import Uniform, checkpoint_path, make_strategy, train_supernet
from gcnas.spaces.nb201 import SuperNet
from gcnas.spaces.nb201.network import live_edges
from gcnas.supernet.strategies import NASP
from gcnas.spaces.nb201.supernet import DiscreteRoute, SearchCell
from tests.supernet.conftest import TINY

PLANTED = Arch.from_string("|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
"""A path with convolutions on live edges, a dead branch and a ``none`` edge."""


def _one_hot(arch: Arch) -> torch.Tensor:
    return F.one_hot(torch.tensor(arch.ops), 5).float()


def _plant(nasp: NASP, arch: Arch) -> None:
    """Make ``arch`` the argmax of A by a wide margin (no single step can change it)."""
    with torch.no_grad():
        nasp.alpha.fill_(0.3)
        nasp.alpha[torch.arange(6), torch.tensor(arch.ops)] = 0.9


def test_registered_and_options_checked():
    assert type(make_strategy("nasp")) is NASP
    nasp = NASP()
    assert nasp.bilevel and nasp.needs_valid and nasp.arch_grad == "full"
    assert not NASP(bilevel=False).needs_valid
    with pytest.raises(InvalidInputError, match="arch_lr must be positive, got 0"):
        NASP(arch_lr=0)
    with pytest.raises(InvalidInputError, match="unknown arch_grad 'mixture'; choose one of full, path"):
        NASP(arch_grad="mixture")
    with pytest.raises(InvalidInputError, match=r"explore must be a probability in \[0, 1\], got 1.5"):
        NASP(explore=1.5)


def test_route_is_the_proximal_step_and_the_box_holds():
    nasp = NASP(seed=3, arch_lr=1.0)
    assert torch.all((nasp.alpha >= 0.49) & (nasp.alpha <= 0.51))      # 0.5 + 1e-3 noise
    route = nasp.route()
    assert isinstance(route, DiscreteRoute) and route.all_ops
    assert route.arch == nasp.derive() == Arch(tuple(nasp.alpha.argmax(1).tolist()))
    torch.testing.assert_close(route.weights, _one_hot(route.arch))
    torch.testing.assert_close(nasp.probabilities().sum(1), torch.ones(6))
    assert nasp.probabilities().argmax(1).tolist() == list(route.arch.ops)
    # a gradient far larger than the box: Adam's first step is arch_lr, then the clip holds
    route.weights.grad = torch.full((6, 5), -1e6)
    route.weights.grad[:, 0] = 1e6
    nasp.update_arch()
    assert torch.all((nasp.alpha >= 0) & (nasp.alpha <= 1))
    assert torch.all(nasp.alpha[:, 0] == 0) and torch.all(nasp.alpha[:, 1:] == 1)
    assert nasp.entropy() == pytest.approx(math.log(4)) and nasp.max_weight() == pytest.approx(0.25)
    # the weight route of the bilevel variant carries no architecture gradient
    weight_route = nasp.weight_route()
    assert not weight_route.all_ops and not weight_route.weights.requires_grad
    assert NASP(bilevel=False).weight_route().weights.requires_grad


def test_explore_draws_other_paths_at_the_given_rate():
    greedy, explorer = NASP(seed=1), NASP(seed=1, explore=0.5)
    assert all(greedy.route().arch == greedy.derive() for _ in range(20))
    routes = [explorer.route().arch for _ in range(400)]
    off = [a for a in routes if a != explorer.derive()]
    assert 150 < len(off) < 250                                # half the steps (an argmax redraw is rare)
    assert {op for a in off for op in a.ops} == {0, 1, 2, 3, 4}


def test_discrete_route_gradient_is_the_relaxed_gradient_at_the_one_hot_point():
    torch.manual_seed(0)
    net = SuperNet(channels=4, cells=1)
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    for arch in [PLANTED, *NB201Space().sample_many(5, seed=1)]:
        mixture, full, path = (_one_hot(arch).requires_grad_() for _ in range(3))
        out_mixture = net(x, mixture)
        out_full = net(x, DiscreteRoute(arch, full, all_ops=True))
        out_path = net(x, DiscreteRoute(arch, path))
        for out, weights in ((out_mixture, mixture), (out_full, full), (out_path, path)):
            F.cross_entropy(out, y).backward()
            torch.testing.assert_close(out, net(x, arch), rtol=1e-5, atol=1e-6)  # the value is the single path
        torch.testing.assert_close(full.grad, mixture.grad, rtol=1e-4, atol=1e-6)
        chosen = _one_hot(arch).bool()
        torch.testing.assert_close(path.grad[chosen], mixture.grad[chosen], rtol=1e-4, atol=1e-6)
        assert torch.all(path.grad[~chosen] == 0)
        assert (full.grad[~chosen] != 0).sum() > 0                       # the other ops have a gradient too


def _op_state(net: SuperNet) -> dict[tuple[int, int, int, str], torch.Tensor]:
    cells = [c for c in net.cells if isinstance(c, SearchCell)]
    return {(c, e, k, name): t.detach().clone() for c, cell in enumerate(cells)
            for e, edge in enumerate(cell.edges) for k, op in enumerate(edge)
            for name, t in itertools.chain(op.named_parameters(), op.named_buffers())}


@pytest.mark.parametrize("arch_grad, bilevel", [("path", True), ("path", False), ("full", True), ("full", False)])
def test_one_step_trains_only_the_chosen_path(arch_grad, bilevel):
    torch.manual_seed(0)
    net = SuperNet(channels=4, cells=1)
    nasp = NASP(seed=0, arch_grad=arch_grad, bilevel=bilevel, arch_lr=0.01)
    _plant(nasp, PLANTED)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    cells = [c for c in net.cells if isinstance(c, SearchCell)]
    routes: list[DiscreteRoute] = []
    net.register_forward_pre_hook(lambda m, args: routes.append(args[1]))
    calls: list[tuple[int, int, int, bool]] = []
    weight_step_calls: set[tuple[int, int, int]] = set()

    def record(key: tuple[int, int, int]) -> None:
        calls.append((*key, torch.is_grad_enabled()))
        if len(routes) == (2 if bilevel else 1):
            weight_step_calls.add(key)

    for c, cell in enumerate(cells):
        for e, edge in enumerate(cell.edges):
            for k, op in enumerate(edge):
                op.register_forward_hook(lambda m, i, o, key=(c, e, k): record(key))
    before, alpha_before = _op_state(net), nasp.alpha.detach().clone()
    x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    valid = (torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))) if bilevel else None

    nasp.train_step(net, x, y, optimizer, valid=valid)

    assert [r.arch for r in routes] == [PLANTED] * (2 if bilevel else 1)
    assert len(cells) == 3 and live_edges(PLANTED.ops) == [0, 2, 3, 5]
    path = {(c, e, k) for c in range(3) for e, k in ((0, 2), (2, 3), (3, 1), (5, 4))}
    convs = {(c, e, k) for c in range(3) for e, k in ((0, 2), (2, 3))}
    with_grad = {(c, e, k) for c, e, k, grad in calls if grad}
    assert with_grad == path                                   # backpropagation runs along the path only
    if arch_grad == "path" or bilevel:
        assert weight_step_calls == path                       # the weight update runs one path
    if arch_grad == "path":
        assert {(c, e, k) for c, e, k, _ in calls} == path     # nothing else even runs forward
    else:
        every_op_but_none = {(c, e, k) for c in range(3) for e in range(6) for k in range(1, 5)}
        assert {(c, e, k) for c, e, k, _ in calls} == every_op_but_none
    after = _op_state(net)
    changed = {key[:3] for key in before if not torch.equal(before[key], after[key]) and key[3].endswith("weight")}
    assert changed == convs                                    # the convolutions of the path learned
    for c, e, k, name in before:
        if (c, e, k) not in path and arch_grad == "path":      # not even BatchNorm statistics moved
            assert torch.equal(before[(c, e, k, name)], after[(c, e, k, name)]), (c, e, k, name)
    grads = {(c, e, k) for c, cell in enumerate(cells) for e, edge in enumerate(cell.edges)
             for k, op in enumerate(edge) if any(p.grad is not None for p in op.parameters())}
    assert grads == convs
    moved = (nasp.alpha.detach() != alpha_before)
    chosen = _one_hot(PLANTED).bool()
    if arch_grad == "path":                                    # only the weights of live, non-none chosen ops
        assert moved.nonzero().tolist() == [[0, 2], [2, 3], [3, 1], [5, 4]]
    else:
        assert moved[~chosen].sum() >= 10


@pytest.fixture(scope="module")
def toy(digits):
    """A tiny supernet trained briefly by uniform single-path steps, then frozen; the fixed
    loss of an architecture on 256 validation images is the problem NASP must descend."""
    torch.manual_seed(0)
    net = SuperNet(channels=4, cells=1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    uniform = Uniform(seed=0)
    train = itertools.chain.from_iterable(digits.train.batches(64, shuffle=True, seed=lap) for lap in itertools.count())
    for _ in range(60):
        uniform.train_step(net, *next(train), optimizer)
    x_valid, y_valid = next(digits.valid.batches(256, shuffle=True, seed=123))

    def loss(arch: Arch) -> float:
        with torch.no_grad():                                  # train mode: batch statistics are used
            return float(F.cross_entropy(net(x_valid, arch), y_valid))

    return net, {k: v.clone() for k, v in net.state_dict().items()}, train, loss


class _Ascent(NASP):
    """The bug the toy test must catch: the architecture climbs the loss."""

    def update_arch(self) -> None:
        if self._discrete is not None and self._discrete.grad is not None:
            self._discrete.grad.neg_()
        super().update_arch()


@pytest.mark.parametrize("cls, better", [(NASP, True), (_Ascent, False)])
def test_architecture_moves_toward_lower_validation_loss(toy, digits, cls, better):
    net, weights, train, loss = toy
    net.load_state_dict(weights)
    frozen = torch.optim.SGD(net.parameters(), lr=0.0)         # only the architecture may learn
    nasp = cls(seed=0, arch_lr=3e-3)
    valid = itertools.chain.from_iterable(digits.valid.batches(64, shuffle=True, seed=lap) for lap in itertools.count())
    start = nasp.derive()
    for _ in range(30):
        nasp.train_step(net, *next(train), frozen, valid=next(valid))
    end = nasp.derive()
    assert end != start
    if better:
        assert loss(end) < loss(start) - 0.05, (start, loss(start), end, loss(end))
    else:
        assert loss(end) > loss(start) + 0.05, (start, loss(start), end, loss(end))


def test_resume_equals_uninterrupted_run(tmp_path, digits):
    kwargs = dict(strategy="nasp", epochs=2, seed=5, data=digits,
                  strategy_kwargs={"arch_lr": 0.05, "explore": 0.3}, **TINY)
    whole = train_supernet(tmp_path / "whole", **kwargs)

    class Stop(KeyboardInterrupt):
        pass

    def stop(record):
        raise Stop

    with pytest.raises(Stop):
        train_supernet(tmp_path / "split", callback=stop, **kwargs)
    saved = torch.load(checkpoint_path(tmp_path / "split"), weights_only=True)
    assert saved["epoch"] == 1 and saved["strategy"]["name"] == "nasp" and saved["strategy"]["optimizer"]["state"]
    resumed = train_supernet(tmp_path / "split", resume=True, **kwargs)
    volatile = ("seconds", "images_per_s")
    assert ([{k: v for k, v in r.items() if k not in volatile} for r in resumed.history]
            == [{k: v for k, v in r.items() if k not in volatile} for r in whole.history])
    for name, value in whole.supernet.state_dict().items():
        assert torch.equal(value, resumed.supernet.state_dict()[name]), name
    assert torch.equal(whole.strategy.alpha, resumed.strategy.alpha)
    assert not torch.allclose(whole.strategy.alpha, NASP(seed=5).alpha)   # A learned
    assert whole.history[-1]["derived"] == str(whole.derive())
    with pytest.raises(InvalidInputError, match="trained with strategy 'nasp', not 'darts'"):
        make_strategy("darts").load_state_dict(saved["strategy"])


def test_cli_trains_and_derives(tmp_path, capsys):
    run = str(tmp_path / "run")
    tiny = ["--run", run, "--channels", "4", "--cells", "1", "--epochs", "1", "--batch-size", "32",
            "--steps-per-epoch", "3", "--device", "cpu"]
    assert main(["supernet", "train", "--strategy", "nasp", "--arch-lr", "0.05", "--arch-grad", "path", *tiny,
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["strategy"] == "nasp"
    assert out["config"]["strategy_kwargs"] == {"arch_lr": 0.05, "arch_grad": "path"}
    record = out["history"][0]
    assert math.isfinite(record["loss"]) and record["entropy"] < math.log(5)
    assert [sum(row) for row in record["weights"]] == pytest.approx([1.0] * 6, abs=1e-5)
    assert main(["supernet", "derive", "--run", run, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["string"] == record["derived"]
    assert main(["supernet", "train", "--strategy", "gaea", "--arch-grad", "full",
                 "--run", str(tmp_path / "other")]) == 1
    assert "--arch-grad belongs to --strategy nasp" in capsys.readouterr().err
