"""The five strategies on the DARTS supernet (both cell types, ``none`` in the mixed op).

Tiny settings throughout: 8x8 digits, C=4, 3 cells (one normal, two reduction), two steps.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gcnas.data.images import ImageDataset, ImageSplit
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts import OPS, Genotype, parse_genotype
from gcnas.spaces.darts.primitives import PRIMITIVES
from gcnas.spaces import get_space
from gcnas.spaces.darts.supernet import DartsSuperNet, ScaledPath, path_indices
from gcnas.supernet import STRATEGIES, NASP, Uniform, load_supernet, make_strategy, train_supernet

KWARGS = {"uniform": {}, "gaea": {"arch_lr": 3.0}, "darts": {"arch_lr": 0.05}, "snas": {"arch_lr": 0.05},
          "nasp": {"arch_lr": 0.05}}
"""Step sizes large enough that two steps move the architecture weights visibly."""

SETTINGS = dict(dataset="digits", supernet=DartsSuperNet, channels=4, cells=3, batch_size=16, steps_per_epoch=2,
                epochs=1, device="cpu", progress=False)


@pytest.fixture(scope="module")
def digits8(digits) -> ImageDataset:
    """96 + 96 + 32 digits, average-pooled to 8x8."""
    def shrink(split: ImageSplit, n: int) -> ImageSplit:
        x = F.avg_pool2d(split.x[:n].float(), 2).round().to(torch.uint8)
        return ImageSplit(x, split.y[:n], split.mean, split.std)
    return ImageDataset("digits", shrink(digits.train, 96), shrink(digits.valid, 96), shrink(digits.test, 32), 10)


def _batches(n: int, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(6, 3, 8, 8, generator=g), torch.randint(0, 10, (6,), generator=g)) for _ in range(n)]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_train_supernet_runs_every_strategy_on_darts(name, digits8, tmp_path):
    trained = train_supernet(tmp_path, strategy=name, strategy_kwargs=KWARGS[name], data=digits8, **SETTINGS)
    assert isinstance(trained.supernet, DartsSuperNet) and trained.config["space"] == "darts"
    record = trained.history[-1]
    assert math.isfinite(record["loss"]) and 0 <= record["accuracy"] <= 100
    strategy = trained.strategy
    if name == "uniform":
        assert strategy.probabilities() is None and record["entropy"] is None
        return
    fresh = make_strategy(name, seed=0, supernet=DartsSuperNet, **KWARGS[name])
    (before,), (after,) = fresh.arch_parameters(), strategy.arch_parameters()
    assert before.shape == after.shape == (28, 8)
    moved = (after - before).abs()
    assert moved.max() > 1e-3                                  # the architecture weights learned
    assert (moved[:, 1:].amax(1) > 0).sum() >= 16              # on many edges (path: 16 of NASP's)
    genotype = trained.derive()
    assert isinstance(genotype, Genotype)                      # two edges per node, no 'none'
    assert all(op in OPS for op, _ in genotype.normal + genotype.reduce)
    assert parse_genotype(record["derived"]) == genotype
    assert torch.tensor(record["weights"]).shape == (28, 8)
    assert 0 < record["entropy"] <= math.log(8) + 1e-9


def test_darts_run_resumes_and_loads_with_its_supernet(digits8, tmp_path):
    whole = train_supernet(tmp_path / "whole", strategy="uniform", data=digits8, **{**SETTINGS, "epochs": 2})
    part = dict(SETTINGS, epochs=2)
    calls = []

    def stop_after_first(record):
        calls.append(record)
        if len(calls) == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train_supernet(tmp_path / "cut", strategy="uniform", data=digits8, callback=stop_after_first, **part)
    resumed = train_supernet(tmp_path / "cut", strategy="uniform", data=digits8, resume=True, **part)
    for a, b in zip(whole.supernet.state_dict().values(), resumed.supernet.state_dict().values()):
        assert torch.equal(a, b)                               # the fair queue of genotypes resumed exactly
    assert [r["loss"] for r in whole.history] == [r["loss"] for r in resumed.history]

    loaded = load_supernet(tmp_path / "whole", supernet=DartsSuperNet)
    assert isinstance(loaded.supernet, DartsSuperNet) and loaded.config["space"] == "darts"
    assert isinstance(load_supernet(tmp_path / "whole").supernet, DartsSuperNet)   # the run's space decides
    with pytest.raises(InvalidInputError, match="'darts' space.*supernet=DartsSuperNet"):
        load_supernet(tmp_path / "whole", supernet=get_space("nb201").supernet_class())   # another space's class
    with pytest.raises(InvalidInputError, match="trained with space='darts', not 'nb201'"):
        train_supernet(tmp_path / "whole", strategy="uniform", data=digits8, resume=True,
                       **{**SETTINGS, "supernet": None, "epochs": 2})


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_each_strategy_routes_the_darts_supernet(name):
    torch.manual_seed(0)
    net = DartsSuperNet(C=4, layers=3)
    strategy = make_strategy(name, seed=1, supernet=net, **KWARGS[name])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    routes = []

    def model(x, route):
        routes.append(route)
        return net(x, route)
    batches = _batches(4)
    for k in range(2):
        loss, logits = strategy.train_step(model, *batches[2 * k], optimizer, valid=batches[2 * k + 1])
        assert torch.isfinite(loss) and logits.shape == (6, 10)
    expected = {"uniform": Genotype, "gaea": torch.Tensor, "darts": torch.Tensor, "snas": torch.Tensor,
                "nasp": ScaledPath}[name]
    assert routes and all(isinstance(r, expected) for r in routes)
    if expected is torch.Tensor:
        for r in routes:
            assert r.shape == (28, 8) and torch.allclose(r.detach().sum(1), torch.ones(28), atol=1e-5)


def test_uniform_on_darts_visits_every_op_of_every_slot():
    strategy = Uniform(supernet=DartsSuperNet, seed=0)       # fair: every op once per 7 draws in each slot
    for _ in range(3):
        block = [strategy.route() for _ in range(len(OPS))]
        for cell in ("normal", "reduce"):
            for slot in range(8):
                assert sorted(g.cell(cell)[slot][0] for g in block) == sorted(OPS)
    code = Uniform(supernet=DartsSuperNet, sampling="code", seed=0)
    draws = [code.route() for _ in range(150)]
    assert all(isinstance(g, Genotype) and g == g.canonical() for g in draws)
    assert {op for g in draws for op, _ in g.normal + g.reduce} == set(OPS)
    assert {g.normal[6][1] for g in draws} | {g.normal[7][1] for g in draws} == {0, 1, 2, 3, 4}
    again = Uniform(supernet=DartsSuperNet, sampling="code", seed=0)
    assert draws == [again.route() for _ in range(150)]        # seeded
    no_conv5 = Uniform(supernet=DartsSuperNet, exclude_ops=["none", "sep_conv_5x5"], seed=1)
    ops = {op for _ in range(30) for op, _ in no_conv5.route().normal}
    assert ops == set(OPS) - {"sep_conv_5x5"}
    with pytest.raises(InvalidInputError, match="nor_conv_3x3.*ops are none, max_pool_3x3"):
        Uniform(supernet=DartsSuperNet, exclude_ops=["nor_conv_3x3"])
    with pytest.raises(InvalidInputError, match="no op to train"):
        Uniform(supernet=DartsSuperNet, exclude_ops=list(PRIMITIVES))


def test_uniform_fair_queue_survives_a_checkpoint_on_darts():
    strategy = Uniform(supernet=DartsSuperNet, seed=4)
    [strategy.route() for _ in range(3)]
    restored = Uniform(supernet=DartsSuperNet, seed=99)
    restored.load_state_dict(strategy.state_dict())
    assert [restored.route() for _ in range(10)] == [strategy.route() for _ in range(10)]
    with pytest.raises(InvalidInputError, match="'darts' supernet, not 'nb201'"):
        Uniform(seed=4).load_state_dict(strategy.state_dict())


def test_nasp_proximal_step_picks_one_op_per_edge_and_two_edges_per_node():
    nasp = NASP(supernet=DartsSuperNet, seed=0)
    with torch.no_grad():
        nasp.alpha.fill_(0.1)
        nasp.alpha[:, 0] = 0.9                                 # 'none' strongest everywhere: never chosen
        nasp.alpha[9 + 3, 6] = 0.8                             # normal node 5: input 3 by dil_conv_3x3
        nasp.alpha[9 + 1, 2] = 0.7                             # ... and input 1 by avg_pool_3x3
        nasp.alpha[14 + 0, 4] = 0.6                            # reduction node 2: input 0 by sep_conv_3x3
    route = nasp.route()
    assert isinstance(route, ScaledPath) and route.genotype == nasp.derive()
    assert route.genotype.normal[6:] == (("dil_conv_3x3", 3), ("avg_pool_3x3", 1))
    assert route.genotype.reduce[0] == ("sep_conv_3x3", 0)
    on_path = torch.zeros(28, 8)
    for row, k in path_indices(route.genotype):
        on_path[row, k] = 1.0
    assert torch.equal(route.weights.detach(), on_path)       # one-hot: 16 entries, one op per chosen edge
    per_node = [int(on_path[rows].sum()) for start in (0, 14) for rows in
                (slice(start, start + 2), slice(start + 2, start + 5), slice(start + 5, start + 9),
                 slice(start + 9, start + 14))]
    assert per_node == [2] * 8


@pytest.mark.parametrize("arch_grad", ["full", "path"])
def test_nasp_arch_gradient_on_darts(arch_grad):
    torch.manual_seed(0)
    net = DartsSuperNet(C=4, layers=3)
    nasp = NASP(supernet=net, seed=2, arch_grad=arch_grad, arch_lr=0.05)
    x, y = _batches(1)[0]
    route = nasp.route()
    F.cross_entropy(net(x, route), y).backward()
    grad = nasp._discrete.grad
    on_path = nasp.routes.one_hot(route.genotype).bool()
    off_path = ~on_path
    off_path[:, 0] = False                                     # 'none' contributes nothing
    assert (grad[on_path] != 0).any()
    if arch_grad == "full":                                    # every op of every edge gets d loss / d A_bar
        assert (grad[off_path] != 0).float().mean() > 0.9
    else:
        assert (grad[off_path] == 0).all()
    with torch.no_grad():
        plain = net.eval()(x, route.genotype)
        assert torch.allclose(net(x, route), plain, atol=1e-6)   # the scaled route is the path
