"""Latency of several architectures timed round-robin (``measure_latencies``) and the sweep over it."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.hardware.latency import measure_latencies, measure_latency, measure_many, resolve_clock
from gcnas.spaces.nb201 import Arch, NB201Space


class _Recorder(nn.Module):
    """Stands in for a network: notes its name in a shared log on every forward pass."""

    def __init__(self, name: int, log: list[int]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append(self.name)
        return x


@pytest.fixture
def call_log(monkeypatch):
    log: list[int] = []
    monkeypatch.setattr(NB201Space, "network", lambda self, arch, **_: _Recorder(arch.code, log))
    return log


ARCHS = [Arch.from_code(c) for c in (11, 22, 33)]


def rounds(log: list[int], size: int) -> list[list[int]]:
    return [log[i:i + size] for i in range(0, len(log), size)]


def test_interleaved_passes_go_in_rounds_of_random_order(call_log):
    archs = [Arch.from_code(c) for c in range(20, 26)]
    results = measure_latencies(archs, repeats=4, warmup=2, interleave=True, seed=3)
    codes = [a.code for a in archs]
    assert call_log[:12] == [c for c in codes for _ in range(2)]  # every warm-up first, in turn
    timed = rounds(call_log[12:], len(archs))
    assert len(timed) == 4 and all(sorted(r) == codes for r in timed)  # one pass of each per round
    assert len({tuple(r) for r in timed}) > 1  # a fresh order each round (seeded)
    assert [len(r.times_ms) for r in results] == [4] * 6
    call_log.clear()
    measure_latencies(archs, repeats=4, warmup=2, interleave=True, seed=3)
    assert rounds(call_log[12:], len(archs)) == timed


def test_one_after_the_other(call_log):
    measure_latencies(ARCHS, repeats=3, warmup=1, interleave=False)
    a, b, c = (arch.code for arch in ARCHS)
    assert call_log == [a] * 4 + [b] * 4 + [c] * 4


def test_measure_many_interleaves_by_default(call_log, tmp_path):
    archs = [Arch.from_code(c) for c in range(10, 15)]
    measure_many(archs, RunStore(tmp_path / "run"), repeats=2, warmup=0, progress=False)
    assert [sorted(r) for r in rounds(call_log, 5)] == [list(range(10, 15))] * 2


@pytest.mark.parametrize("interleave,groups", [(2, [[10, 11], [12, 13], [14]]), (1, [[10], [11], [12], [13], [14]])])
def test_measure_many_in_groups(call_log, tmp_path, interleave, groups):
    store = RunStore(tmp_path / "run")
    archs = [Arch.from_code(c) for c in range(10, 15)]
    summary = measure_many(archs, store, repeats=2, warmup=0, interleave=interleave, progress=False)
    position = 0
    for group in groups:  # each group's two rounds before the next group starts
        calls = call_log[position:position + 2 * len(group)]
        assert sorted(calls) == sorted(group * 2)
        position += len(calls)
    assert position == len(call_log)
    assert summary == {"measured": 5, "skipped": 0, "total": 5}
    assert {a.code for a in store.costs("latency_ms", "cpu")} == set(range(10, 15))


class _Slowing(nn.Module):
    """Each forward pass waits longer than the one before (elapsed time: 10, 20, 30 ... ms: steps
    wide enough that a busy machine's late wake-ups cannot blur them)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        time.sleep(0.01 * self.calls)
        return x


@pytest.mark.parametrize("statistic", ["min", "median", None])
def test_measure_many_stores_the_chosen_statistic(monkeypatch, tmp_path, statistic):
    monkeypatch.setattr(NB201Space, "network", lambda self, arch, **_: _Slowing())
    store = RunStore(tmp_path / "run")
    chosen = {} if statistic is None else {"statistic": statistic}
    measure_many(ARCHS[:1], store, repeats=9, warmup=0, clock="wall", progress=False, **chosen)
    value, spread = store.costs("latency_ms", "cpu")[ARCHS[0]]
    expected = 50.0 if statistic == "median" else 10.0  # slept 10..90 ms; the default stores the fastest
    assert expected <= value < expected + 10 and spread > 0


class _Sleeper(nn.Module):
    """A forward pass that waits without computing: elapsed time, but no CPU time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(0.02)
        return x


def test_cpu_clock_leaves_out_time_off_the_core(monkeypatch):
    monkeypatch.setattr(NB201Space, "network", lambda self, arch, **_: _Sleeper())
    cpu = measure_latency(ARCHS[0], repeats=3, warmup=0, clock="cpu")
    wall = measure_latency(ARCHS[0], repeats=3, warmup=0, clock="wall")
    assert cpu.clock == "cpu" and wall.clock == "wall"
    assert cpu.median_ms < 5 and min(cpu.wall_times_ms) >= 19  # slept 20 ms on the wall, ~0 on the CPU
    assert wall.median_ms >= 19 and wall.times_ms == wall.wall_times_ms
    assert measure_latency(ARCHS[0], repeats=1, warmup=0).clock == "cpu"  # auto: one CPU thread


def test_resolve_clock():
    assert resolve_clock("auto", device="cpu", threads=1) == "cpu"
    assert resolve_clock("auto", device="cpu", threads=2) == "wall"
    assert resolve_clock("auto", device="cuda:0", threads=1) == "wall"
    with pytest.raises(InvalidInputError, match="threads=1"):
        resolve_clock("cpu", device="cpu", threads=2)
    with pytest.raises(InvalidInputError, match="unknown clock 'gpu'"):
        resolve_clock("gpu", device="cpu", threads=1)


def test_measure_latencies_real_networks_in_order():
    archs = NB201Space().sample_many(2, seed=3)
    results = measure_latencies(archs, repeats=2, warmup=0, channels=4, cells=1)
    assert len(results) == 2 and all(r.median_ms > 0 and len(r.times_ms) == 2 for r in results)
    assert measure_latencies([], repeats=1) == []


@pytest.mark.parametrize("kwargs,match", [({"repeats": 0}, "repeats"), ({"warmup": -1}, "warmup"),
                                          ({"clock": "tsc"}, "unknown clock")])
def test_measure_latencies_bad_input(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        measure_latencies(ARCHS, **kwargs)


@pytest.mark.parametrize("kwargs,match", [({"interleave": 0}, "interleave must be an int >= 1, got 0"),
                                          ({"statistic": "mean"}, "unknown statistic 'mean'; choose min or median")])
def test_measure_many_bad_input(tmp_path, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        measure_many(ARCHS, RunStore(tmp_path / "run"), progress=False, **kwargs)
