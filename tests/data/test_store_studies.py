"""Study settings and writer locks in the run store (issue 27, item 2): schema 2, the
migration of schema-1 runs (settings in ``RUN/search_STUDY.json``), and the per-study lock."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import warnings

import pytest

from gcnas.data import RunStore
from gcnas.data.store import (SCHEMA_VERSION, StoreConflictError, StoreNotice, StudyLockedError, Trial,
                              legacy_study_file)
from gcnas.exceptions import InvalidInputError
from gcnas.search import RandomSearch, SearchResult, TableObjective, run_search


def _search(table, store, *, budget=4, seed=0, column="valid_acc", study="s"):
    objective = TableObjective(column, table=table)
    return run_search(RandomSearch(candidates=table.archs), [objective], budget=budget, store=store, study=study,
                      seed=seed)


def _lock_row(store, study="s"):
    return store.connection.execute("SELECT pid, host FROM study_locks WHERE study=?", (study,)).fetchone()


def _schema_1_run(table, run):
    """A run as gcnas wrote it before schema 2: version 1, no studies/study_locks, settings in a JSON file."""
    with RunStore(run) as store:
        _search(table, store)
        settings = store.study_settings("s")
    conn = sqlite3.connect(run / "gcnas.sqlite")
    conn.executescript("DROP TABLE studies; DROP TABLE study_locks; "
                       "UPDATE meta SET value='1' WHERE key='schema_version';")
    conn.close()
    (run / legacy_study_file("s")).write_text(json.dumps(settings, indent=2, sort_keys=True))
    return settings


def test_settings_are_recorded_in_the_store_with_the_study(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        assert store.schema_version == SCHEMA_VERSION == 3 and store.study_settings("s") is None
        _search(small_table, store)
        assert store.study_settings("s")["seed"] == 0 and store.study_settings("s")["method"] == "random"
        assert _lock_row(store) is None                     # given back when the search ended
    assert [p.name for p in (tmp_path / "run").iterdir() if p.suffix == ".json"] == []


def test_a_schema_1_run_migrates_its_settings_file_and_then_ignores_files(small_table, tmp_path):
    run = tmp_path / "run"
    settings = _schema_1_run(small_table, run)
    with RunStore(run, mode="ro") as old:                  # read-only: no migration, answered from the file
        assert old.schema_version == 1 and old.study_settings("s") == settings
        assert SearchResult.load(old, "s").objectives == ["valid_acc"]
    with RunStore(run) as store:                           # writable: migrated, the file imported
        assert store.schema_version == SCHEMA_VERSION and store.study_settings("s") == settings
        for path in run.glob("*.json"):
            path.unlink()
        assert len(_search(small_table, store, budget=6)) == 6      # the same settings resume
        with pytest.raises(InvalidInputError, match=r"other settings \(seed: 0 -> 1\)"):
            _search(small_table, store, budget=8, seed=1)
        with pytest.raises(InvalidInputError, match="other settings.*test_acc"):
            _search(small_table, store, budget=8, column="test_acc")
        assert len(store.trials("s")) == 6 and _lock_row(store) is None


def test_a_second_writer_is_refused_naming_the_first(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        store.connection.execute("INSERT INTO study_locks VALUES ('s', 1, ?, '', ?)",   # pid 1 lives
                                 (socket.gethostname(), time.time()))
        with pytest.raises(StudyLockedError, match=rf"study 's' in {tmp_path / 'run'} is being written by pid 1 on "
                                                   rf"{socket.gethostname()} since 20\d\d-.*; wait for it or use "
                                                   "another --study"):
            _search(small_table, store)
        assert store.trials("s") == [] and store.study_settings("s") is None
        store.connection.execute("UPDATE study_locks SET host='elsewhere'")   # never presumed dead
        with pytest.raises(StudyLockedError, match="by pid 1 on elsewhere"):
            _search(small_table, store)


def test_a_stale_lock_is_taken_over_with_a_notice(small_table, tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    reused = os.getppid()  # a live process, but not the one that took the lock (another start time)
    with RunStore(tmp_path / "run") as store:
        for pid, start in ((gone.pid, ""), (reused, "1")):
            store.connection.execute("INSERT OR REPLACE INTO study_locks VALUES ('s', ?, ?, ?, ?)",
                                     (pid, socket.gethostname(), start, time.time()))
            if start and not os.path.exists(f"/proc/{pid}/stat"):
                continue  # (no /proc: a reused pid cannot be told from its first owner)
            with pytest.warns(StoreNotice, match=f"by pid {pid} on .* which has gone; taking it over"):
                store.claim_study("s")
            assert _lock_row(store) == (os.getpid(), socket.gethostname())
            store.release_study("s")
            assert _lock_row(store) is None


def test_the_lock_is_given_back_on_errors_and_ctrl_c(small_table, tmp_path):
    def stop(error):
        def callback(trial):
            raise error
        return callback

    with RunStore(tmp_path / "run") as store:
        for error in (RuntimeError("boom"), KeyboardInterrupt()):
            with pytest.raises(type(error)):
                run_search(RandomSearch(candidates=small_table.archs), [TableObjective("valid_acc", table=small_table)],
                           budget=4, store=store, study="s", callback=stop(error))
            assert _lock_row(store) is None
        store.claim_study("s")
        store.claim_study("s")                  # claims count within a process
        store.release_study("s")
        assert _lock_row(store) is not None
    with RunStore(tmp_path / "run") as again, warnings.catch_warnings():
        warnings.simplefilter("error")          # closing the store gave it back: no stale lock to take over
        assert _lock_row(again) is None
        again.claim_study("s")


def test_an_ask_tell_study_holds_the_lock_until_closed(small_table, tmp_path):
    from gcnas.search import Study

    with RunStore(tmp_path / "run") as store:
        with Study(RandomSearch(candidates=small_table.archs), ["valid_acc"], store=store, study="s") as study:
            (arch,) = study.ask()
            study.tell(arch, 71.0)
            assert _lock_row(store) == (os.getpid(), socket.gethostname())
        assert _lock_row(store) is None and store.study_settings("s")["interface"] == "ask/tell"


def test_a_row_written_twice_is_a_clear_conflict_not_an_integrity_error(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        trial = Trial(0, small_table.archs[0], "ok", {"valid_acc": 70.0})
        store.add_trial("s", trial)
        with pytest.raises(StoreConflictError, match="refused a row that it holds already .*another process is "
                                                     "probably writing the same study"):
            store.add_trial("s", trial)
