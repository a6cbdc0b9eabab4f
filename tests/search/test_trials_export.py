"""Search results as data: ``SearchResult.to_records`` / ``to_csv`` and ``gcnas search trials``."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.search import CallableObjective, Constraint, RandomSearch, SearchResult, TableObjective, run_search

BUDGET = 12


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def study(small_table, tmp_path):
    """A finished random search over ``small_table``: valid_acc searched, test_acc reported, a latency
    bound, and a params objective that fails on every cell with a ``none`` on its first edge."""
    failing = {a.code for a in small_table.archs if a.ops[0] == 0}

    def params(arch):
        if arch.code in failing:
            raise RuntimeError("no params for this cell")
        return float(sum(arch.ops))

    objectives = [TableObjective("valid_acc", table=small_table),
                  CallableObjective("cost", fn=params, maximize=False)]
    constraints = [Constraint(TableObjective("latency_ms", table=small_table, maximize=False), upper=4.0)]
    run = tmp_path / "run"
    with RunStore(run) as store:
        run_search(RandomSearch(), objectives, budget=BUDGET, store=store, study="rs", constraints=constraints,
                   report=[TableObjective("test_acc", table=small_table)], seed=3)
        return run, SearchResult.load(store, "rs"), failing


def test_records_hold_every_trial_with_index_objectives_report_and_timings(study, small_table):
    run, result, failing = study
    records = result.to_records(small_table)
    assert len(records) == BUDGET and [r["trial"] for r in records] == list(range(BUDGET))
    assert all(list(r) == list(records[0]) for r in records)        # one schema for every row
    assert list(records[0])[:7] == ["trial", "status", "code", "arch", "index", "valid_acc", "cost"]
    assert {"test_acc", "latency_ms", "feasible", "ask_seconds", "eval_seconds", "error"} <= set(records[0])
    failed = [r for r in records if r["code"] in failing]
    assert failed, "the seeded study should hit a failing cell"
    for record, trial in zip(records, result.trials):
        assert record["arch"] == str(trial.arch) and record["code"] == trial.arch.code
        assert record["index"] == small_table.index(trial.arch)
        assert record["valid_acc"] == pytest.approx(small_table.value(trial.arch, "valid_acc"))
        assert record["test_acc"] == pytest.approx(small_table.value(trial.arch, "test_acc"))
        assert record["latency_ms"] == pytest.approx(small_table.value(trial.arch, "latency_ms"))
        assert record["feasible"] == (record["status"] == "ok" and record["latency_ms"] <= 4.0)
        assert record["eval_seconds"] >= 0 and record["ask_seconds"] >= 0
        if record["code"] in failing:
            assert record["status"] == "failed" and record["cost"] is None and "no params" in record["error"]
        else:
            assert record["status"] == "ok" and record["cost"] == sum(trial.arch.ops) and record["error"] is None
    assert all(r["index"] is None for r in result.to_records())     # no table: the index is unknown
    json.loads(json.dumps(records, allow_nan=False))                 # strict JSON as they are


def test_to_csv_reads_back(study, small_table, tmp_path):
    _, result, _ = study
    path = result.to_csv(tmp_path / "out" / "trials.csv", small_table)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = result.to_records(small_table)
    assert len(rows) == len(records) and list(rows[0]) == list(records[0])
    for row, record in zip(rows, records):
        assert int(row["index"]) == record["index"] and row["arch"] == record["arch"]
        assert (row["cost"] == "") == (record["cost"] is None)
        if record["cost"] is not None:
            assert float(row["cost"]) == record["cost"]


def test_cli_search_trials_json_csv_table(study, small_table, capsys):
    run, result, failing = study
    base = ["search", "trials", "--run", str(run), "--table", str(small_table.path)]
    assert main([*base, "--format", "json"]) == 0
    rows = _strict_json(capsys.readouterr().out)
    assert rows == result.to_records(small_table)

    assert main([*base, "--study", "rs", "--format", "csv"]) == 0
    table_rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["trial"]) for r in table_rows] == list(range(BUDGET))
    assert [r["status"] for r in table_rows] == [r["status"] for r in rows]

    assert main([*base, "--format", "table"]) == 0
    printed = capsys.readouterr().out
    failed = sum(r["status"] == "failed" for r in rows)
    assert f"study 'rs': {BUDGET} trials, {failed} failed" in printed
    assert all(str(r["index"]) in printed for r in rows)


def test_cli_search_trials_errors(study, small_table, capsys):
    run, _, _ = study
    with RunStore(run) as store:
        run_search(RandomSearch(), [TableObjective("valid_acc", table=small_table)], budget=3, store=store,
                   study="other")
    assert main(["search", "trials", "--run", str(run)]) == 1
    assert "holds 2 search studies (other, rs); name one with --study" in capsys.readouterr().err
    assert main(["search", "trials", "--run", str(run), "--study", "nope"]) == 1
    assert "no search study 'nope'" in capsys.readouterr().err


def test_nan_values_become_none():
    from gcnas.search.history import _plain

    assert _plain(math.nan) is None and _plain(np.float64("inf")) is None and _plain(np.float32(1.5)) == 1.5
    assert _plain(True) is True and _plain("note") == "note"
