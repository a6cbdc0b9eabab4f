"""The IMC supernet: elastic depth, width and kernel; inherited weights equal the standalone network's;
its routes; only ``uniform`` trains it; the CLI chain (train, sample) at toy size."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.spaces import get_space
from gcnas.spaces.imc import BLOCKS, parse_macro
from gcnas.spaces.imc.network import MacroNetwork
from gcnas.spaces.imc.supernet import ElasticBatchNorm2d, MacroRoutes, MacroSuperNet
from gcnas.supernet import make_strategy, sample_subnets_sharded, train_supernet
from gcnas.supernet.score import ScoringSource

ARCHS = [parse_macro(text) for text in (
    "vgg-d2-k3-w100/basic-d1-k5-w60/bottleneck-d3-k7-w20/vgg-d1-k3-w80",
    "basic-d3-k7-w100/basic-d2-k3-w40/basic-d1-k5-w100/basic-d3-k3-w20",        # stage 0 identity shortcut
    "bottleneck-d1-k5-w20/bottleneck-d3-k3-w100/vgg-d2-k7-w40/bottleneck-d1-k7-w60",
    "basic-d1-k3-w20/vgg-d3-k5-w20/bottleneck-d2-k3-w80/basic-d2-k7-w100",
    "bottleneck-d3-k7-w100/vgg-d1-k3-w100/basic-d3-k5-w100/vgg-d3-k7-w100",     # the largest of depth 3
)]
TOY = ["--dataset", "synthetic", "--channels", "4", "--cells", "2", "--epochs", "1", "--steps-per-epoch", "2",
       "--batch-size", "8", "--device", "cpu"]
GRADIENT = ("gaea", "darts", "snas", "nasp")


@pytest.fixture(scope="module")
def trained_net():
    """A tiny supernet whose weights and BatchNorm statistics moved: a few SGD steps along random paths."""
    torch.manual_seed(0)
    net = MacroSuperNet(channels=4, cells=3, num_classes=5)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    for step in range(6):
        x, y = torch.randn(8, 3, 12, 12), torch.randint(0, 5, (8,))
        opt.zero_grad()
        F.cross_entropy(net(x, ARCHS[step % len(ARCHS)] if step < 5 else net.routes.sample_arch(rng)), y).backward()
        opt.step()
    return net.eval()


@pytest.mark.parametrize("arch", ARCHS, ids=str)
def test_inherited_weights_give_the_standalone_networks_logits(trained_net, arch):
    standalone = MacroNetwork(arch, channels=4, num_classes=5)
    standalone.load_state_dict(trained_net.subnet_state(arch))      # strict: the same keys and shapes
    x = torch.randn(4, 3, 12, 12)
    torch.testing.assert_close(standalone.eval()(x), trained_net(x, arch), atol=1e-5, rtol=0)


def test_subnet_state_is_a_copy_of_the_first_channels_and_centre_kernel(trained_net):
    arch = ARCHS[0]                                        # stage 2: bottleneck, 7x7 kernels, w20 of 16 -> 3
    state = trained_net.subnet_state(arch)
    stored = trained_net.stages[2]["bottleneck"][0].conv2.weight
    assert state["stages.2.0.conv2.weight"].shape == (2, 2, 7, 7)
    assert torch.equal(state["stages.2.0.conv2.weight"], stored[:2, :2])
    centre = trained_net.stages[0]["vgg"][1].conv1.weight[:4, :4, 2:5, 2:5]   # k3 of 7: rows 2..4
    assert torch.equal(state["stages.0.1.conv1.weight"], centre)
    state["stages.0.1.conv1.weight"].add_(1.0)
    assert torch.equal(trained_net.stages[0]["vgg"][1].conv1.weight[:4, :4, 2:5, 2:5], centre)


def test_one_step_trains_only_the_chosen_branch_blocks_and_slices():
    torch.manual_seed(0)
    net = MacroSuperNet(channels=4, cells=3, num_classes=5)
    arch = parse_macro("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d3-k7-w20/basic-d1-k3-w80")
    F.cross_entropy(net(torch.randn(4, 3, 8, 8), arch), torch.tensor([0, 1, 2, 3])).backward()
    touched = {".".join(name.split(".")[2:4])
               for name, p in net.named_parameters() if name.startswith("stages.0.") and p.grad is not None}
    assert touched == {"basic.0", "basic.1"}                     # stage 0: 2 basic blocks, nothing else
    grad = net.stages[0]["basic"][0].conv1.weight.grad           # width 60% of 4 -> 2 channels, centre 3x3
    assert grad[:2, :, 2:5, 2:5].abs().sum() > 0
    outside = grad.clone()
    outside[:2, :, 2:5, 2:5] = 0
    assert outside.abs().sum() == 0
    assert net.classifier.weight.grad[:, 26:].abs().sum() == 0 and net.classifier.weight.grad[:, :26].abs().sum() > 0


def test_batchnorm_updates_the_statistics_of_its_first_channels_only():
    bn = ElasticBatchNorm2d(6)
    bn(torch.randn(16, 4, 3, 3) + 5.0)
    assert (bn.running_mean[:4] > 0.2).all() and torch.equal(bn.running_mean[4:], torch.zeros(2))
    bn.reset_running_stats()
    bn.momentum = None                                     # recalibration: a cumulative average
    for _ in range(2):
        bn(torch.full((2, 3, 1, 1), 2.0))
    assert torch.allclose(bn.running_mean[:3], torch.full((3,), 2.0)) and int(bn.num_batches_tracked) == 2


def test_a_sub_network_deeper_than_cells_is_refused():
    net = MacroSuperNet(channels=2, cells=2)
    deep = parse_macro("vgg-d1-k3-w20/vgg-d3-k3-w20/vgg-d1-k3-w20/vgg-d4-k3-w20")
    for run in (lambda: net(torch.zeros(1, 3, 8, 8), deep), lambda: net.subnet_state(deep)):
        with pytest.raises(InvalidInputError, match=r"stage\(s\) \[1, 3\] deeper than the supernet's 2 block"):
            run()
    with pytest.raises(InvalidInputError, match="an IMC route is a MacroArch"):
        net(torch.zeros(1, 3, 8, 8), str(deep))
    with pytest.raises(InvalidInputError, match="at most 4; got 5"):
        MacroSuperNet(channels=2, cells=5)
    with pytest.raises(InvalidInputError, match="channels must be a positive integer"):
        MacroSuperNet(channels=0)


def test_routes_draw_within_the_depth_and_the_allowed_block_types():
    routes = MacroSuperNet(channels=2, cells=2).routes
    assert routes.max_depth == 2 and MacroSuperNet.routes.max_depth == 4 and routes.arch_shape is None
    g = torch.Generator().manual_seed(0)
    draws = [routes.sample_path(g, torch.tensor([1, 2]), "code") for _ in range(300)]
    assert {s.block for a in draws for s in a.stages} == {"basic", "bottleneck"}
    assert {s.depth for a in draws for s in a.stages} == {1, 2}
    assert {s.kernel for a in draws for s in a.stages} == {3, 5, 7} and len({s.width for a in draws
                                                                              for s in a.stages}) == 5
    block = routes.fair_paths(g, torch.tensor([0, 1, 2]))
    assert len(block) == 3 and all(sorted(a.stages[s].block for a in block) == sorted(BLOCKS) for s in range(4))
    rng = np.random.default_rng(0)
    assert max(s.depth for _ in range(100) for s in routes.sample_arch(rng).stages) == 2
    assert routes.path_from_state(routes.path_state(ARCHS[0])) == ARCHS[0]
    with pytest.raises(InvalidInputError, match="unknown sampling 'fair'"):
        routes.sample_path(g, torch.tensor([0]), "fair")
    with pytest.raises(InvalidInputError, match="block types"):
        routes.sample_path(g, torch.tensor([3]), "code")
    with pytest.raises(InvalidInputError, match="no architecture weights"):
        routes.derive(torch.zeros(1))
    with pytest.raises(InvalidInputError, match="max_depth must be one of 1, 2, 3, 4"):
        MacroRoutes(0)


def test_uniform_trains_it_and_the_gradient_strategies_are_refused(tmp_path):
    net = MacroSuperNet(channels=2, cells=1)
    uniform = make_strategy("uniform", supernet=net, exclude_ops=["vgg"])
    paths = [uniform.route() for _ in range(6)]                 # fair: each stage every block type once per 2 steps
    assert all(s.block != "vgg" and s.depth == 1 for a in paths for s in a.stages)
    for name in GRADIENT:
        with pytest.raises(InvalidInputError, match=f"strategy '{name}' learns architecture weights .* the 'imc' "
                                                     "supernet has none of; train it with --strategy uniform"):
            make_strategy(name, supernet=net)
    with pytest.raises(InvalidInputError, match="train it with --strategy uniform"):
        train_supernet(tmp_path / "run", strategy="gaea", supernet=MacroSuperNet, dataset="synthetic", epochs=1)
    assert not (tmp_path / "run").exists()                      # refused before the data or the run folder
    with pytest.raises(InvalidInputError, match="the 'imc' supernet has none: score its sub-networks"):
        uniform.derive()


def _json(capsys, *argv: str):
    code = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_cli_trains_and_scores_the_imc_supernet_at_toy_size(tmp_path, capsys):
    run = str(tmp_path / "imc")
    trained = _json(capsys, "supernet", "train", "--space", "imc", "--run", run, *TOY)
    assert trained["config"]["space"] == "imc" and trained["config"]["cells"] == 2 and len(trained["history"]) == 1
    rows = _json(capsys, "supernet", "sample", "--run", run, "--num", "5", "--bn-recalibrate", "2", "--limit", "1",
                 "--batch-size", "16", "--device", "cpu")
    space = get_space("imc")
    archs = [space.parse(r["arch"]) for r in rows]
    assert len(rows) == 5 and len(set(archs)) == 5 and all(0 <= r["accuracy"] <= 100 for r in rows)
    assert all(s.depth <= 2 for a in archs for s in a.stages)     # drawn within the supernet's cells
    with RunStore(run) as store:
        assert store.space_name == "imc" and {s.arch for s in store.samples("supernet")} == set(archs)
        assert store.stage("supernet:train")["space"] == "imc"
    code = main(["supernet", "derive", "--run", run])
    err = capsys.readouterr().err
    assert code == 1 and "the 'imc' supernet has none: score its sub-networks" in err

    code = main(["supernet", "train", "--space", "imc", "--strategy", "gaea", "--run", str(tmp_path / "gaea"), *TOY])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "train it with --strategy uniform" in err
    assert not (tmp_path / "gaea").exists()


def test_sharded_scoring_draws_what_the_supernet_runs(tmp_path):
    from gcnas.parallel import make_executor

    run = tmp_path / "imc"
    train_supernet(run, dataset="synthetic", supernet=MacroSuperNet, channels=2, cells=1, epochs=1, batch_size=8,
                   steps_per_epoch=1, device="cpu", progress=False)
    source = ScoringSource(str(run), bn_recalibrate=1, batch_size=16, limit=1)
    with RunStore(run) as store, make_executor("inline") as executor:
        samples = sample_subnets_sharded(store, source, executor, num=3, progress=False)
    assert len(samples) == 3 and all(s.depth == 1 for sample in samples for s in sample.arch.stages)
    assert Path(run, "supernet", "checkpoint.pt").exists()


def test_docstring_examples_run():
    import gcnas.spaces.imc.supernet as module

    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0
