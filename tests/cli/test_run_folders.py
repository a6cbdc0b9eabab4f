"""A misspelled --run or a failed command leaves no run folder behind; a command that only
reads says "no run at DIR" and creates nothing; what a command wrote is never removed."""

from __future__ import annotations

import argparse
import sqlite3

import pytest

from gcnas.cli import main
from gcnas.cli._common import discard_empty_run, no_empty_run_left
from gcnas.data import RunStore, Sample
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import NB201Space

READERS = [["lut", "query"], ["search", "trials"], ["search", "compare"]]


@pytest.mark.parametrize("argv", READERS)
def test_a_reader_on_a_missing_run_creates_nothing(tmp_path, capsys, argv):
    assert main([*argv, "--run", str(tmp_path / "runs" / "typo")]) == 1
    err = capsys.readouterr().err
    assert "no run at" in err and "typo" in err and "(no such folder)" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", READERS)
def test_a_reader_on_a_folder_without_a_store_writes_none(tmp_path, capsys, argv):
    assert main([*argv, "--run", str(tmp_path)]) == 1
    assert "no run at" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_a_failed_command_removes_the_folders_it_made(tmp_path, capsys):
    run = tmp_path / "a" / "b" / "run"
    assert main(["predictor", "fit", "--samples", "--run", str(run)]) == 1
    assert "has no samples" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_command_keeps_a_folder_that_was_there(tmp_path, capsys):
    run = tmp_path / "mine"
    run.mkdir()
    assert main(["predictor", "fit", "--samples", "--run", str(run)]) == 1
    assert run.is_dir()


def _failing(args, before=None):
    with pytest.raises(InvalidInputError):
        with no_empty_run_left(args):
            if before:
                before()
            raise InvalidInputError("failed")


def test_what_the_failed_command_wrote_is_kept(tmp_path):
    run = tmp_path / "runs" / "run"
    args = argparse.Namespace(run=str(run))
    archs = NB201Space().sample_many(3, seed=0)
    _failing(args, lambda: RunStore(run).add_samples("supernet", [Sample(a, 50.0) for a in archs]))
    with RunStore(run) as store:
        assert len(store.samples("supernet")) == 3
    other = tmp_path / "other" / "run"
    _failing(argparse.Namespace(run=str(other)), lambda: (RunStore(other).close(), (other / "note").write_text("x")))
    assert (other / "note").read_text() == "x"


def test_an_empty_store_goes_with_its_folder_up_to_the_first_it_made(tmp_path):
    made = tmp_path / "new"
    run = made / "deeper" / "run"
    store = RunStore(run)  # left open, as a failed command may leave it
    (made / "sibling").mkdir()
    assert discard_empty_run(run, made)
    assert not (made / "deeper").exists() and (made / "sibling").is_dir()  # stops at a folder not empty
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        store.samples()  # closed before its files were removed
