"""The analytic energy model and the NVML path (absent on CPU machines)."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.hardware import EnergyModel, estimate_energy, measure_energy, nvml_available
from gcnas.spaces.nb201.counts import network_layers
from gcnas.spaces.nb201 import Arch, NB201Space

ALL_CONV3 = Arch((3,) * 6)


def test_energy_is_the_documented_sum():
    model = EnergyModel()
    layers = network_layers(ALL_CONV3)
    expected_pj = sum(4.6 * l.macs + 0.9 * l.elementwise + 5.0 * (l.reads + l.writes) + 640.0 * l.params
                      for l in layers)
    assert model.energy_mj([ALL_CONV3])[0] == pytest.approx(expected_pj * 1e-9, rel=1e-12)
    parts = model.breakdown(ALL_CONV3)
    assert sum(parts.values()) == pytest.approx(expected_pj * 1e-9, rel=1e-12)


def test_energy_orders_cells_sensibly():
    ops = {name: Arch((i,) * 6) for i, name in enumerate(("none", "skip", "conv1", "conv3", "pool"))}
    energy = dict(zip(ops, estimate_energy(list(ops.values()))))
    assert energy["none"] < energy["skip"] < energy["pool"] < energy["conv1"] < energy["conv3"]
    assert estimate_energy([ALL_CONV3], precision="int8")[0] < energy["conv3"] / 3


def test_energy_vectorised_matches_layers_over_space():
    archs = NB201Space().sample_many(50, seed=4)
    vector = EnergyModel().energy_mj(archs)
    single = np.array([sum(EnergyModel().breakdown(a).values()) for a in archs])
    np.testing.assert_allclose(vector, single, rtol=1e-12)
    assert (vector > 0).all()


def test_energy_model_bad_input():
    with pytest.raises(InvalidInputError, match="mac_pj"):
        EnergyModel(mac_pj=-1.0)
    with pytest.raises(InvalidInputError, match="unknown energy model preset 'fp64'"):
        EnergyModel.preset("fp64")


def test_nvml_absent_is_a_clear_error():
    available, why = nvml_available()
    if available:
        pytest.skip("NVML present on this machine; the absent path cannot be exercised")
    assert "NVML" in why and "model" in why
    with pytest.raises(DataNotFoundError):
        measure_energy(ALL_CONV3, device="cuda")
    with pytest.raises(InvalidInputError, match="CUDA device"):
        measure_energy(ALL_CONV3, device="cpu")
