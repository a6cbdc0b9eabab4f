"""Two processes on one study (issue 27, item 2): exactly one writes it, the other is refused in
one line; the study keeps the winner's settings, and no deleted file unsets them.

The second process is forked from this one (everything already imported), so the race takes
about the time of the winner's three trials rather than two interpreters' start-up.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import time

import gcnas.cli.search  # noqa: F401 - everything the search needs is imported before the fork
import gcnas.predictors  # noqa: F401
import gcnas.search.checks  # noqa: F401
from gcnas.cli import main
from gcnas.data import RunStore


def _args(run, csv, seed, column, budget=3):
    return ["search", "run", "--run", str(run), "--study", "race", "--method", "random", "--budget", str(budget),
            "--seed", seed, "--accuracy-from", f"table:{csv}:{column}", "--format", "json"]


def _race(pipe, argv):  # the other racer, in a forked process: its exit status and output go back through the pipe
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except BaseException as error:  # noqa: BLE001 - a traceback is a result here (the bug this test is for)
            status, err = None, io.StringIO(f"Traceback: {type(error).__name__}: {error}")
    pipe.send((status, out.getvalue(), err.getvalue()))


def test_two_processes_race_for_one_study(small_table, tmp_path, capsys, monkeypatch):
    # this process (seed 0, valid_acc) and a forked one (seed 1, test_acc) start the same study together;
    # each stored trial is held 0.5 s, so the two overlap whichever claims the study first
    run, csv = tmp_path / "run", small_table.path
    racers = {"0": "valid_acc", "1": "test_acc"}
    add_trial = RunStore.add_trial

    def slow(self, study, trial):
        add_trial(self, study, trial)
        time.sleep(0.5)

    monkeypatch.setattr(RunStore, "add_trial", slow)
    receive, send = multiprocessing.Pipe(duplex=False)
    other = multiprocessing.get_context("fork").Process(target=_race, args=(send, _args(run, csv, "1", racers["1"])))
    other.start()
    mine = main(_args(run, csv, "0", racers["0"]))
    out, err = capsys.readouterr()
    assert receive.poll(60), "the other racer did not finish"
    results = {"0": (mine, out, err), "1": receive.recv()}
    other.join(timeout=60)
    monkeypatch.undo()

    winners = [seed for seed, (status, _, _) in results.items() if status == 0]
    assert len(winners) == 1, results
    (winner,), (loser,) = winners, [seed for seed in racers if seed not in winners]
    status, out, err = results[loser]
    lines = err.strip().splitlines()
    assert status == 1 and not out and len(lines) == 1, results[loser]
    winner_pid = os.getpid() if winner == "0" else other.pid
    assert lines[0].startswith(f"gcnas search: error: study 'race' in {run} is being written by pid {winner_pid} on ")
    assert lines[0].endswith("; wait for it or use another --study")
    with RunStore(run) as store:
        settings = store.study_settings("race")
        assert len(store.trials("race")) == 3
    assert settings["seed"] == int(winner) and settings["objective_sources"][0]["column"] == racers[winner]

    # the loser's settings are refused on resume, even with every JSON file of the run deleted
    for path in run.glob("*.json"):
        path.unlink()
    assert main(_args(run, csv, loser, racers[loser], budget=5)) == 1
    err = capsys.readouterr().err
    assert "study 'race'" in err and "was started with other settings" in err and f"seed: {winner} -> {loser}" in err
