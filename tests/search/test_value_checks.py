"""Checked values (issue 27, item 4): table values refused out of range, rows without a value
counted, a search short of its budget says so, user objectives' values checked on evaluation,
failed cells retried once when a study is continued."""

import json
import math
from collections import Counter

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import BenchmarkTable, RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.parallel import make_executor
from gcnas.search import CallableObjective, RandomSearch, Study, TableObjective, ToldObjective, run_search
from gcnas.spaces.nb201 import Arch

CELLS = [Arch.from_code(code) for code in range(0, 15625, 311)]   # 51 cells, spread over the space


def _table(path, n, **columns):
    """A CSV of the first ``n`` CELLS (index = code); each column's values default to a sane range."""
    values = {"valid_acc": np.linspace(60.0, 90.0, n), "latency_ms": np.linspace(1.0, 9.0, n)}
    for name, changes in columns.items():
        for row, value in changes.items():
            values[name][row] = value
    cells = CELLS[:n]
    return BenchmarkTable.from_columns([a.code for a in cells], cells, values).to_csv(path)


def _search(csv, run, *extra):
    return ["search", "run", "--run", str(run), "--method", "random", "--accuracy-from", f"table:{csv}:valid_acc",
            *extra]


# -- table values, checked when read ----------------------------------------------------------

@pytest.mark.parametrize("column, bad, said", [
    ("valid_acc", -5.0, "-5 at line 4 (index 622, arch |"),
    ("valid_acc", 1e308, "1e+308 at line 4"),
    ("valid_acc", math.inf, "inf at line 4"),
    ("latency_ms", 0.0, "0 at line 4"),
])
def test_a_table_value_out_of_range_is_refused_naming_file_column_row_and_value(tmp_path, capsys, column, bad,
                                                                                  said):
    csv = _table(tmp_path / "t.csv", 10, **{column: {2: bad}})
    args = _search(csv, tmp_path / "r", "--budget", "4", "--objectives", "accuracy,latency",
                   "--latency-from", f"table:{csv}:latency_ms")
    assert main(args) == 1                                   # before: 0, the value became a trial
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(csv) in err and f"column {column}" in err and said in err
    if math.isfinite(bad):
        expected = "outside > 0" if column == "latency_ms" else "outside [0, 100]"
        assert expected in err and f"--allow-range {column}:LOW:HIGH" in err
    else:
        assert "is not a finite number" in err
    with RunStore(tmp_path / "r") as store:
        assert store.trials("random") == []


def test_allow_range_accepts_another_range_and_refuses_a_name_it_cannot_use(tmp_path, capsys):
    csv = _table(tmp_path / "t.csv", 10, valid_acc={2: -5.0})
    for flag in ("valid_acc:-10:100", "accuracy:-5:"):      # by column or by objective name; HIGH empty: none
        assert main(_search(csv, tmp_path / flag.replace(":", "_"), "--budget", "10", "--allow-range", flag)) == 0
    capsys.readouterr()
    clean = _table(tmp_path / "clean.csv", 10)
    for flag, said in (("valid_ac:0:1", "no table column of this search is called 'valid_ac'"),
                       ("valid_acc:5", "--allow-range takes NAME:LOW:HIGH"),
                       ("valid_acc:9:1", "LOW <= HIGH")):
        assert main(_search(clean, tmp_path / "bad", "--budget", "3", "--allow-range", flag)) == 1
        assert said in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["search", "run", "--help"])
    assert "--allow-range NAME:LOW:HIGH" in capsys.readouterr().out
    # Python: the same check when the objective is built, the same escape
    table = BenchmarkTable(csv)
    with pytest.raises(InvalidInputError, match=r"column valid_acc: -5 at line 4 .* outside \[0, 100\]"):
        TableObjective("valid_acc", table=table)
    assert TableObjective("valid_acc", table=table, value_range=(-5, 100)).value_range == (-5.0, 100.0)


# -- rows without a value, a search short of its budget ------------------------------------------

def test_rows_without_a_value_are_counted_and_reported(tmp_path, capsys):
    csv = _table(tmp_path / "t.csv", 12, valid_acc={1: math.nan, 4: math.nan, 5: math.nan, 9: math.nan})
    assert main(_search(csv, tmp_path / "r", "--budget", "6", "--format", "json")) == 0
    out, err = capsys.readouterr()
    assert f"4 rows of {csv} have no value in valid_acc and were left out" in err       # before: silent
    row = json.loads(out)[0]
    assert row["rows_left_out"] == {"accuracy": 4} and row["short_of_budget"] == 0
    missing = {CELLS[i].code for i in (1, 4, 5, 9)}
    with RunStore(tmp_path / "r") as store:
        assert not missing & {t.arch.code for t in store.trials("random")}


