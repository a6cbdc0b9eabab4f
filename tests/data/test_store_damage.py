"""Damaged and read-only run stores end in one clear line, never a traceback (issue 27, item 5).

Each case damages a copy of one small run (a random search of 3 trials on a 40-row table,
plus a lookup table) and runs ``gcnas search trials``, ``gcnas search run`` and
``gcnas lut query`` on it. A command either still works (the damage is not in what it
reads, or the run is read-only and the command only reads) or exits 1 with one line on
stderr naming the store and what to do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import BenchmarkTable, RunStore
from gcnas.spaces.nb201 import NB201Space

NOBODY = 65534


@pytest.fixture(scope="module")
def base_run():
    """``(run_dir, table_csv)``: a finished 3-trial random search and a 40-row lookup table,
    in a folder any user may enter (the read-only cases run as another user when the tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="gcnas-damage-"))
    os.chmod(folder, 0o755)
    rng = np.random.default_rng(0)
    archs = NB201Space().sample_many(40, rng)
    valid = 70 + rng.normal(0, 2, len(archs))
    csv = BenchmarkTable.from_columns(np.arange(len(archs)), archs, {"valid_acc": valid}).to_csv(folder / "t.csv")
    run = folder / "base"
    assert main(["search", "run", "--run", str(run), "--method", "random", "--budget", "3",
                 "--accuracy-from", f"table:{csv}:valid_acc", "--format", "json"]) == 0
    with RunStore(run) as store:
        store.write_lut(archs, {"accuracy": valid, "params_m": np.linspace(0.1, 1.0, len(archs))})
    yield run, csv
    for path in [folder, *folder.rglob("*")]:  # (a user other than root cannot delete in read-only folders)
        if path.is_dir():
            os.chmod(path, 0o755)
    shutil.rmtree(folder)


@contextlib.contextmanager
def as_another_user():
    """Root writes anything whatever its mode: run the block as ``nobody`` when the tests run as root."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _scribble_on_page(db: Path, table: str) -> None:
    """Random bytes over the root page of ``table`` (the whole table, for these few rows)."""
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
    conn.close()
    with open(db, "r+b") as out:
        out.seek((root - 1) * size)
        out.write(np.random.default_rng(1).bytes(size))


def _damage(case: str, run: Path, command: str) -> None:
    db = run / "gcnas.sqlite"
    table = "lut" if command == "lut" else "trials"  # what the command reads
    if case == "page":
        _scribble_on_page(db, table)
    elif case == "schema_1_5":
        _sql(db, "UPDATE meta SET value='1.5' WHERE key='schema_version'")
    elif case == "bad_json":
        _sql(db, "UPDATE trials SET objectives='{not json' WHERE trial=1")
    elif case == "bad_arch":  # in the row the command shows first
        order = "accuracy DESC" if table == "lut" else "trial"
        _sql(db, f"UPDATE {table} SET arch='|bogus~0|' WHERE rowid=(SELECT rowid FROM {table} ORDER BY {order} LIMIT 1)")
    elif case == "extra_column":
        _sql(db, "ALTER TABLE trials ADD COLUMN note TEXT NOT NULL DEFAULT ''")
    elif case == "no_schema_version":
        _sql(db, "DELETE FROM meta WHERE key='schema_version'")
    elif case == "readonly_file":  # in a folder anyone may write
        os.chmod(run, 0o777)
        os.chmod(db, 0o444)
    elif case == "readonly_run":
        for path in run.iterdir():
            os.chmod(path, 0o444)
        os.chmod(run, 0o555)


# case -> what the one line says, per command; None: the command works (exit 0)
EXPECTED = {
    "page": dict.fromkeys(("trials", "run", "lut"), "is damaged (database disk image is malformed)"),
    "schema_1_5": dict.fromkeys(("trials", "run", "lut"), "has schema version '1.5', which no gcnas writes"),
    "bad_json": {"trials": "objectives column of trial 1 of study 'random' is not valid JSON",
                 "run": "objectives column of trial 1 of study 'random' is not valid JSON", "lut": None},
    "bad_arch": {"trials": "trial 0 of study 'random' has architecture '|bogus~0|', which the 'nb201' space cannot read",
                 "run": "trial 0 of study 'random' has architecture '|bogus~0|', which the 'nb201' space cannot read",
                 "lut": "a lookup-table row has architecture '|bogus~0|', which the 'nb201' space cannot read"},
    "extra_column": dict.fromkeys(("trials", "run", "lut"), "table trials has the columns"),
    "no_schema_version": dict.fromkeys(("trials", "run", "lut"), "has lost its schema version"),
    "readonly_file": {"trials": None, "run": "is read-only; make it writable", "lut": None},
    "readonly_run": {"trials": None, "run": "is not writable; choose a writable --run DIR", "lut": None},
}
WHAT_TO_DO = ("restore it", "move it away", "drop what was added", "delete that trial", "rebuild the table",
              "make it writable", "choose a writable")


@pytest.mark.parametrize("command", ["trials", "run", "lut"])
@pytest.mark.parametrize("case", list(EXPECTED))
def test_a_damaged_or_read_only_store_ends_in_one_clear_line(base_run, tmp_path, capsys, case, command):
    base, csv = base_run
    run = Path(tempfile.mkdtemp(dir=base.parent, prefix=f"{case}-{command}-"))
    shutil.rmtree(run)
    shutil.copytree(base, run)
    _damage(case, run, command)
    # a read-only store must be refused before the table is read (a table that does not exist), let alone a cell evaluated
    table = tmp_path / "absent.csv" if case.startswith("readonly") else csv
    args = {"trials": ["search", "trials", "--study", "random"],
            "run": ["search", "run", "--method", "random", "--budget", "5", "--accuracy-from", f"table:{table}:valid_acc"],
            "lut": ["lut", "query", "--top", "2"]}[command]
    with as_another_user() if case.startswith("readonly") else contextlib.nullcontext():
        status = main([*args, "--run", str(run)])
    out, err = capsys.readouterr()
    expected = EXPECTED[case][command]
    if expected is None:
        assert status == 0 and out.strip() and "Traceback" not in err
        return
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1, err
    assert expected in lines[0] and str(run) in lines[0], lines[0]
    assert any(hint in lines[0] for hint in WHAT_TO_DO), lines[0]


def test_a_read_only_run_is_read_without_a_trace(base_run):
    # the immutable read leaves no -wal/-shm behind, and a store opened read-only refuses writes clearly
    base, _ = base_run
    run = base.parent / "ro-copy"
    shutil.copytree(base, run)
    _damage("readonly_run", run, "trials")
    with as_another_user():
        with RunStore(run, mode="auto") as store:
            assert store.read_only and len(store.trials("random")) == 3
            with pytest.raises(Exception, match="opened read-only"):
                store.finish_stage("x")
    assert sorted(p.name for p in run.iterdir()) == ["gcnas.sqlite"]


def test_a_pickled_npz_for_features_is_refused_in_one_line(base_run, tmp_path, capsys):
    _, csv = base_run
    archs = NB201Space().sample_many(5, np.random.default_rng(0))
    npz = tmp_path / "objects.npz"
    np.savez(npz, codes=np.array([a.code for a in archs]), z=np.array([object()] * len(archs), dtype=object))
    status = main(["search", "run", "--run", str(tmp_path / "run"), "--method", "bo", "--budget", "3", "--n-init", "2",
                   "--features", str(npz), "--accuracy-from", f"table:{csv}:valid_acc"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(lines) == 1, lines
    assert "holds pickled Python objects" in lines[0] and str(npz) in lines[0] and "np.savez" in lines[0]
