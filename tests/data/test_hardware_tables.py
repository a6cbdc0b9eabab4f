"""Readers of published latency/energy tables, on fixtures written in each official format."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from tests.conftest import shared_file
from gcnas.data import (BenchmarkTable, BRPLatency, HELPLatency, HWNASBench, LatencyTable, write_brp_latency,
                        write_help_latency, write_hwnasbench)
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.spaces.nb201 import Arch, NB201Space

ARCHS = NB201Space().sample_many(5, seed=3)


# -- LatencyTable (CSV) ------------------------------------------------------------------


def test_latency_table_real_csv(nb201_latency):
    table = LatencyTable(nb201_latency.path)
    assert table.devices == ["gold_6240", "1080ti_1", "pixel3", "fpga", "eyeriss"]
    arch0 = table.arch(0)
    assert table.latency([arch0], "pixel3")[0] == pytest.approx(3.60585)
    assert len(table) == 15625


def test_latency_table_errors(tmp_path):
    path = BenchmarkTable.from_columns([0, 1], ARCHS[:2], {"cpu": [1.0, float("nan")]}).to_csv(tmp_path / "t.csv")
    table = LatencyTable(path)
    np.testing.assert_allclose(table.latency(ARCHS[:1], "cpu"), [1.0])
    with pytest.raises(InvalidInputError, match="unknown device 'gpu'.*devices: cpu"):
        table.latency(ARCHS[:1], "gpu")
    with pytest.raises(DataNotFoundError, match=r"1 architecture\(s\) have no value"):
        table.latency(ARCHS[:2], "cpu")  # an empty cell is absent data, not zero
    with pytest.raises(DataNotFoundError, match=r"3 architecture\(s\)"):
        table.latency(ARCHS[2:], "cpu")


def test_latency_table_of_another_space(tmp_path):
    path = tmp_path / "nb101.csv"
    path.write_text("index,arch,cpu\n0,conv3x3-bn-relu|maxpool3x3,1.0\n")
    with pytest.raises(CorruptFileError, match="NAS-Bench-201 space"):
        LatencyTable(path)


# -- HELP ----------------------------------------------------------------------------------


def test_help_roundtrip(tmp_path):
    root = write_help_latency(tmp_path / "help", ARCHS, {"gold_6240": [1.0, 2.0, 3.0, 4.0, 5.0],
                                                          "pixel3": [5.0, 6.0, 7.0, 8.0, 9.0]})
    data = HELPLatency(root)
    assert data.devices == ["gold_6240", "pixel3"]
    np.testing.assert_allclose(data.latency([ARCHS[3], ARCHS[0]], "pixel3"), [8.0, 5.0])
    with pytest.raises(InvalidInputError, match="unknown HELP device 'tx2'"):
        data.latency(ARCHS, "tx2")
    other = next(a for a in NB201Space().sample_many(20, seed=9) if a not in ARCHS)
    with pytest.raises(DataNotFoundError, match="fewer architectures"):
        data.latency([other], "gold_6240")


def test_help_needs_index_mapping(tmp_path, small_table):
    root = write_help_latency(tmp_path / "help", small_table.archs[:3], {"cpu": [1.0, 2.0, 3.0]})
    (root / "str_arch2idx.pt").unlink()
    with pytest.raises(DataNotFoundError, match="str_arch2idx.pt"):
        HELPLatency(root)
    table = BenchmarkTable.from_columns(range(3), small_table.archs[:3], {})
    assert HELPLatency(root, index_table=table).latency(small_table.archs[1:2], "cpu")[0] == 2.0


def test_help_corrupt_and_missing(tmp_path):
    with pytest.raises(DataNotFoundError, match="latency/"):
        HELPLatency(tmp_path)
    root = write_help_latency(tmp_path / "help", ARCHS, {"cpu": [1.0] * 5})
    (root / "latency" / "cpu.pt").write_bytes(b"not a torch file")
    with pytest.raises(CorruptFileError, match="torch.load"):
        HELPLatency(root).latency(ARCHS, "cpu")
    import torch

    torch.save([1.0] * 15626, root / "latency" / "cpu.pt")  # longer than the space: another space
    with pytest.raises(CorruptFileError, match="more than the 15625"):
        HELPLatency(root).latency(ARCHS, "cpu")


# -- BRP-NAS / Eagle -------------------------------------------------------------------------


def test_brp_roundtrip_and_units(tmp_path):
    path = write_brp_latency(tmp_path / "desktop-cpu.pickle", ARCHS, [10.0, 20.0, 30.0, 40.0, 50.0])
    raw = pickle.loads(path.read_bytes())
    assert raw[ARCHS[1].ops] == pytest.approx(0.020)  # the file holds seconds keyed by op-id tuples
    table = BRPLatency(path)
    assert len(table) == 5
    np.testing.assert_allclose(table.latency(ARCHS[::-1]), [50.0, 40.0, 30.0, 20.0, 10.0])


def test_brp_bad_files(tmp_path):
    bad = tmp_path / "bad.pickle"
    bad.write_bytes(b"\x80\x04garbage")
    with pytest.raises(CorruptFileError, match="not a readable"):
        BRPLatency(bad)
    other = tmp_path / "other.pickle"
    other.write_bytes(pickle.dumps({(1, 2, 3, 4, 5, 6, 7): 0.1}))  # 7 ops: another space
    with pytest.raises(CorruptFileError, match="another search space"):
        BRPLatency(other)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        BRPLatency(tmp_path / "absent.pickle")


# -- HW-NAS-Bench ------------------------------------------------------------------------------


@pytest.fixture
def hwnb_examples(nb201_latency, tmp_path):
    """The official pickle layout, filled with the real values of archs 0, 1, 2."""
    records = json.loads(shared_file("nb201/hw_nas_bench_examples.json").read_text())
    index_archs = [nb201_latency.arch(i) for i in range(3)]
    metrics: dict[str, dict[str, list[float]]] = {}
    for record in sorted(records, key=lambda r: r["nb201_index"]):
        section = metrics.setdefault(record["dataset"], {})
        for name, value in record["metrics"].items():
            if name != "average_hw_metric":
                section.setdefault(name, []).append(value)
    path = write_hwnasbench(tmp_path / "HW-NAS-Bench-v1_0.pickle", index_archs, metrics)
    return path, records, index_archs


def test_hwnasbench_matches_official_examples(hwnb_examples):
    path, records, index_archs = hwnb_examples
    hw = HWNASBench(path)
    assert hw.datasets == ["cifar10", "cifar100", "ImageNet16-120"]
    for record in records:
        got = hw.query(record["nb201_index"], record["dataset"])
        for name, value in record["metrics"].items():
            if name != "average_hw_metric":
                assert got[name] == pytest.approx(value, rel=1e-12)
        arch = index_archs[record["nb201_index"]]
        assert hw.values([arch], "fpga_energy", record["dataset"])[0] == pytest.approx(
            record["metrics"]["fpga_energy"])


def test_hwnasbench_agrees_with_latency_csv(hwnb_examples, nb201_latency):
    # pixel3 / fpga / eyeriss columns of the HELP CSV are HW-NAS-Bench's (CIFAR-10)
    path, _, index_archs = hwnb_examples
    hw = HWNASBench(path)
    for device in ("pixel3", "fpga", "eyeriss"):
        np.testing.assert_allclose(hw.values(index_archs, f"{device}_latency", "cifar10"),
                                   nb201_latency.values(index_archs, device), rtol=1e-5)


def test_hwnasbench_without_config_needs_index_table(tmp_path):
    path = write_hwnasbench(tmp_path / "hw.pickle", ARCHS[:2], {"cifar10": {"fpga_latency": [1.0, 2.0]}},
                            with_config=False)
    with pytest.raises(DataNotFoundError, match="index_table"):
        HWNASBench(path).values(ARCHS[:1], "fpga_latency")
    table = BenchmarkTable.from_columns([0, 1], ARCHS[:2], {})
    assert HWNASBench(path, index_table=table).values(ARCHS[1:2], "fpga_latency")[0] == 2.0


def test_hwnasbench_bad_input(tmp_path):
    path = write_hwnasbench(tmp_path / "hw.pickle", ARCHS[:2], {"cifar10": {"fpga_latency": [1.0, 2.0]}})
    hw = HWNASBench(path)
    with pytest.raises(InvalidInputError, match="unknown HW-NAS-Bench metric 'tx2_latency'"):
        hw.values(ARCHS[:1], "tx2_latency")
    with pytest.raises(InvalidInputError, match="unknown HW-NAS-Bench dataset 'mnist'"):
        hw.values(ARCHS[:1], "fpga_latency", "mnist")
    with pytest.raises(DataNotFoundError, match="no dataset 'cifar100'"):
        hw.values(ARCHS[:1], "fpga_latency", "cifar100")
    with pytest.raises(DataNotFoundError, match=r"1 architecture\(s\) have no value"):
        hw.values(ARCHS[2:3], "fpga_latency")
    with pytest.raises(InvalidInputError, match="no energy for device 'raspi4'"):
        hw.device_metric("raspi4", "energy")
    corrupt = tmp_path / "corrupt.pickle"
    corrupt.write_bytes(b"nope")
    with pytest.raises(CorruptFileError, match="not a readable HW-NAS-Bench pickle"):
        HWNASBench(corrupt)
    fbnet = tmp_path / "fbnet.pickle"
    fbnet.write_bytes(pickle.dumps({"fbnet": {}}))
    with pytest.raises(CorruptFileError, match="nasbench201"):
        HWNASBench(fbnet)
    wrong = tmp_path / "wrong.pickle"
    wrong.write_bytes(pickle.dumps({"nasbench201": {"cifar10": {"fpga_latency": [1.0],
                                                                "config": [{"arch_str": "conv|pool"}]}}}))
    with pytest.raises(CorruptFileError, match="NAS-Bench-201 part"):
        HWNASBench(wrong).values([Arch((0,) * 6)], "fpga_latency")
