from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

import gcnas.supernet.score as score
from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.data.store import DB_NAME
from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.parallel import make_executor
from gcnas.spaces.nb201 import NB201Space
from gcnas.supernet import (ScoringSource, checkpoint_path, load_supernet, sample_subnets, sample_subnets_sharded,
                            train_supernet)
from tests.supernet.conftest import TINY

SCORING = dict(bn_recalibrate=2, limit=1)
"""Two calibration batches, one scored batch of 256 images: a few hundred ms per cell."""
ARCHS = NB201Space().sample_many(10, seed=3, distinct=True, canonical=True)
VOLATILE = ("seconds", "worker")


class Stop(KeyboardInterrupt):
    pass


@pytest.fixture(scope="module")
def run(tmp_path_factory, digits):
    run = tmp_path_factory.mktemp("trained")
    train_supernet(run, epochs=1, data=digits, **TINY)
    return run


@pytest.fixture(scope="module")
def sequential(run, tmp_path_factory, digits):
    """The rows of the sequential path (``sample_subnets``) over ``ARCHS``."""
    with RunStore(tmp_path_factory.mktemp("sequential")) as store:
        sample_subnets(store, load_supernet(run), digits, num=0, archs=ARCHS, progress=False, **SCORING)
        return _rows(store)


@pytest.fixture(scope="module")
def processes():
    with make_executor("process", workers=2) as executor:
        yield executor


def _rows(store: RunStore) -> list[tuple]:
    """Every stored supernet sample, in store order, without its timing and worker."""
    return [(s.arch.code, s.accuracy, s.loss, {k: v for k, v in s.extra.items() if k not in VOLATILE})
            for s in store.samples("supernet")]


def _row_count(run_dir) -> int:
    with sqlite3.connect(run_dir / DB_NAME) as conn:
        return conn.execute("SELECT COUNT(*) FROM samples WHERE source='supernet'").fetchone()[0]


def test_two_process_workers_store_the_sequential_rows(tmp_path, run, sequential, processes):
    with RunStore(tmp_path) as store:
        samples = sample_subnets_sharded(store, ScoringSource(run, **SCORING), processes, num=0, archs=ARCHS,
                                         chunk=3, progress=False)
        assert _rows(store) == sequential                       # same scores, same order
        assert [s.arch for s in samples] == ARCHS
        workers = {s.extra["worker"] for s in store.samples("supernet")}
    assert len(workers) == 2                                    # both workers scored chunks


def test_interrupted_run_resumes_without_duplicates(tmp_path, run, sequential, processes):
    source = ScoringSource(run, **SCORING)

    def stop_after_first_chunk(samples):
        raise Stop

    with RunStore(tmp_path) as store:
        with pytest.raises(Stop):
            sample_subnets_sharded(store, source, processes, num=0, archs=ARCHS, chunk=2, progress=False,
                                   callback=stop_after_first_chunk)
        kept = {s.arch: s for s in store.samples("supernet")}
        assert 2 <= len(kept) < len(ARCHS)
        rescored = []
        sample_subnets_sharded(store, source, processes, num=0, archs=ARCHS, chunk=2, progress=False,
                               callback=rescored.extend)
        assert {s.arch for s in rescored} == set(ARCHS) - set(kept)  # only what was missing
        assert all(store_sample == kept[store_sample.arch] for store_sample in store.samples("supernet")
                   if store_sample.arch in kept)
        assert sorted(_rows(store)) == sorted(sequential)
    assert _row_count(tmp_path) == len(ARCHS)


def test_each_worker_loads_once_and_inline_matches(tmp_path, run, sequential, monkeypatch):
    loads = []
    real = score.load_supernet
    monkeypatch.setattr(score, "load_supernet", lambda *a, **k: loads.append(a) or real(*a, **k))
    score._LOADED.clear()
    with RunStore(tmp_path) as store, make_executor("inline") as inline:
        sample_subnets_sharded(store, ScoringSource(run, **SCORING), inline, num=0, archs=ARCHS, chunk=2,
                               progress=False)
        assert _rows(store) == sequential
    assert len(loads) == 1                                      # five chunks, one load
    score._LOADED.clear()


