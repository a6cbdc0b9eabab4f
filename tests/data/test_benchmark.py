from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import BenchmarkTable
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.spaces.nb201 import Arch


def test_lookups_by_arch_index_and_string(small_table):
    arch = small_table.archs[7]
    index = small_table.index(arch)
    assert small_table.arch(index) == arch
    value = small_table.value(arch, "valid_acc")
    assert small_table.value(str(arch), "valid_acc") == value == small_table.value(index, "valid_acc")
    values = small_table.values(small_table.archs[:5], "valid_acc")
    assert values.shape == (5,) and values[0] == small_table.column("valid_acc")[0]
    assert set(small_table.columns) == {"valid_acc", "test_acc", "latency_ms"}
    assert arch in small_table and str(arch) in small_table and index in small_table


def test_csv_round_trip_keeps_values(small_table, tmp_path):
    copy = BenchmarkTable(small_table.to_csv(tmp_path / "copy.csv"))
    assert copy.archs == small_table.archs
    np.testing.assert_array_equal(copy.indices, small_table.indices)
    np.testing.assert_allclose(copy.column("test_acc"), small_table.column("test_acc"))


def test_missing_archs_and_columns_are_named(small_table):
    absent = next(a for a in (Arch.from_code(c) for c in range(15625)) if a not in small_table)
    with pytest.raises(KeyError, match="not in"):
        small_table.values([absent], "valid_acc")
    with pytest.raises(InvalidInputError, match="unknown column 'acc'.*valid_acc"):
        small_table.value(small_table.archs[0], "acc")
    with pytest.raises(InvalidInputError, match="out of range"):
        small_table.arch(20000)


@pytest.mark.parametrize("content, fragment", [
    ("", "empty"),
    ("idx,acc\n0,1\n", "lacks column"),
    ("index,arch,acc\nzero,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n", "not an integer"),
    ("index,arch,acc\n0,|bad~0|,1\n", "NAS-Bench-201 space"),
    ("index,arch,acc\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,abc\n", "not a number"),
    ("index,arch,acc\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n"
     "0,|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|,1\n", "index 0 appears more than once"),
    ("index,arch,acc\n99999,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n", "out of range"),
])
def test_malformed_tables_raise_clear_errors(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CorruptFileError, match=fragment):
        BenchmarkTable(path)


def test_missing_file_says_what_to_pass(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        BenchmarkTable(tmp_path / "nope.csv")


def test_real_tables_agree_on_the_official_order(nb201_200ep, nb201_12ep, nb201_latency):
    archs = nb201_200ep.archs[:100]
    for other in (nb201_12ep, nb201_latency):
        assert [other.index(a) for a in archs] == [nb201_200ep.index(a) for a in archs]
    assert nb201_200ep.column("test_acc").max() == pytest.approx(94.37, abs=0.01)
