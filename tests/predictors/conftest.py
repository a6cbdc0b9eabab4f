"""Fixtures of the predictor tests: a full-space latency table and a cheap fitted predictor."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.spaces.nb201 import NB201Space


def synthetic_latency(archs) -> np.ndarray:
    """A latency-like cost that adds up per op, with a little seeded noise."""
    per_op = np.array([0.0, 0.05, 0.4, 1.0, 0.2])
    ops = np.array([a.ops for a in archs])
    noise = np.random.default_rng(7).normal(0, 0.02, len(archs))
    return 1.0 + per_op[ops].sum(1) + np.abs(noise)


@pytest.fixture(scope="session")
def latency_csv(tmp_path_factory):
    """A latency table over all 15,625 architectures (column ``cpu``), in the CSV format."""
    from gcnas.data import BenchmarkTable

    archs = NB201Space().all_archs()
    table = BenchmarkTable.from_columns([a.code for a in archs], archs, {"cpu": synthetic_latency(archs)})
    return table.to_csv(tmp_path_factory.mktemp("latency") / "latency.csv")


@pytest.fixture(scope="session")
def fitted_gbt():
    """A small gradient-boosted-trees predictor fitted to a smooth synthetic accuracy."""
    from gcnas.predictors import GBTPredictor

    archs = NB201Space().sample_many(120, seed=1)
    quality = np.array([[0.0, 0.5, 0.8, 1.0, 0.3][op] for a in archs for op in a.ops]).reshape(-1, 6)
    return GBTPredictor(n_estimators=50, ensemble=2, seed=0).fit(archs, 70 + 4 * quality.sum(1))
