"""gcnas's counts and synflow agree with NAS-Bench-Suite-Zero's published scores (shared data)."""

from __future__ import annotations

import csv

import pytest
from scipy.stats import spearmanr

from gcnas.predictors.features import cell_features
from gcnas.spaces.nb201 import Arch



@pytest.fixture(scope="module")
def rows():
    from tests.conftest import shared_file

    with open(shared_file("nb201/nb201_zc_suite_zero.csv")) as handle:
        return [r for r in csv.DictReader(handle) if r["dataset"] == "cifar10"]


def test_params_and_flops_rank_as_published_on_every_cell(rows):
    archs = [Arch.parse(r["arch"]) for r in rows]
    ours = cell_features(archs, names=["params", "flops"], progress=False)
    assert spearmanr(ours["params"], [float(r["params"]) for r in rows])[0] > 0.999
    assert spearmanr(ours["flops"], [float(r["flops"]) for r in rows])[0] > 0.99


def test_synflow_ranks_as_published(rows):
    sample = rows[:24]  # data-free and deterministic: a few cells show the agreement
    ours = cell_features([Arch.parse(r["arch"]) for r in sample], names=["synflow"], progress=False)["synflow"]
    assert spearmanr(ours, [float(r["synflow"]) for r in sample])[0] >= 0.95
