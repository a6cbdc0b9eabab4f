"""ImcSpace: the protocol, notation, neighbours, the layer graph, exact counts, the network and its ONNX export."""

from __future__ import annotations

import doctest
import importlib
import math
import time

import numpy as np
import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import check_space, count_module, get_space
from gcnas.spaces.imc import (DECISIONS, MAX_NODES, NODE_TYPES, NUM_NETWORKS, ImcSpace, MacroArch, Stage, network_blocks,
                              network_counts, network_layers)
from gcnas.spaces.imc.network import MacroNetwork

SPACE = ImcSpace()
EXAMPLE = "basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80"


def test_check_space_passes():
    check_space(SPACE)


def test_size_is_the_product_of_the_decisions_and_is_not_listed():
    assert NUM_NETWORKS == math.prod(d.size for d in SPACE.decisions) == 1_049_760_000 >= 6.4e8
    assert SPACE.size() is None
    with pytest.raises(InvalidInputError, match="cannot be listed"):
        SPACE.enumerate()


def test_get_space_by_name():
    assert get_space("imc") == SPACE and hash(get_space("imc")) == hash(SPACE) and repr(SPACE) == "ImcSpace()"


def test_parse_format_round_trip():
    arch = SPACE.parse(EXAMPLE)
    assert SPACE.format(arch) == SPACE.key(arch) == EXAMPLE and SPACE.canonical(arch) is arch
    rng = np.random.default_rng(0)
    for _ in range(100):
        a = SPACE.sample(rng)
        assert SPACE.parse(SPACE.format(a)) == a
        assert SPACE.from_decisions(SPACE.to_decisions(a)) == a


@pytest.mark.parametrize("text, message", [
    ("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20", "4 stages"),
    ("basic-d2-k3-w60/vgg-d1-k5/bottleneck-d4-k7-w20/basic-d3-k3-w80", "stage 1 .*BLOCK-dDEPTH-kKERNEL-wWIDTH"),
    ("basic-d2-k3-w60/vgg-d1-k5-w100/dense-d4-k7-w20/basic-d3-k3-w80", "stage 2 .*unknown block type 'dense'"),
    ("basic-d5-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80", "stage 0 .*depth must be one of 1, 2, 3"),
    ("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w50", "stage 3 .*width must be one of"),
])
def test_bad_strings_are_refused_with_the_stage_named(text, message):
    with pytest.raises(InvalidInputError, match=message):
        SPACE.parse(text)


def test_bad_decisions_and_values_are_refused():
    with pytest.raises(InvalidInputError, match="expected 16 decision values"):
        SPACE.from_decisions([0] * 15)
    with pytest.raises(InvalidInputError, match="stage2.kernel"):
        SPACE.from_decisions([0] * 10 + [3] + [0] * 5)
    with pytest.raises(InvalidInputError, match="MacroArch"):
        SPACE.format(EXAMPLE)


def test_sample_is_uniform_over_each_decision():
    rng = np.random.default_rng(1)
    values = np.array([SPACE.to_decisions(SPACE.sample(rng)) for _ in range(3000)])
    for i, decision in enumerate(DECISIONS):
        counts = np.bincount(values[:, i], minlength=decision.size)
        assert counts.min() > 0 and counts.max() / counts.min() < 1.3, decision.name


def test_neighbours_are_44_distinct_networks_one_decision_away():
    a = SPACE.parse(EXAMPLE)
    neighbours = SPACE.neighbours(a)
    assert len(neighbours) == len(set(neighbours)) == 44 == sum(d.size - 1 for d in DECISIONS) and a not in neighbours
    base = np.array(SPACE.to_decisions(a))
    assert all(int((np.array(SPACE.to_decisions(n)) != base).sum()) == 1 for n in neighbours)
    rng = np.random.default_rng(0)
    assert all(SPACE.mutate(a, rng) in neighbours for _ in range(20))


def test_graph_of_a_small_network_by_hand():
    # stage 0: one basic block keeping the stem's 32 channels (identity shortcut);
    # stage 1: one bottleneck block (stride 2: projection); stages 2, 3: one vgg block each.
    arch = SPACE.parse("basic-d1-k5-w100/bottleneck-d1-k3-w40/vgg-d1-k7-w20/vgg-d1-k3-w100")
    (graph,) = SPACE.to_graph(arch)
    assert SPACE.graph_names == ("net",)
    types = ["input",
             "conv5x5-w100", "conv5x5-w100", "add",                                   # 1-3
             "down",                                                                  # 4: stage 1 begins
             "conv1x1-w40", "conv3x3-w40", "conv1x1-w40", "conv1x1-w40", "add",       # 5-9 (8: shortcut)
             "down", "conv7x7-w20", "conv7x7-w20",                                    # 10-12
             "down", "conv3x3-w100", "conv3x3-w100",                                  # 13-15
             "output"]                                                                # 16
    assert [NODE_TYPES[i] for i in graph.node_ids] == types
    edges = {(0, 1), (1, 2), (2, 3), (0, 3), (3, 4),
             (4, 5), (5, 6), (6, 7), (7, 9), (4, 8), (8, 9), (9, 10),
             (10, 11), (11, 12), (12, 13), (13, 14), (14, 15), (15, 16)}
    assert {(int(u), int(v)) for u, v in zip(*np.nonzero(graph.adjacency))} == edges
    assert graph.features.dtype == np.float32 and graph.adjacency.dtype == np.uint8


