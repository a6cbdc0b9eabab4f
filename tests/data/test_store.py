from __future__ import annotations

import multiprocessing
import sqlite3

import numpy as np
import pytest

from gcnas.data import RunStore, Sample, Trial, atomic_write
from gcnas.data.store import SCHEMA_VERSION
from gcnas.exceptions import CorruptFileError, InvalidInputError, SchemaError
from gcnas.spaces.nb201 import NB201Space


@pytest.fixture
def archs():
    return NB201Space().sample_many(20, seed=0)


def test_samples_costs_embeddings_trials_round_trip(tmp_path, archs):
    with RunStore(tmp_path / "run") as store:
        assert store.schema_version == SCHEMA_VERSION
        store.add_samples("supernet", [Sample(a, 50.0 + i, 1.0 / (i + 1), {"batch": i}) for i, a in enumerate(archs)])
        samples = store.samples("supernet")
        assert [s.arch for s in samples] == archs and samples[3].accuracy == 53.0 and samples[3].extra == {"batch": 3}
        store.write_costs("latency_ms", "cpu", archs[:5], [1.0, 2.0, 3.0, 4.0, 5.0], spreads=[0.1] * 5)
        assert store.costs("latency_ms", "cpu")[archs[1]] == (2.0, 0.1)
        assert store.cost_kinds() == [("latency_ms", "cpu", 5)]
        vectors = np.arange(40, dtype=np.float32).reshape(20, 2)
        store.write_embeddings("arch2vec", archs, vectors)
        got_archs, got = store.embeddings("arch2vec")
        assert got_archs == archs  # in the order written
        np.testing.assert_array_equal(got, vectors)
        store.add_trial("bo", Trial(0, archs[0], "ok", {"accuracy": 91.0}, {"test_acc": 90.5}))
        store.add_trial("bo", Trial(1, archs[1], "failed", {}, error="NaN accuracy"))
        trials = store.trials("bo")
        assert [t.status for t in trials] == ["ok", "failed"] and trials[0].report == {"test_acc": 90.5}
        store.finish_stage("supernet", {"epochs": 3}, seconds=1.5)
        assert store.stage("supernet") == {"epochs": 3, "seconds": 1.5} and store.stage("lut") is None
    with RunStore(tmp_path / "run") as again:  # reopening keeps everything
        assert len(again.samples("supernet")) == 20 and again.studies() == ["bo"]


def test_lookup_table_write_query_and_errors(tmp_path, archs):
    store = RunStore(tmp_path)
    accuracy = np.linspace(60, 80, len(archs))
    latency = np.linspace(5, 1, len(archs))
    latency[0] = np.nan
    store.write_lut(archs, {"accuracy": accuracy, "latency_ms": latency}, meta={"latency_ms": "test"})
    assert store.lut_columns() == ["accuracy", "latency_ms"] and store.lut_meta() == {"latency_ms": "test"}
    rows = store.select_lut(maxima={"latency_ms": 3.0}, order_by="accuracy", limit=3)
    assert [r["accuracy"] for r in rows] == sorted(accuracy[latency <= 3.0], reverse=True)[:3]
    assert store.lut_min("latency_ms") == pytest.approx(1.0)
    values = store.lut_values(archs[:2], "latency_ms")
    assert np.isnan(values[0]) and values[1] == latency[1]
    indexes = {r[1] for r in store.connection.execute("PRAGMA index_list(lut)")}
    assert {"lut_accuracy", "lut_latency_ms"} <= indexes
    with pytest.raises(InvalidInputError, match="no column 'energy_mj'.*accuracy, latency_ms"):
        store.select_lut(maxima={"energy_mj": 1.0})
    with pytest.raises(InvalidInputError, match="invalid lookup-table column"):
        store.write_lut(archs, {"DROP TABLE": accuracy})


def test_failed_transaction_leaves_no_rows(tmp_path, archs):
    store = RunStore(tmp_path)
    store.add_samples("supernet", [Sample(archs[0], 1.0)])

    def broken():
        for i, a in enumerate(archs):
            if i == 5:
                raise RuntimeError("killed mid-batch")
            yield Sample(a, float(i))

    with pytest.raises(RuntimeError):
        store.add_samples("supernet", broken())
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO stages VALUES ('x', '{}', 1.0, 1.0)")
            raise RuntimeError("killed")
    assert len(store.samples("supernet")) == 1 and store.stage("x") is None


def _write_forever(path):  # pragma: no cover - runs in a child that gets killed
    store = RunStore(path)
    archs = NB201Space().all_archs()[:500]
    for i in range(10**6):
        store.add_samples(f"batch{i}", [Sample(a, float(i)) for a in archs])


def test_killed_writer_leaves_whole_batches(tmp_path):
    process = multiprocessing.get_context("spawn").Process(target=_write_forever, args=(str(tmp_path),))
    process.start()
    process.join(timeout=4.0)
    process.kill()
    process.join()
    counts = RunStore(tmp_path).connection.execute(
        "SELECT source, COUNT(*) FROM samples GROUP BY source").fetchall()
    assert counts and all(count == 500 for _, count in counts)


def test_newer_schema_and_corrupt_files_are_refused(tmp_path):
    RunStore(tmp_path / "new").connection.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(SchemaError, match="schema version 99.*upgrade gcnas"):
        RunStore(tmp_path / "new")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "gcnas.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptFileError, match="not a readable SQLite database"):
        RunStore(tmp_path / "bad")


def test_unwritable_run_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidInputError, match="cannot create run directory"):
        RunStore(blocker / "run")


def test_atomic_write_replaces_whole_file(tmp_path):
    path = atomic_write(tmp_path / "a" / "config.json", "{}")
    atomic_write(path, b'{"x": 1}')
    assert path.read_text() == '{"x": 1}' and list(path.parent.iterdir()) == [path]
    assert sqlite3.sqlite_version
