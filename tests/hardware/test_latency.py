"""Latency measured here: the single measurement and the resumable sweep."""

from __future__ import annotations

import pytest

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.hardware import measure_latency, measure_many, measurement_key, resolve_device
from gcnas.spaces.nb201 import Arch, NB201Space

TINY = dict(repeats=3, warmup=1)


def test_measure_latency_result():
    result = measure_latency(Arch((3, 0, 1, 0, 0, 2)), **TINY)
    assert result.median_ms > 0 and len(result.times_ms) == 3
    assert result.spread_ms == pytest.approx(max(result.times_ms) - min(result.times_ms))
    assert result.device == "cpu" and result.threads == 1 and result.batch_size == 1


def test_measure_latency_other_dataset_and_batch():
    result = measure_latency(Arch((1,) * 6), dataset="imagenet16-120", batch_size=2, **TINY)
    assert result.batch_size == 2 and result.median_ms > 0


@pytest.mark.parametrize("kwargs,match", [
    ({"device": "tpu"}, "unknown device 'tpu'"),
    ({"repeats": 0}, "repeats"),
    ({"batch_size": 1.5}, "batch_size"),
    ({"dataset": "mnist"}, "unknown dataset 'mnist'"),
])
def test_measure_latency_bad_input(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        measure_latency(Arch((0,) * 6), **kwargs)


def test_cuda_absent_is_clear():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu"


def test_measurement_key():
    assert measurement_key("cpu") == "cpu"
    assert measurement_key("cuda:1", batch_size=8, dataset="cifar100") == "cuda/bs8/cifar100"


def test_measure_many_resumes(tmp_path):
    store = RunStore(tmp_path / "run")
    archs = NB201Space().sample_many(3, seed=5)
    first = measure_many(archs[:2], store, progress=False, **TINY)
    assert first == {"measured": 2, "skipped": 0, "total": 2}
    stored = store.costs("latency_ms", "cpu")
    second = measure_many(archs + archs[:1], store, progress=False, **TINY)
    assert second == {"measured": 1, "skipped": 2, "total": 3}
    again = store.costs("latency_ms", "cpu")
    assert len(again) == 3
    for code, (value, spread) in stored.items():  # finished work is not redone
        assert again[code] == (value, spread)
    assert all(value > 0 and spread is not None for value, spread in again.values())