def test_max_nodes_is_reached_and_never_exceeded():
    assert SPACE.max_nodes == MAX_NODES == 73 and len(NODE_TYPES) == 24
    largest = MacroArch((Stage("bottleneck", 4, 3, 20),) * 4)
    assert SPACE.to_graph(largest)[0].num_nodes == MAX_NODES
    rng = np.random.default_rng(2)
    assert max(SPACE.to_graph(SPACE.sample(rng))[0].num_nodes for _ in range(500)) <= MAX_NODES


@pytest.mark.parametrize("channels", [3, 32])
def test_graph_has_the_networks_convolutions(channels):
    rng = np.random.default_rng(3)
    for _ in range(10):
        arch = SPACE.sample(rng)
        convs = sum(isinstance(m, torch.nn.Conv2d) for m in MacroNetwork(arch, channels=channels).modules())
        (graph,) = SPACE.to_graph(arch)
        conv_nodes = sum(NODE_TYPES[i].startswith("conv") for i in graph.node_ids)
        assert conv_nodes == convs - 1  # the stem is the input node


def test_graphs_tell_apart_networks_that_split_a_vgg_run_differently():
    a = SPACE.parse("vgg-d2-k3-w60/vgg-d1-k3-w60/vgg-d1-k3-w20/vgg-d1-k3-w20")
    b = SPACE.parse("vgg-d1-k3-w60/vgg-d2-k3-w60/vgg-d1-k3-w20/vgg-d1-k3-w20")
    (ga,), (gb,) = SPACE.to_graph(a), SPACE.to_graph(b)
    assert ga.num_nodes == gb.num_nodes and not (np.array_equal(ga.node_ids, gb.node_ids)
                                                 and np.array_equal(ga.adjacency, gb.adjacency))


@pytest.mark.parametrize("channels, num_classes, input_size", [(32, 10, 32), (6, 7, 9)])
def test_analytic_counts_equal_count_module(channels, num_classes, input_size):
    rng = np.random.default_rng(4)
    for _ in range(50):
        arch = SPACE.sample(rng)
        net = MacroNetwork(arch, channels=channels, num_classes=num_classes)
        for rule in ("torchstat", "macs"):
            counted = count_module(net, (3, input_size, input_size), rule=rule)
            params, flops = network_counts(arch, channels=channels, num_classes=num_classes, input_size=input_size,
                                           rule=rule)
            assert params == counted.params
            assert flops == pytest.approx(counted.flops, rel=1e-9)


def test_layer_names_are_the_networks_leaf_modules():
    arch = SPACE.parse(EXAMPLE)
    net = MacroNetwork(arch)
    leaves = {name for name, m in net.named_modules() if not any(True for _ in m.children())}
    assert [layer.name for layer in network_layers(arch)][:3] == ["stem.0", "stem.1", "stem.2"]
    assert {layer.name for layer in network_layers(arch)} == leaves


def test_costs_are_the_counts_in_millions_and_fast():
    arch = SPACE.parse(EXAMPLE)
    assert SPACE.costs(arch) == {"params": 2.13781, "flops": 85.382551}
    macs = SPACE.costs(arch, rule="macs", input_size=16, num_classes=100)
    assert macs["params"] == pytest.approx(network_counts(arch, num_classes=100, rule="macs")[0] / 1e6)
    archs = [SPACE.sample(seed) for seed in range(500)]
    start = time.perf_counter()
    for a in archs:
        network_counts(a)
    assert (time.perf_counter() - start) / len(archs) < 5e-3  # about 0.2 ms here; a forward pass takes ~50x more
    with pytest.raises(InvalidInputError, match="unknown counting rule"):
        network_counts(arch, rule="flops")


def test_blocks_downsample_and_project_where_the_structure_says():
    blocks = network_blocks(SPACE.parse(EXAMPLE), channels=32)
    assert [(b.stage, b.stride, b.in_channels, b.width, b.projection) for b in blocks[:4]] == [
        (0, 1, 32, 19, True), (0, 1, 19, 19, False), (1, 2, 19, 64, False), (2, 2, 64, 26, True)]
    assert blocks[3].convs == ((64, 13, 1, 1), (13, 13, 7, 2), (13, 26, 1, 1))


@pytest.mark.parametrize("block", ["vgg", "basic", "bottleneck"])
def test_forward_shape(block):
    arch = MacroArch((Stage(block, 2, 3, 60), Stage(block, 1, 5, 100), Stage(block, 1, 7, 20), Stage(block, 1, 3, 40)))
    net = SPACE.network(arch, channels=8)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    small = SPACE.network(arch, cells=None, channels=4, num_classes=3).eval()  # 1x1 maps in stage 3: eval BN
    assert small(torch.randn(1, 3, 8, 8)).shape == (1, 3)


def test_network_refuses_cells():
    with pytest.raises(InvalidInputError, match="depth .* is part of the architecture"):
        SPACE.network(SPACE.parse(EXAMPLE), cells=5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the TorchScript exporter, as gcnas.supernet.export uses it
def test_onnx_export_gives_the_same_logits(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    net = SPACE.network(SPACE.parse(EXAMPLE), channels=8).eval()
    images = torch.randn(2, 3, 32, 32)
    path = tmp_path / "imc.onnx"
    torch.onnx.export(net, (images,), str(path), dynamo=False, opset_version=17, input_names=["images"],
                      output_names=["logits"], dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    check = torch.randn(3, 3, 32, 32)
    (logits,) = session.run(None, {"images": check.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, net(check).numpy(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("module", ["arch", "network", "counts", "graph", "space"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"gcnas.spaces.imc.{module}"))
    assert result.failed == 0 and result.attempted > 0