def test_a_failed_chunk_keeps_the_others_and_a_rerun_completes(tmp_path, run, sequential, monkeypatch):
    real = score._score_chunk
    failing = set(ARCHS[4:6])

    def score_or_fail(source, texts):  # (a chunk's cells travel as their text, space.format)
        if any(text in {str(a) for a in failing} for text in texts):
            raise RuntimeError("worker lost")
        return real(source, texts)

    source = ScoringSource(run, **SCORING)
    with RunStore(tmp_path) as store, make_executor("inline") as inline:
        monkeypatch.setattr(score, "_score_chunk", score_or_fail)
        with pytest.raises(RuntimeError, match="worker lost") as raised:
            sample_subnets_sharded(store, source, inline, num=0, archs=ARCHS, chunk=2, progress=False)
        # inline, two chunks out at once: chunks 0 and 1 were written, chunk 3 came back beside the failed 2
        assert "6 cells are in the run store" in " ".join(raised.value.__notes__)
        assert [s.arch for s in store.samples("supernet")] == ARCHS[:4] + ARCHS[6:8]
        monkeypatch.setattr(score, "_score_chunk", real)
        sample_subnets_sharded(store, source, inline, num=0, archs=ARCHS, chunk=2, progress=False)
        assert sorted(_rows(store)) == sorted(sequential)
    score._LOADED.clear()


def test_bad_input(tmp_path, run):
    with pytest.raises(InvalidInputError, match="bn_recalibrate must be an int >= 0"):
        ScoringSource(run, bn_recalibrate=-1)
    with pytest.raises(InvalidInputError, match="limit must be a positive int"):
        ScoringSource(run, limit=0)
    with RunStore(tmp_path / "store") as store, make_executor("inline") as inline:
        with pytest.raises(InvalidInputError, match="chunk must be a positive int"):
            sample_subnets_sharded(store, ScoringSource(run), inline, num=2, chunk=0)
        with pytest.raises(DataNotFoundError, match="no supernet checkpoint"):  # raised on the worker
            sample_subnets_sharded(store, ScoringSource(tmp_path / "missing"), inline, num=2, progress=False)
        assert store.samples("supernet") == []


class _Borrowed:
    """The module's process workers lent to the command, which shuts down only its loan."""

    def __init__(self, executor):
        self.executor, self.kind, self.workers = executor, executor.kind, executor.workers

    def submit(self, fn, /, *args, **kwargs):
        return self.executor.submit(fn, *args, **kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


def test_cli_workers_store_the_sequential_rows(tmp_path, run, digits, processes, capsys, monkeypatch):
    import gcnas.parallel

    asked = []
    monkeypatch.setattr(gcnas.parallel, "make_executor",
                        lambda *args, **kwargs: asked.append((args, kwargs)) or _Borrowed(processes))
    shutil.copytree(checkpoint_path(run).parent, checkpoint_path(tmp_path).parent)
    argv = ["supernet", "sample", "--run", str(tmp_path), "--num", "6", "--seed", "3", "--bn-recalibrate", "2",
            "--limit", "1", "--device", "cpu", "--workers", "2", "--chunk", "2", "--format", "json"]
    assert main(argv) == 0
    assert asked == [(("process", 2), {"ray_address": None})]
    rows = json.loads(capsys.readouterr().out)
    with RunStore(tmp_path) as store:
        stored = _rows(store)
    expected = NB201Space().sample_many(6, seed=3, distinct=True, canonical=True)
    assert [code for code, *_ in stored] == [a.code for a in expected]
    with RunStore(tmp_path / "sequential") as reference:
        sample_subnets(reference, load_supernet(tmp_path), digits, num=0, archs=expected, progress=False, **SCORING)
        assert stored == _rows(reference)
    assert {r["code"]: r["accuracy"] for r in rows} == {code: acc for code, acc, *_ in stored}


@pytest.mark.parametrize("flags, message", [
    (["--workers", "0"], "--workers must be at least 1, got 0"),
    (["--executor", "process", "--ray-address", "127.0.0.1:6379"], "--ray-address belongs to --executor ray"),
    (["--workers", "2"], "no supernet checkpoint"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, flags, message):
    assert main(["supernet", "sample", "--run", str(tmp_path / "empty"), "--num", "2", *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "empty" / DB_NAME).exists()