@pytest.mark.parametrize("objectives", ["accuracy", "accuracy,latency"])
def test_a_search_short_of_its_budget_says_so_and_exits_zero(tmp_path, capsys, objectives):
    csv = _table(tmp_path / "t.csv", 8)
    args = _search(csv, tmp_path / "r", "--budget", "10", "--objectives", objectives,
                   "--latency-from", f"table:{csv}:latency_ms", "--format", "json")
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "search stopped at 8 of 10 trials: no candidates left (the table has values for 8 cells)" in err
    record = json.loads(out)
    if objectives == "accuracy":
        assert record[0]["trials"] == 8 and record[0]["short_of_budget"] == 2      # before: no such field
    else:
        assert record["short_of_budget"] == 2 and record["rows"]
    with RunStore(tmp_path / "r") as store:
        assert store.stage("search:random")["short_of_budget"] == 2
    # Python: a warning (SearchNotice), the same words
    from gcnas.search.checks import SearchNotice

    table = BenchmarkTable(csv)
    with pytest.warns(SearchNotice, match="search stopped at 8 of 9 trials: no candidates left"):
        run_search(RandomSearch(), [TableObjective("valid_acc", table=table)], budget=9)


# -- a user objective's values, checked on evaluation -----------------------------------------------

BAD = {CELLS[3].code: -5.0, CELLS[5].code: 1e308, CELLS[7].code: math.inf, CELLS[9].code: math.nan}


def _accuracy(arch):
    return BAD.get(arch.code, 50.0 + arch.code % 7)


class _Spy(RandomSearch):
    """Random search that keeps every value it was shown."""

    seen: list = []

    def _ask(self, obs, n, rng, free):
        _Spy.seen.extend(obs.Y[np.isfinite(obs.Y)].tolist())
        return super()._ask(obs, n, rng, free)


def test_a_user_objective_value_out_of_range_or_not_finite_fails_its_trial_and_is_never_seen():
    _Spy.seen = []
    cells = CELLS[:12]
    result = run_search(_Spy(candidates=cells), [CallableObjective("accuracy", fn=_accuracy)], budget=12, seed=0)
    errors = {t.arch.code: t.error for t in result.trials if t.status == "failed"}
    assert set(errors) == set(BAD)                                          # before: -5 and 1e308 were "ok"
    assert "accuracy returned -5, outside [0, 100]" in errors[CELLS[3].code]
    assert "accuracy returned 1e+308, outside [0, 100]" in errors[CELLS[5].code]
    assert "returned inf" in errors[CELLS[7].code] and "returned nan" in errors[CELLS[9].code]
    assert _Spy.seen and all(0 <= v <= 100 for v in _Spy.seen)               # nothing bad reached the searcher
    wider = CallableObjective("accuracy", fn=_accuracy, value_range=(-10, 100))
    result = run_search(RandomSearch(candidates=cells), [wider], budget=12, seed=0)
    assert {t.arch.code for t in result.trials if t.status == "failed"} == set(BAD) - {CELLS[3].code}


def test_a_told_value_out_of_range_fails_its_trial():
    study = Study(RandomSearch(candidates=CELLS[:6]), ["accuracy"], seed=0)
    told = [study.tell(study.ask()[0], value) for value in (1e308, -1.0, 88.0)]
    assert [t.status for t in told] == ["failed", "failed", "ok"]             # before: all ok
    assert "outside [0, 100]" in told[0].error
    fraction = Study(RandomSearch(candidates=CELLS[:6]), [ToldObjective("accuracy", value_range=(0, 1))], seed=0)
    assert [fraction.tell(fraction.ask()[0], v).status for v in (0.9, 50.0)] == ["ok", "failed"]


# -- failed cells retried once when the study is continued -----------------------------------------

@pytest.mark.parametrize("workers", [None, 2])
def test_failed_cells_are_retried_once_when_the_study_is_extended(tmp_path, workers):
    calls = Counter()

    def flaky(arch):                     # code % 5 == 0: always fails; == 1: fails the first time only
        calls[arch.code] += 1
        if arch.code % 5 == 0 or (arch.code % 5 == 1 and calls[arch.code] == 1):
            raise RuntimeError("worker lost")
        return 50.0 + arch.code % 7

    def run(budget):
        executor = make_executor("inline", workers) if workers else None
        with RunStore(tmp_path / "run") as store:
            return run_search(RandomSearch(candidates=CELLS), [CallableObjective("accuracy", fn=flaky)],
                              budget=budget, store=store, seed=1, executor=executor).trials

    first = run(12)
    failed = [t for t in first if t.status == "failed"]
    assert failed and len(failed) < 8
    second = run(20)                                                        # the study extended
    key = [(t.trial, t.arch, t.status, t.error) for t in first]
    assert [(t.trial, t.arch, t.status, t.error) for t in second[:12]] == key   # the failed trials stay
    retried = second[12:12 + len(failed)]
    assert [t.arch for t in retried] == [t.arch for t in failed]            # before: never proposed again
    assert [t.report["retry_of"] for t in retried] == [t.trial for t in failed]
    assert all(t.status == ("failed" if t.arch.code % 5 == 0 else "ok") for t in retried)
    third = run(30)
    per_cell = Counter(t.arch.code for t in third)
    assert max(per_cell.values()) == 2                                      # retried at most once
    for code in (c for c, n in per_cell.items() if n == 2):
        once, again = [t for t in third if t.arch.code == code]
        assert once.status == "failed" and again.report["retry_of"] == once.trial
    assert sum(calls.values()) == 30
