"""The latency sweep on parallel workers: groups timed on workers, written here, in order, resumably."""

from __future__ import annotations

import json
import sqlite3

import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.data.store import DB_NAME
from gcnas.hardware import measure_many, sweep
from gcnas.parallel import make_executor
from gcnas.spaces.nb201 import Arch, NB201Space

TINY = dict(repeats=2, warmup=0)
ARCHS = NB201Space().sample_many(7, seed=4)


class Stop(KeyboardInterrupt):
    pass


def _fake_latency(group):
    """A deterministic stand-in for a timing: the code as milliseconds, spread 0.5."""
    return [(arch.code / 1000, 0.5) for arch in group]


def _costs(run_dir) -> list[tuple]:
    """``(code, value, spread, source)`` of every stored latency, in the order written (the store keys
    rows by the architecture's text since schema 3: the code is read back from it)."""
    with sqlite3.connect(run_dir / DB_NAME) as conn:
        rows = conn.execute("SELECT arch, value, spread, source FROM costs WHERE metric='latency_ms' "
                            "ORDER BY rowid").fetchall()
    return [(Arch.parse(arch).code, *rest) for arch, *rest in rows]


def test_sharded_sweep_writes_the_sequential_rows_in_order(tmp_path):
    with RunStore(tmp_path / "seq") as store:
        sweep(ARCHS, store, "latency_ms", "cpu", _fake_latency, source="fake", progress=False, group=3)
    with RunStore(tmp_path / "sharded") as store, make_executor("inline") as inline:
        summary = sweep(ARCHS, store, "latency_ms", "cpu", _fake_latency, source="fake", progress=False, group=3,
                        executor=inline)
    assert summary == {"measured": 7, "skipped": 0, "total": 7}
    sequential, sharded = _costs(tmp_path / "seq"), _costs(tmp_path / "sharded")
    assert [row[:3] for row in sharded] == [row[:3] for row in sequential]
    assert {row[3] for row in sequential} == {"fake"}
    assert all(row[3].startswith("fake:worker=") for row in sharded)


def test_interrupted_sharded_sweep_resumes(tmp_path):
    stored_first = []

    def stop_after_first_group(group):
        if stored_first:
            raise Stop
        stored_first.extend(group)
        return _fake_latency(group)

    with RunStore(tmp_path) as store, make_executor("inline") as inline:
        with pytest.raises(Stop):
            sweep(ARCHS, store, "latency_ms", "cpu", stop_after_first_group, source="fake", progress=False, group=3,
                  executor=inline)
        assert set(store.costs("latency_ms", "cpu")) == set(ARCHS[:3])
        summary = sweep(ARCHS, store, "latency_ms", "cpu", _fake_latency, source="fake", progress=False, group=3,
                        executor=inline)
    assert summary == {"measured": 4, "skipped": 3, "total": 7}
    rows = _costs(tmp_path)
    assert [code for code, *_ in rows] == [a.code for a in ARCHS]  # each once, in order
    assert all(value == code / 1000 for code, value, *_ in rows)


def test_failed_group_keeps_finished_work(tmp_path):
    def fail_on_second_group(group):
        if ARCHS[3] in group:
            raise RuntimeError("device lost")
        return _fake_latency(group)

    with RunStore(tmp_path) as store, make_executor("inline") as inline:
        with pytest.raises(RuntimeError, match="device lost") as raised:
            sweep(ARCHS, store, "latency_ms", "cpu", fail_on_second_group, source="fake", progress=False, group=2,
                  executor=inline)
        # inline, two groups out at once: group 0 came back beside the failed group 1 and is kept
        assert set(store.costs("latency_ms", "cpu")) == set(ARCHS[:2])
    assert "2 of 7 architectures were measured" in " ".join(raised.value.__notes__)


def test_two_process_workers_time_real_networks(tmp_path):
    with RunStore(tmp_path) as store, make_executor("process", workers=2) as executor:
        summary = measure_many(ARCHS[:4], store, progress=False, interleave=2, executor=executor, **TINY)
        stored = store.costs("latency_ms", "cpu")
    assert summary == {"measured": 4, "skipped": 0, "total": 4}
    assert set(stored) == set(ARCHS[:4])
    assert all(value > 0 and spread is not None for value, spread in stored.values())
    sources = [source for *_, source in _costs(tmp_path)]
    assert all(source.startswith("measured:cpu:repeats=2:threads=1:interleave=2:clock=cpu:min:worker=")
               for source in sources)
    assert len(set(sources)) == 2  # one group on each worker


def test_cli_workers(tmp_path, capsys, monkeypatch):
    import gcnas.parallel

    asked = []
    real = gcnas.parallel.make_executor
    monkeypatch.setattr(gcnas.parallel, "make_executor",
                        lambda kind, workers, **kwargs: asked.append((kind, workers)) or real("inline"))
    run = tmp_path / "run"
    argv = ["hw", "measure", "--num", "3", "--repeats", "2", "--warmup", "0", "--interleave", "2", "--workers", "2",
            "--run", str(run), "--no-progress", "--format", "json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)[0]
    assert asked == [("process", 2)]
    assert out["measured"] == 3 and out["stored"] == 3
    assert RunStore(run).stage("hw_measure")["executor"] == "process"


@pytest.mark.parametrize("flags, message", [
    (["--workers", "0"], "--workers must be at least 1, got 0"),
    (["--workers", "2", "--energy"], "--energy is measured in this process only"),
    (["--interleave", "0", "--workers", "2"], "interleave must be an int >= 1, got 0"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, flags, message):
    assert main(["hw", "measure", "--num", "2", "--run", str(tmp_path / "run"), *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
