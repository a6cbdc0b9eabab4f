"""cost_table / costs: every source spec, and absent data never silently zero."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import BenchmarkTable, RunStore, write_brp_latency, write_help_latency, write_hwnasbench
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.hardware import EnergyModel, cost_table, costs
from gcnas.spaces.nb201.counts import network_costs_many
from gcnas.spaces.nb201 import Arch, NB201Space

ARCHS = NB201Space().sample_many(4, seed=6)
LAT = [1.5, 2.5, 3.5, 4.5]


@pytest.fixture
def csv_path(tmp_path):
    return BenchmarkTable.from_columns([10, 11, 12, 13], ARCHS, {"cpu": LAT, "gpu": [1.0] * 4}).to_csv(
        tmp_path / "lat:ms.csv")  # a colon in the path must not confuse the spec


def test_params_and_flops_always(csv_path):
    table = cost_table(ARCHS)
    assert sorted(table) == ["flops_m", "params_m"]
    np.testing.assert_array_equal(table["flops_m"], network_costs_many(ARCHS)["flops_m"])
    c100 = cost_table(ARCHS, dataset="cifar100")
    assert (c100["params_m"] > table["params_m"]).all()


def test_csv_latency_and_model_energy(csv_path):
    table = cost_table(ARCHS, latency=f"{csv_path}:cpu", energy="model")
    np.testing.assert_allclose(table["latency_ms"], LAT)
    np.testing.assert_allclose(table["energy_mj"], EnergyModel().energy_mj(ARCHS))
    one = costs(ARCHS[2], latency=f"{csv_path}:cpu", energy="model:int8")
    assert one["latency_ms"] == 3.5
    assert one["energy_mj"] == pytest.approx(EnergyModel.preset("int8").energy_mj(ARCHS[2:3])[0])


def test_real_latency_csv(nb201_latency):
    archs = nb201_latency.archs[:5]
    table = cost_table(archs, latency=f"{nb201_latency.path}:gold_6240")
    np.testing.assert_allclose(table["latency_ms"], nb201_latency.values(archs, "gold_6240"))


def test_hwnb_help_brp_sources(tmp_path):
    hw = write_hwnasbench(tmp_path / "hw.pickle", ARCHS, {"cifar10": {"fpga_latency": LAT,
                                                                      "fpga_energy": [9.0, 8.0, 7.0, 6.0]}})
    table = cost_table(ARCHS, latency=f"hwnb:{hw}:fpga", energy=f"hwnb:{hw}:fpga")
    np.testing.assert_allclose(table["latency_ms"], LAT)
    np.testing.assert_allclose(table["energy_mj"], [9.0, 8.0, 7.0, 6.0])
    help_root = write_help_latency(tmp_path / "help", ARCHS, {"pixel3": LAT})
    np.testing.assert_allclose(cost_table(ARCHS, latency=f"help:{help_root}:pixel3")["latency_ms"], LAT)
    brp = write_brp_latency(tmp_path / "brp.pickle", ARCHS, LAT)
    np.testing.assert_allclose(cost_table(ARCHS, latency=f"brp:{brp}")["latency_ms"], LAT)
    with pytest.raises(InvalidInputError, match="no energy for device 'pixel3'"):
        cost_table(ARCHS, energy=f"hwnb:{hw}:pixel3")


def test_measured_from_store(tmp_path):
    store = RunStore(tmp_path / "run")
    store.write_costs("latency_ms", "cpu", ARCHS[:3], [5.0, 6.0, 7.0], [0.1, 0.1, 0.1], source="test")
    np.testing.assert_allclose(cost_table(ARCHS[:3], latency="measured", store=store)["latency_ms"], [5, 6, 7])
    with pytest.raises(DataNotFoundError, match=r"1 of 4 architecture\(s\) have no measured latency_ms.*"
                                                r"gcnas hw measure"):
        cost_table(ARCHS, latency="measured", store=store)
    with pytest.raises(DataNotFoundError, match="energy_mj on 'cuda'.*--energy"):
        cost_table(ARCHS[:1], energy="measured:cuda", store=store)
    with pytest.raises(InvalidInputError, match="pass store="):
        cost_table(ARCHS, latency="measured")


@pytest.mark.parametrize("kwargs,error,match", [
    ({"latency": "bogus"}, InvalidInputError, "unknown latency source 'bogus'"),
    ({"energy": "bogus"}, InvalidInputError, "unknown energy source 'bogus'"),
    ({"energy": "model:fp16"}, InvalidInputError, "preset 'fp16'"),
    ({"latency": "/nonexistent/table.csv:cpu"}, DataNotFoundError, "does not exist"),
    ({"latency": "hwnb:/nonexistent.pickle"}, InvalidInputError, "PATH:DEVICE"),
    ({"dataset": "mnist"}, InvalidInputError, "unknown dataset"),
])
def test_bad_specs(kwargs, error, match):
    with pytest.raises(error, match=match):
        cost_table(ARCHS, **kwargs)


def test_missing_and_bad_values(csv_path, tmp_path):
    other = next(a for a in NB201Space().sample_many(20, seed=7) if a not in ARCHS)
    with pytest.raises(DataNotFoundError, match="have no value"):
        cost_table([other], latency=f"{csv_path}:cpu")
    with pytest.raises(InvalidInputError, match="unknown device 'tpu'"):
        cost_table(ARCHS, latency=f"{csv_path}:tpu")
    negative = BenchmarkTable.from_columns([0], ARCHS[:1], {"cpu": [-1.0]}).to_csv(tmp_path / "neg.csv")
    with pytest.raises(CorruptFileError, match="negative"):
        cost_table(ARCHS[:1], latency=f"{negative}:cpu")
    with pytest.raises(InvalidInputError, match="Arch values"):
        cost_table(["|none~0|"])  # type: ignore[list-item]


def test_cost_table_of_another_space_counts_with_its_costs_and_refuses_the_nb201_energy_model():
    from gcnas.spaces import get_space

    darts = get_space("darts")
    cells = [darts.sample(seed) for seed in range(2)]
    table = cost_table(cells, space="darts")
    assert table["params_m"].tolist() == [darts.costs(c)["params"] for c in cells]
    assert table["flops_m"].tolist() == [darts.costs(c)["flops"] for c in cells]
    with pytest.raises(InvalidInputError, match="'darts' offers no layer_sums"):
        cost_table(cells, space="darts", energy="model")
    with pytest.raises(InvalidInputError, match="cost_table needs nb201 architectures"):
        cost_table(cells)
