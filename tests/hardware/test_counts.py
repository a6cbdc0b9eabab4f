"""Params and FLOPs: the analytic counts against the real networks (ours and the official)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.data.images import DATASET_SHAPES as DATASETS
from gcnas.spaces.nb201.counts import network_costs, network_costs_many, network_layers
from gcnas.spaces.nb201 import Arch, NB201Space

ALL_CONV3 = Arch((3,) * 6)
ALL_NONE = Arch((0,) * 6)


def _hooked_flops(model: torch.nn.Module, size: int) -> float:
    """NAS-Bench-201's FLOP rule measured on a real forward pass: Conv2d and Linear MACs."""
    total = [0]

    def conv_hook(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        total[0] += k * module.in_channels * output.numel() // module.groups
        if module.bias is not None:
            total[0] += output.numel()

    def linear_hook(module, inputs, output):
        total[0] += module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)

    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(conv_hook)
        elif isinstance(module, torch.nn.Linear):
            module.register_forward_hook(linear_hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    return total[0] / 1e6


def test_published_extremes_cifar10():
    # NAS-Bench-201 (xautodl get_model_infos): all-conv3x3 1.531546 M params, 220.11969 M FLOPs;
    # the smallest network (no conv in the cell) 0.073306 M / 7.78305 M.
    assert network_costs(ALL_CONV3) == pytest.approx({"params_m": 1.531546, "flops_m": 220.11969}, abs=1e-9)
    assert network_costs(ALL_NONE) == pytest.approx({"params_m": 0.073306, "flops_m": 7.78305}, abs=1e-9)


@pytest.mark.parametrize("dataset,params,flops", [
    ("cifar100", 1.537396, 220.12554),
    ("imagenet16-120", 1.538696, 55.03756),
])
def test_other_datasets(dataset, params, flops):
    classes, size = DATASETS[dataset]
    got = network_costs(ALL_CONV3, num_classes=classes, input_size=size)
    assert got == pytest.approx({"params_m": params, "flops_m": flops}, abs=1e-9)


def test_vectorised_over_whole_space_matches_single():
    archs = NB201Space().all_archs()
    table = network_costs_many(archs)
    assert table["params_m"].shape == (15625,)
    assert table["params_m"].min() == pytest.approx(0.073306)
    assert table["flops_m"].max() == pytest.approx(220.11969)
    for code in (0, 1234, 9999, 15624):
        single = network_costs(archs[code])
        assert table["params_m"][code] == single["params_m"]
        assert table["flops_m"][code] == single["flops_m"]
    # NAS-Bench-201 counts every edge's module, dead or alive: costs depend on the op
    # multiset only, so reversing the edge order changes nothing
    flipped = network_costs_many([Arch(a.ops[::-1]) for a in archs[:500]])
    np.testing.assert_array_equal(flipped["flops_m"], table["flops_m"][:500])


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_matches_build_network(dataset):
    from gcnas.spaces.nb201 import build_network

    classes, size = DATASETS[dataset]
    for arch in NB201Space().sample_many(3, seed=1) + [ALL_CONV3]:
        model = build_network(arch, num_classes=classes)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        want = network_costs(arch, num_classes=classes, input_size=size)
        assert want["params_m"] == pytest.approx(params, abs=1e-12)
        # build_network skips dead edges, so its FLOPs can only be lower; with every edge
        # alive (all conv) they must be equal.
        hooked = _hooked_flops(model, size)
        assert hooked <= want["flops_m"] + 1e-9
        if arch == ALL_CONV3:
            assert hooked == pytest.approx(want["flops_m"], abs=1e-9)


def test_matches_official_xautodl():
    xautodl = pytest.importorskip("xautodl.models", reason="xautodl (official NAS-Bench-201 code) not importable")
    from xautodl.utils import get_model_infos

    for arch in NB201Space().sample_many(3, seed=2) + [ALL_CONV3, ALL_NONE]:
        for dataset, (classes, size) in DATASETS.items():
            net = xautodl.get_cell_based_tiny_net(
                {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": str(arch), "num_classes": classes})
            flops, params = get_model_infos(net, (1, 3, size, size))
            got = network_costs(arch, num_classes=classes, input_size=size)
            assert got["params_m"] == pytest.approx(params, abs=1e-9), (arch, dataset)
            assert got["flops_m"] == pytest.approx(flops, abs=1e-9), (arch, dataset)


def test_layers_sum_to_totals():
    layers = network_layers(ALL_CONV3)
    assert sum(layer.macs for layer in layers) / 1e6 == pytest.approx(220.11969)
    assert sum(layer.params for layer in layers) / 1e6 == pytest.approx(1.531546)
    assert layers[0].name == "stem"


@pytest.mark.parametrize("kwargs,match", [
    ({"channels": 0}, "channels"),
    ({"cells": 1.5}, "cells"),
    ({"input_size": 2}, "input_size"),
])
def test_bad_network_arguments(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        network_costs(ALL_CONV3, **kwargs)


def test_bad_arch():
    with pytest.raises(InvalidInputError, match="Arch"):
        network_costs("|nor_conv_3x3~0|")  # type: ignore[arg-type]
