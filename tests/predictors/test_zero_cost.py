"""Zero-cost proxies: reproducible, and they separate a dead cell from a convolutional one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.predictors.zero_cost import jacov, naswot, synflow, zero_cost_scores
from gcnas.spaces.nb201 import Arch

SHAPE = dict(channels=4, cells=1)
CONV = Arch((3,) * 6)
DEAD = Arch((0,) * 6)
SKIP = Arch((1,) * 6)


@pytest.fixture(scope="module")
def images():
    return torch.randn(16, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def test_synflow_orders_parameter_flow_and_is_seeded():
    conv, skip, dead = (synflow(a, image_size=8, **SHAPE) for a in (CONV, SKIP, DEAD))
    assert conv > skip > dead >= 0  # no path through the cells: nothing flows to the stem
    assert synflow(CONV, image_size=8, **SHAPE) == conv
    assert np.isfinite(synflow(CONV, image_size=32))  # the full NAS-Bench-201 network, in float64


def test_naswot_separates_images_only_through_live_cells(images):
    conv, dead = naswot(CONV, images, **SHAPE), naswot(DEAD, images, **SHAPE)
    assert np.isfinite(conv) and conv > dead
    assert naswot(CONV, images, **SHAPE) == conv
    assert naswot(CONV, images, seed=1, **SHAPE) != conv


def test_jacov_is_seeded_and_ranks_a_dead_cell_last(images):
    conv, skip, dead = (jacov(a, images, **SHAPE) for a in (CONV, SKIP, DEAD))
    assert np.isfinite(conv) and np.isfinite(skip) and dead == -np.inf  # no input gradient through dead cells
    assert jacov(CONV, images, **SHAPE) == conv
    assert jacov(CONV, images, seed=1, **SHAPE) != conv


def test_scores_for_many_cells_and_bad_names(images):
    seen = []
    scores = zero_cost_scores([CONV, DEAD], images, progress=False, callback=lambda i, row: seen.append(i), **SHAPE)
    assert set(scores) == {"synflow", "naswot", "jacov"} and seen == [0, 1]
    assert scores["synflow"][0] == synflow(CONV, image_size=8, **SHAPE)
    with pytest.raises(InvalidInputError, match="unknown zero-cost proxy"):
        zero_cost_scores([CONV], images, proxies=["grasp"])
    with pytest.raises(InvalidInputError, match="must be a nb201 architecture"):
        synflow("|nor_conv_3x3~0|")
