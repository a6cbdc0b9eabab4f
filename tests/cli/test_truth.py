"""``--truth table:CSV:COLUMN`` on every command that ranks or picks cells: reported, never used.

Each command runs once with the real truth and once with a truth whose column is permuted
across rows (``truth_csvs``). Everything that is not a truth figure (scores, predictions,
picks, trial order, lookup-table rows) must be identical; the truth figures must differ.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from tests.conftest import cli_json, run_cli

TRUE = "true_test_acc"


def _without_truth(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != TRUE} for row in rows]


def _specs(truth_csvs) -> tuple[str, str]:
    real, shuffled = truth_csvs
    return f"table:{real}:test_acc", f"table:{shuffled}:test_acc"


def _assert_only_truth_differs(real: dict, shuffled: dict) -> None:
    assert set(real) == {"rows", "truth"} == set(shuffled)
    assert _without_truth(real["rows"]) == _without_truth(shuffled["rows"])
    assert [r.get(TRUE) for r in real["rows"]] != [r.get(TRUE) for r in shuffled["rows"]]
    assert real["truth"]["n"] == shuffled["truth"]["n"] >= 3
    assert real["truth"] != shuffled["truth"]


def test_supernet_sample(tmp_path, capsys, truth_csvs):
    real, shuffled = _specs(truth_csvs)
    trained = tmp_path / "trained"
    assert main(["supernet", "train", "--run", str(trained), "--channels", "4", "--cells", "1", "--epochs", "1",
                 "--batch-size", "32", "--steps-per-epoch", "2", "--device", "cpu", "--format", "json"]) == 0
    capsys.readouterr()
    outputs = []
    for name, truth in (("a", real), ("b", shuffled)):  # two copies: each scores its samples afresh
        run = tmp_path / name
        shutil.copytree(trained, run)
        outputs.append(cli_json(capsys, "supernet", "sample", "--run", run, "--num", "6", "--bn-recalibrate", "1",
                                "--limit", "1", "--device", "cpu", "--truth", truth))
    _assert_only_truth_differs(*outputs)
    assert len(outputs[0]["rows"]) == 6 and outputs[0]["truth"]["column"] == "test_acc"
    code, out, _ = run_cli(capsys, "supernet", "sample", "--run", tmp_path / "a", "--num", "6", "--device", "cpu",
                           "--truth", real)
    assert code == 0 and TRUE in out.splitlines()[0] and "vs truth test_acc: Kendall tau" in out


def test_predictor_eval_and_lut_query(tmp_path, capsys, small_table, truth_csvs):
    real, shuffled = _specs(truth_csvs)
    run = tmp_path / "run"
    assert main(["predictor", "fit", "--model", "gbt", "--table", str(small_table.path), "--metric", "valid_acc",
                 "--num-train", "60", "--ensemble", "1", "--run", str(run)]) == 0
    capsys.readouterr()
    evals = [cli_json(capsys, "predictor", "eval", "--table", small_table.path, "--metric", "valid_acc",
                      "--truth", truth, "--run", run) for truth in (real, shuffled)]
    assert {k: v for k, v in evals[0].items() if k != "truth"} == {k: v for k, v in evals[1].items() if k != "truth"}
    assert evals[0]["n"] == 240 and "precision_at_5" in evals[0]
    assert evals[0]["truth"]["n"] == 240 and evals[0]["truth"]["kendall_tau"] > 0.3
    assert evals[0]["truth"] != evals[1]["truth"] and abs(evals[1]["truth"]["kendall_tau"]) < 0.2
    alone = cli_json(capsys, "predictor", "eval", "--truth", real, "--run", run)  # --truth in place of --table
    assert alone["metric"] == "test_acc" and alone["n"] == 15625 - 60
    assert alone["kendall_tau"] == alone["truth"]["kendall_tau"]
    code, out, _ = run_cli(capsys, "predictor", "eval", "--truth", real, "--run", run)
    assert code == 0 and "precision_at_5" in out and "vs truth test_acc: Kendall tau" in out

    assert main(["lut", "build", "--energy", "none", "--run", str(run)]) == 0
    capsys.readouterr()
    for extra in ([], ["--sort", "pareto", "--pareto-cost", "params_m"], ["--all-members"]):
        queries = [cli_json(capsys, "lut", "query", "--top", "8", *extra, "--truth", truth, "--run", run)
                   for truth in (real, shuffled)]
        _assert_only_truth_differs(*queries)
        assert queries[0]["truth"]["n"] == (15625 if extra == ["--all-members"] else 6466)
        plain = cli_json(capsys, "lut", "query", "--top", "8", *extra, "--run", run)
        assert _without_truth(queries[0]["rows"]) == plain
    code, out, err = run_cli(capsys, "lut", "query", "--top", "3", "--truth", real, "--run", run, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3 and all(float(r[TRUE]) > 0 for r in rows)
    assert err.startswith("vs truth test_acc: Kendall tau")
    code, out, _ = run_cli(capsys, "lut", "query", "--top", "3", "--truth", real, "--run", run)
    assert code == 0 and TRUE in out.splitlines()[0] and "vs truth test_acc: Kendall tau" in out


@pytest.mark.parametrize("method, extra", [
    ("evolution", ["--objectives", "accuracy"]),
    ("random", ["--objectives", "accuracy,latency", "--latency-from", "table:{csv}:latency_ms"]),
    ("bo", ["--features", "onehot", "--n-init", "4"]),
])
def test_search_run(tmp_path, capsys, small_table, truth_csvs, method, extra):
    real, shuffled = _specs(truth_csvs)
    extra = [e.format(csv=small_table.path) for e in extra]
    outputs, trials = [], []
    for name, truth in (("a", real), ("b", shuffled)):
        run = tmp_path / name
        outputs.append(cli_json(capsys, "search", "run", "--run", run, "--method", method, "--budget", "12",
                                "--accuracy-from", f"table:{small_table.path}:valid_acc", *extra, "--truth", truth))
        with RunStore(run) as store:
            trials.append(store.trials(method))
    _assert_only_truth_differs(*outputs)
    assert len(trials[0]) == 12
    assert [(t.arch, t.status, t.objectives) for t in trials[0]] == [(t.arch, t.status, t.objectives)
                                                                      for t in trials[1]]
    assert [t.report[TRUE] for t in trials[0]] != [t.report[TRUE] for t in trials[1]]  # recorded, per trial
    assert outputs[0]["truth"]["n"] == 12


def test_search_run_reuses_a_report_column_and_prints_the_line(tmp_path, capsys, small_table):
    table = f"table:{small_table.path}:test_acc"
    code, out, _ = run_cli(capsys, "search", "run", "--run", tmp_path / "r", "--method", "random", "--budget", "8",
                           "--accuracy-from", f"table:{small_table.path}:valid_acc", "--report-from", table,
                           "--truth", table)
    assert code == 0 and "vs truth test_acc: Kendall tau" in out
    with RunStore(tmp_path / "r") as store:
        assert set(store.trials("random")[0].report) >= {"test_acc"}
        assert TRUE not in store.trials("random")[0].report  # not recorded twice


COMMANDS = [
    ["supernet", "sample", "--num", "3"],
    ["predictor", "eval"],
    ["lut", "query"],
    ["search", "run", "--budget", "3"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("spec, message", [
    ("foo", "--truth must be table:CSV:COLUMN"),
    ("table:{missing}:test_acc", "not found"),
    ("table:{csv}:nope", "truth column 'nope' is not in"),
])
def test_bad_truth_is_one_clear_line(tmp_path, capsys, small_table, command, spec, message):
    spec = spec.format(missing=tmp_path / "missing.csv", csv=small_table.path)
    code, out, err = run_cli(capsys, *command, "--run", tmp_path / "empty", "--truth", spec)
    assert code == 1 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_predictor_eval_needs_a_table_or_a_truth(tmp_path, capsys):
    code, _, err = run_cli(capsys, "predictor", "eval", "--run", tmp_path / "r")
    assert code == 1 and "--table CSV [--metric COL] or --truth table:CSV:COLUMN" in err


def test_judgement_line_and_record(truth_csvs):
    from gcnas.cli._common import judgement_line, judgement_record
    from gcnas.predictors import parse_truth
    from gcnas.spaces.nb201 import Arch

    truth = parse_truth(f"table:{truth_csvs[0]}:test_acc")
    archs = [Arch.from_code(c) for c in range(0, 15625, 25)]
    judged = truth.judge(archs, truth.values(archs))
    assert judgement_line(truth, judged) == ("vs truth test_acc: Kendall tau 1.000, Spearman 1.000, "
                                             "precision@5% 1.00 (n=625; top 62: tau 1.00)")
    few = truth.judge(archs[:2], [1.0, 2.0])
    assert judgement_line(truth, few) == "vs truth test_acc: too few cells with a true value to judge (n=2)"
    record = judgement_record(truth, few)
    assert record["column"] == "test_acc" and record["n"] == 2 and record["kendall_tau"] is None
    json.dumps(record, allow_nan=False)
