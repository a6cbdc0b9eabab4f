"""`lut query --confidence`, `lut measure-next` and search bounds on the upper end, from the command line."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.spaces.nb201 import NB201Space

GBT = ["--model", "gbt", "--ensemble", "4"]  # four cross-conformal folds, one GBT each


def _truth(archs) -> np.ndarray:
    factor = np.log(np.array([1.0, 1.05, 1.3, 1.8, 1.15]))
    noise = np.random.default_rng(0).normal(0, 0.08, len(archs))
    return np.exp(factor[np.array([a.ops for a in archs])].sum(1) + noise)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bounds")
    run = str(folder / "run")
    assert main(["predictor", "fit", "--table", "nb201:cifar10", "--metric", "valid_acc", "--num-train", "60",
                 "--run", run, "--model", "gbt", "--ensemble", "1", "--format", "json"]) == 0
    archs = NB201Space().sample_many(120, seed=2)
    part = folder / "part.csv"
    part.write_text("arch,dev\n" + "".join(f"{a},{v}\n" for a, v in zip(archs, _truth(archs))))
    assert main(["predictor", "fit", "--target", "latency", "--name", "dev", "--table", str(part), "--metric", "dev",
                 "--run", run, "--format", "json", *GBT]) == 0
    assert main(["lut", "build", "--latency", "predictor:dev", "--run", run, "--format", "json"]) == 0
    with RunStore(run) as store:
        latency = store.lut_values(NB201Space().all_archs(), "latency_ms")
    return run, float(np.quantile(latency, 0.8))


def test_fit_prints_the_calibrated_interval(tmp_path, capsys):
    archs = NB201Space().sample_many(40, seed=1)
    part = tmp_path / "p.csv"
    part.write_text("arch,dev\n" + "".join(f"{a},{v}\n" for a, v in zip(archs, _truth(archs))))
    assert main(["predictor", "fit", "--target", "latency", "--name", "d", "--table", str(part), "--metric", "dev",
                 "--run", str(tmp_path / "r"), "--format", "json", *GBT]) == 0
    fitted = json.loads(capsys.readouterr().out)
    assert fitted["n_train"] == 40 and "cross-conformal, 40 rows" in fitted["interval_90"]


def test_query_compares_the_upper_end_and_counts_measured_picks(run, capsys):
    run, bound = run
    capsys.readouterr()
    assert main(["lut", "query", "--max-latency-ms", str(bound), "--top", "10", "--run", run]) == 0
    out = capsys.readouterr().out
    assert "picks measured" in out
    assert main(["lut", "query", "--max-latency-ms", str(bound), "--top", "10", "--run", run, "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert "picks measured" in captured.err  # the json stays machine-readable
    assert any(r["latency_measured"] == 0 for r in rows) and "expected over" in captured.err
    assert all(r["latency_ms_high"] <= bound for r in rows)
    assert all(r["latency_ms_high"] == r["latency_ms"] for r in rows if r["latency_measured"] == 1)
    assert main(["lut", "query", "--max-latency-ms", str(bound), "--top", "10", "--run", run, "--format", "json",
                 "--confidence", "0"]) == 0
    point = json.loads(capsys.readouterr().out)
    assert all(r["latency_ms"] <= bound for r in point) and "latency_ms_high" not in point[0]
    assert [r["code"] for r in point] != [r["code"] for r in rows]  # the margin changes the answer here
    assert main(["lut", "query", "--max-latency-ms", str(bound), "--run", run, "--confidence", "1.5"]) == 1
    assert "confidence must be in [0, 1)" in capsys.readouterr().err


def test_measure_next_lists_arch_strings_to_measure(run, capsys):
    run, bound = run
    capsys.readouterr()
    assert main(["lut", "measure-next", "--max-latency-ms", str(bound), "--num", "5", "--run", run,
                 "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 5 and all(r["arch"].startswith("|") for r in rows)
    assert all(float(r["latency_ms_low"]) <= bound for r in rows)
    assert {r["reason"] for r in rows} <= {"pick", "may enter"}
    assert main(["lut", "measure-next", "--max-params-m", "1", "--run", run]) == 1
    assert "nothing to measure next" in capsys.readouterr().err


def test_search_bound_checks_the_upper_end(run, capsys):
    run, bound = run
    capsys.readouterr()
    assert main(["search", "run", "--method", "random", "--budget", "6", "--objectives", "accuracy,latency",
                 "--latency-from", "lut", "--max-latency-ms", str(bound), "--run", run, "--study", "b",
                 "--format", "json"]) == 0
    capsys.readouterr()
    with RunStore(run) as store:
        trials = store.trials("b")
        settings = store.study_settings("b")
    assert trials and all(t.report["latency_ms_upper"] <= bound for t in trials)
    assert any("latency_ms_upper <= " in c for c in settings["constraints"])
