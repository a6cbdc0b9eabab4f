"""Latency measured here for any space: the IMC macro space's networks at a tiny shape, NB201 unchanged
(its network's own defaults, 16 channels and 5 cells), the shape and space in the stored rows, and the
interleaved groups kept under a parameter budget."""

from __future__ import annotations

import doctest
import sqlite3

import pytest

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.hardware import latency as latency_module
from gcnas.hardware.latency import INTERLEAVE_PARAMS_M, _groups, measure_latencies, measure_many, measurement_key
from gcnas.spaces import count_module, get_space
from gcnas.spaces.imc import parse_macro

TINY = dict(repeats=2, warmup=0)
IMC_ARCHS = [parse_macro(text) for text in ("vgg-d1-k3-w20/basic-d1-k3-w20/bottleneck-d1-k3-w20/vgg-d1-k3-w20",
                                            "basic-d2-k5-w40/vgg-d1-k3-w60/basic-d1-k7-w20/bottleneck-d2-k3-w40")]


def _rows(run) -> list[tuple[str, str, str]]:
    with sqlite3.connect(run / "gcnas.sqlite") as conn:
        return conn.execute("SELECT device, arch, source FROM costs WHERE metric='latency_ms' ORDER BY arch").fetchall()


def test_two_imc_networks_measured_at_a_tiny_shape():
    results = measure_latencies(IMC_ARCHS, space="imc", channels=4, **TINY)
    assert len(results) == 2 and all(r.median_ms > 0 and len(r.times_ms) == 2 for r in results)


def test_the_imc_sweep_records_space_and_shape(tmp_path):
    with RunStore(tmp_path, space="imc") as store:
        summary = measure_many(IMC_ARCHS, store, channels=4, progress=False, **TINY)
        assert summary == {"measured": 2, "skipped": 0, "total": 2}
        assert set(store.costs("latency_ms", "cpu/channels4")) == set(IMC_ARCHS)
    rows = _rows(tmp_path)
    assert {device for device, *_ in rows} == {"cpu/channels4"}
    assert all(source.endswith(":min:space=imc:channels=4") for *_, source in rows)


def test_imc_refuses_cells_in_one_line():
    with pytest.raises(InvalidInputError, match="takes no cells=2"):
        measure_latencies(IMC_ARCHS[:1], space="imc", channels=4, cells=2, **TINY)


def test_nb201_keeps_its_network_key_and_source(tmp_path):
    space = get_space("nb201")
    arch = space.sample(0)
    default, explicit = space.network(arch), space.network(arch, channels=16, cells=5)
    assert count_module(default, (3, 32, 32)) == count_module(explicit, (3, 32, 32))  # what None leaves to it
    assert measurement_key("cpu") == "cpu" and measurement_key("cpu", channels=16) == "cpu/channels16"
    with RunStore(tmp_path) as store:
        measure_many([arch], store, progress=False, **TINY)
    ((device, _, source),) = _rows(tmp_path)
    assert device == "cpu" and source == "measured:cpu:repeats=2:threads=1:interleave=100:clock=cpu:min"


def test_groups_stay_under_the_parameter_budget(tmp_path, monkeypatch):
    sizes = []

    def recording(settings, statistic, group):
        sizes.append(len(group))
        return [(1.0, 0.0)] * len(group)

    monkeypatch.setattr(latency_module, "_time_group", recording)
    space = get_space("imc")
    archs = [space.sample(seed) for seed in range(6)]
    params = [space.costs(a, channels=8)["params"] for a in archs]
    with RunStore(tmp_path, space="imc") as store:
        measure_many(archs, store, channels=8, progress=False, max_params_m=max(params) * 1.01, **TINY)
    assert sum(sizes) == 6 and len(sizes) > 1                  # no two of the largest fit in one group
    assert sizes == [len(g) for g in _groups(archs, 100, params, max(params) * 1.01)]
    assert INTERLEAVE_PARAMS_M >= 100 * 1.6                     # 100 NAS-Bench-201 networks (1.53 M at most) fit


@pytest.mark.parametrize("function", [_groups, measurement_key])
def test_docstring_examples(function):
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(function, globs={function.__name__: function}):
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0
