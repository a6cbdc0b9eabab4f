"""Shared fixtures: the reference data folder (skipped when absent) and small helpers.

The NAS-Bench-201 CIFAR-10 200-epoch table and the pixel3/fpga/eyeriss latencies ship with
gcnas (``BenchmarkTable.packaged``), so their fixtures fall back to the packaged copies and
run on a fresh clone; the other reference data (12-epoch table, the five-device latency
table, images, HW-NAS-Bench examples) is not packaged and its tests skip without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

SHARED_DATA = Path(os.environ.get("GCNAS_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def shared_file(relative: str) -> Path:
    """A file of ``../shared/data``, or skip the test saying why."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"reference data {relative} not found under {SHARED_DATA} (set GCNAS_SHARED_DATA)")
    return path


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``gcnas`` in this process: its exit code, stdout and stderr."""
    from gcnas.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_json(capsys, *argv):
    """Run ``gcnas ... --format json``, which must succeed, and read its output."""
    code, out, err = run_cli(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def shared_or_packaged(relative: str, packaged: str):
    """The table of ``../shared/data`` when present, else the copy packaged with gcnas (same values)."""
    from gcnas.data import BenchmarkTable

    path = SHARED_DATA / relative
    return BenchmarkTable(path) if path.exists() else BenchmarkTable.packaged(packaged)


@pytest.fixture(scope="session")
def nb201_200ep():
    """The real 200-epoch CIFAR-10 table (``valid_acc``, ``test_acc``): shared data, else packaged."""
    return shared_or_packaged("nb201/nb201_cifar10_200ep.csv", "nb201:cifar10")


@pytest.fixture(scope="session")
def nb201_12ep():
    from gcnas.data import BenchmarkTable

    return BenchmarkTable(shared_file("nb201/nb201_cifar10_12ep.csv"))


@pytest.fixture(scope="session")
def nb201_latency():
    """The five-device latency table (gold_6240, 1080ti_1, pixel3, fpga, eyeriss); skips without shared data."""
    from gcnas.data import BenchmarkTable

    return BenchmarkTable(shared_file("nb201/nb201_latency_ms.csv"))


@pytest.fixture(scope="session")
def nb201_hw_latency():
    """HW-NAS-Bench latency (ms) with at least ``pixel3``, ``fpga``, ``eyeriss``: shared data, else packaged."""
    return shared_or_packaged("nb201/nb201_latency_ms.csv", "nb201:latency")


@pytest.fixture
def small_table(tmp_path):
    """A synthetic benchmark table over 300 archs, written in the CSV format (seeded).

    ``valid_acc`` depends smoothly on the ops (conv3x3 good, none bad) plus noise, so
    predictors and searches have signal to find; ``index`` is a shuffled order.
    """
    from gcnas.data import BenchmarkTable
    from gcnas.spaces.nb201 import NB201Space

    rng = np.random.default_rng(0)
    archs = NB201Space().sample_many(300, rng)
    quality = np.array([[0.0, 0.5, 0.8, 1.0, 0.3][op] for a in archs for op in a.ops]).reshape(-1, 6)
    valid = 70 + 4 * quality.sum(1) + rng.normal(0, 0.5, len(archs))
    test = valid + rng.normal(0, 0.3, len(archs))
    latency = 1 + quality.sum(1) + rng.normal(0, 0.05, len(archs))
    indices = rng.permutation(len(archs)) * 37 % 15625
    table = BenchmarkTable.from_columns(indices, archs, {"valid_acc": valid, "test_acc": test, "latency_ms": latency})
    path = table.to_csv(tmp_path / "small_table.csv")
    return BenchmarkTable(path)


@pytest.fixture(scope="session")
def truth_csvs(tmp_path_factory):
    """Two truth tables over all 15,625 cells: ``(real, shuffled)`` CSV paths.

    Both have ``test_acc`` (and ``valid_acc``, identical in both); in ``shuffled`` the
    ``test_acc`` values are permuted across rows (seeded), so any output that is not a
    truth figure must not change between the two.
    """
    from gcnas.data import BenchmarkTable
    from gcnas.spaces.nb201 import NB201Space

    archs = NB201Space().all_archs()
    rng = np.random.default_rng(11)
    quality = np.array([[0.0, 0.5, 0.8, 1.0, 0.3][op] for a in archs for op in a.ops]).reshape(-1, 6)
    valid = 70 + 4 * quality.sum(1) + rng.normal(0, 0.5, len(archs))
    test = valid + rng.normal(0, 0.3, len(archs))
    folder = tmp_path_factory.mktemp("truth")
    codes = [a.code for a in archs]
    real = BenchmarkTable.from_columns(codes, archs, {"valid_acc": valid, "test_acc": test})
    shuffled = BenchmarkTable.from_columns(codes, archs, {"valid_acc": valid, "test_acc": rng.permutation(test)})
    return real.to_csv(folder / "truth.csv"), shuffled.to_csv(folder / "shuffled.csv")


def write_image_folder(root, *, train: int = 6, test: int = 2, size: int = 8, classes=("cat", "dog", "frog")):
    """``root/{train,test}/<class>/NNN.png``: each class a distinct grey level, with noise."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, count in (("train", train), ("test", test)):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                pixels = np.full((size, size, 3), 60 * label + 20, dtype=np.uint8)
                pixels = np.clip(pixels + rng.integers(0, 20, pixels.shape), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def image_folder_factory():
    """:func:`write_image_folder`, for tests that build their own image folder."""
    return write_image_folder
