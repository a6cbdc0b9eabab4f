"""Counts without building the network equal counting the built network, for every shape and rule."""

from __future__ import annotations

import pytest

from gcnas.spaces.counts import count_module
from gcnas.spaces.darts import SHAPES, DartsSpace
from gcnas.spaces.darts.counts import network_counts
from gcnas.spaces.darts.network import NetworkCIFAR

SPACE = DartsSpace()


@pytest.mark.parametrize(("shape", "input_size", "rule"), [
    (SHAPES["nb301"], 32, "torchstat"),
    (SHAPES["nb301"], 16, "macs"),
    (SHAPES["darts"], 32, "macs"),        # the auxiliary head: counted in macs' params, idle under torchstat
    (SHAPES["darts"], 32, "torchstat"),
    (dict(C=8, layers=5, num_classes=7, affine=True, pool_bn=False), 20, "torchstat"),  # odd maps after a reduction
])
def test_counts_equal_the_built_network(shape, input_size, rule):
    for seed in range(4):
        genotype = SPACE.sample(seed)
        built = count_module(NetworkCIFAR(genotype, **shape), (3, input_size, input_size), rule=rule)
        assert network_counts(genotype, shape, input_size=input_size, rule=rule) == (built.params, built.flops)


def test_counts_change_with_the_ops():
    light, heavy = SPACE.sample(0), SPACE.sample(0)
    light = type(light)(normal=tuple(("skip_connect" if i % 2 else "max_pool_3x3", s)
                                     for i, (_, s) in enumerate(light.normal)), reduce=light.reduce)
    heavy = type(heavy)(normal=tuple(("sep_conv_5x5", s) for _, s in heavy.normal), reduce=heavy.reduce)
    assert network_counts(light, SHAPES["nb301"])[0] < network_counts(heavy, SHAPES["nb301"])[0]
