from __future__ import annotations

import json

import pytest

from gcnas.data import RunStore, Sample
from gcnas.spaces.nb201 import NB201Space
from tests.conftest import run_cli


def test_fit_eval_build_query(tmp_path, capsys, small_table, latency_csv):
    run = str(tmp_path / "run")
    code, out, _ = run_cli(capsys, "predictor", "fit", "--model", "gbt", "--table", str(small_table.path),
                           "--metric", "valid_acc", "--num-train", "60", "--ensemble", "1", "--run", run,
                           "--format", "json")
    assert code == 0
    fitted = json.loads(out)
    assert fitted["n_train"] == 60 and fitted["model"] == "gbt" and fitted["train_kendall_tau"] > 0.5
    code, out, _ = run_cli(capsys, "predictor", "eval", "--table", str(small_table.path), "--metric", "test_acc",
                           "--run", run, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["n"] == 240 and report["kendall_tau"] > 0.3  # 300 rows - 60 trained
    code, out, _ = run_cli(capsys, "lut", "build", "--latency", f"{latency_csv}:cpu", "--run", run)
    assert code == 0 and "15625" in out and "latency_ms" in out
    code, out, _ = run_cli(capsys, "lut", "query", "--max-latency-ms", "3", "--max-params-m", "0.9", "--top", "4",
                           "--run", run, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4 and all(r["latency_ms"] <= 3 for r in rows)
    code, out, _ = run_cli(capsys, "lut", "query", "--sort", "pareto", "--top", "5", "--run", run, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("rank,code,index,arch,accuracy") and len(out.splitlines()) == 6
    code, out, _ = run_cli(capsys, "lut", "query", "--top", "3", "--run", run)
    assert code == 0 and "accuracy" in out and "ms)" in out


def test_fit_on_supernet_samples(tmp_path, capsys):
    run = tmp_path / "run"
    archs = NB201Space().sample_many(30, seed=0)
    RunStore(run).add_samples("supernet", [Sample(a, 50.0 + a.ops.count(3)) for a in archs])
    code, out, _ = run_cli(capsys, "predictor", "fit", "--model", "gcn", "--samples", "--epochs", "10",
                           "--ensemble", "1", "--run", str(run), "--format", "json")
    assert code == 0 and json.loads(out)["source"] == "samples:supernet"
    assert (run / "predictor.pt").is_file()


@pytest.mark.parametrize("argv, message", [
    (["predictor", "fit", "--samples"], "has no samples from 'supernet'; score sub-networks"),
    (["predictor", "fit", "--table", "/nonexistent.csv"], "does not exist"),
    (["lut", "build"], "no fitted predictor"),
    (["lut", "query"], "no run at"),
])
def test_cli_errors(tmp_path, capsys, argv, message):
    code, _, err = run_cli(capsys, *argv, "--run", str(tmp_path / "run"))
    assert code == 1 and message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()  # a failed command leaves no empty run behind


def test_cli_bad_table_column_and_size(tmp_path, capsys, small_table):
    code, _, err = run_cli(capsys, "predictor", "fit", "--table", str(small_table.path), "--metric", "nope",
                           "--run", str(tmp_path))
    assert code == 1 and "unknown column 'nope'" in err
    code, _, err = run_cli(capsys, "predictor", "fit", "--table", str(small_table.path), "--num-train", "301",
                           "--run", str(tmp_path))
    assert code == 1 and "--num-train must be in 0..300" in err


def test_cli_table_of_another_space(tmp_path, capsys):
    path = tmp_path / "darts.csv"
    path.write_text("index,arch,valid_acc\n0,\"[('sep_conv_3x3', 0), ('skip_connect', 1)]\",91.0\n")
    code, _, err = run_cli(capsys, "predictor", "fit", "--table", str(path), "--run", str(tmp_path / "run"))
    assert code == 1 and "Is this a table of the NAS-Bench-201 space?" in err
