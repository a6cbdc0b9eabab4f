"""A user's hardware table: any subset of the cells, keyed by ``arch`` or ``index`` alone."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import BenchmarkTable, LatencyTable
from gcnas.data.hardware_tables import table_costs
from gcnas.exceptions import CorruptFileError, DataNotFoundError
from gcnas.hardware import cost_table
from gcnas.spaces.nb201 import NB201Space

ALL = NB201Space().all_archs()


@pytest.fixture(scope="module")
def official():
    return BenchmarkTable.packaged("nb201:cifar10")


@pytest.fixture(scope="module")
def measured(official):
    """200 official indices (seeded) and a latency-like figure for each."""
    rng = np.random.default_rng(14)
    indices = np.sort(rng.choice(15625, size=200, replace=False))
    archs = [official.arch(int(i)) for i in indices]
    latency = np.round(1.0 + np.array([sum(a.ops) for a in archs]) * 0.25 + rng.uniform(0, 0.1, 200), 4)
    return indices, archs, latency


def write(path, header, rows):
    path.write_text(header + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return path


def test_index_only_file_of_200_rows(tmp_path, official, measured):
    indices, archs, latency = measured
    path = write(tmp_path / "mydevice.csv", "index,mydevice", zip(indices, latency))
    table = LatencyTable(path)
    assert len(table) == 200 and table.devices == ["mydevice"]
    assert table.archs == archs                                  # mapped through the official order
    np.testing.assert_array_equal(table.indices, indices)
    # every cell of the space: 200 values, the rest reported missing (not an error at load)
    values = table.latency(ALL, "mydevice", missing=np.nan)
    assert np.isfinite(values).sum() == 200
    np.testing.assert_array_equal(values[[a.code for a in archs]], latency)
    with pytest.raises(DataNotFoundError, match=r"15425 architecture\(s\) have no value.*200 of 15625 cells"):
        table.latency(ALL, "mydevice")
    np.testing.assert_array_equal(table.latency(archs[:3], "mydevice"), latency[:3])


def test_arch_only_file_gets_its_official_indices(tmp_path, official, measured):
    _, archs, latency = measured
    path = write(tmp_path / "mine.csv", "arch,mydevice", zip(archs[:50], latency[:50]))
    table = BenchmarkTable(path)
    assert table.archs == archs[:50]
    assert table.indices.tolist() == [official.index(a) for a in archs[:50]]
    assert table.arch(official.index(archs[7])) == archs[7]
    values = table_costs(table, ALL, "mydevice", missing=-1.0)
    assert (values >= 0).sum() == 50 and values[archs[3].code] == latency[3]


def test_empty_cells_count_as_missing(tmp_path, measured):
    _, archs, latency = measured
    path = write(tmp_path / "gaps.csv", "arch,lat,energy", [(archs[0], latency[0], ""), (archs[1], "", 2.5)])
    table = LatencyTable(path)
    np.testing.assert_array_equal(table.cost(archs[:3], "energy", missing=np.nan), [np.nan, 2.5, np.nan])
    with pytest.raises(DataNotFoundError, match=r"2 architecture\(s\) have no value.*1 of 15625"):
        table.cost(archs[:3], "lat")


def test_cost_table_reports_missing_cells_only_when_asked(tmp_path, measured):
    indices, archs, latency = measured
    path = write(tmp_path / "mydevice.csv", "index,mydevice,mj", zip(indices, latency, latency * 2))
    costs = cost_table(ALL, latency=f"{path}:mydevice", energy=f"{path}:mj", missing=np.nan)
    assert np.isnan(costs["latency_ms"]).sum() == np.isnan(costs["energy_mj"]).sum() == 15625 - 200
    np.testing.assert_array_equal(costs["energy_mj"][[a.code for a in archs]], latency * 2)
    assert np.isfinite(costs["params_m"]).all()
    with pytest.raises(DataNotFoundError, match="have no value"):
        cost_table(ALL[:500], latency=f"{path}:mydevice")
    covered = cost_table(archs, latency=f"table:{path}:mydevice", energy=f"table:{path}:mj")
    np.testing.assert_array_equal(covered["latency_ms"], latency)


@pytest.mark.parametrize("content, fragment", [
    ("idx,acc\n0,1\n", "lacks column(s) index, arch"),
    ("index,acc\n15625,1\n", "out of range"),
    ("index,acc\n-1,1\n", "out of range"),
    ("index,acc\n3,1\n3,2\n", "index 3 appears more than once"),
    ("arch,acc\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n"
     "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,2\n", "appears more than once"),
    ("arch,acc\n|bad~0|,1\n", "NAS-Bench-201 space"),
])
def test_one_key_files_with_bad_rows(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CorruptFileError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        BenchmarkTable(path)


def test_a_custom_index_table_maps_the_order(tmp_path, measured):
    _, archs, _ = measured
    order = BenchmarkTable.from_columns([9, 1, 4], archs[:3], {})      # rows not in index order
    path = write(tmp_path / "mine.csv", "index,lat", [(1, 2.0), (9, 3.0)])
    assert BenchmarkTable(path, index_table=order).archs == [archs[1], archs[0]]
    path = write(tmp_path / "mine_arch.csv", "arch,lat", [(archs[2], 2.0)])
    assert BenchmarkTable(path, index_table=order).indices.tolist() == [4]
    path = write(tmp_path / "other.csv", "index,lat", [(5, 2.0)])
    with pytest.raises(CorruptFileError, match="index 5 is not in the index table.*add an 'arch' column"):
        BenchmarkTable(path, index_table=order)
