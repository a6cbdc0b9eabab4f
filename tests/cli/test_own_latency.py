"""Bring your own hardware: measured or partial latency -> named latency predictor -> LUT."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.spaces.nb201 import NB201Space

FAST_GCN = ["--model", "gbt", "--ensemble", "1"]


def _json(capsys):
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def run_with_accuracy(small_table, tmp_path, capsys):
    run = str(tmp_path / "run")
    assert main(["predictor", "fit", "--table", str(small_table.path), "--metric", "valid_acc",
                 "--num-train", "60", "--run", run, *FAST_GCN]) == 0
    capsys.readouterr()
    return run


def test_measure_fit_latency_predictor_build_lut(run_with_accuracy, capsys):
    run = run_with_accuracy
    assert main(["hw", "measure", "--num", "12", "--repeats", "2", "--warmup", "0", "--run", run,
                 "--no-progress", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["predictor", "fit", "--target", "latency", "--name", "cpu", "--from", "measured",
                 "--run", run, "--format", "json", *FAST_GCN]) == 0
    fitted = _json(capsys)
    assert fitted["target"] == "latency" and fitted["n_train"] == 12 and fitted["source"] == "measured:cpu"
    assert main(["lut", "build", "--latency", "predictor:cpu", "--run", run, "--format", "json"]) == 0
    capsys.readouterr()
    with RunStore(run) as store:
        measured = {a.code: v for a, (v, _) in store.costs("latency_ms", "cpu").items()}
        archs = NB201Space().all_archs()
        latency = store.lut_values(archs, "latency_ms")
        flag = store.lut_values(archs, "latency_measured")
        accuracy = store.lut_values(archs, "accuracy")
    assert int(flag.sum()) == 12 and set(np.flatnonzero(flag)) == set(measured)
    np.testing.assert_allclose(latency[sorted(measured)], [measured[c] for c in sorted(measured)])
    assert np.isfinite(latency).all() and (latency > 0).all()
    # the accuracy predictor (RUN/predictor.pt) is untouched by the named latency predictor
    assert np.isfinite(accuracy).all() and np.std(accuracy) > 0


def test_partial_latency_csv_becomes_a_named_predictor(run_with_accuracy, small_table, tmp_path, capsys):
    run = run_with_accuracy
    archs = small_table.archs[:80]
    values = np.array([1.0 + 0.3 * sum(op == 3 for op in a.ops) for a in archs])  # conv3x3 costs
    values[5] = np.nan  # an empty cell is skipped, not an error
    csv = tmp_path / "mydevice.csv"
    csv.write_text("arch,mydevice\n" + "".join(f"{a},{'' if np.isnan(v) else v}\n" for a, v in zip(archs, values)))
    assert main(["predictor", "fit", "--target", "latency", "--name", "mydevice", "--table", str(csv),
                 "--metric", "mydevice", "--num-train", "0", "--run", run, "--format", "json", *FAST_GCN]) == 0
    assert _json(capsys)["n_train"] == 79
    assert main(["lut", "build", "--latency", "predictor:mydevice", "--run", run]) == 0
    capsys.readouterr()
    assert main(["lut", "query", "--max-latency-ms", "1.5", "--top", "5", "--run", run, "--format", "json"]) == 0
    rows = _json(capsys)
    assert rows and all(r["latency_ms"] <= 1.5 for r in rows)
    with RunStore(run) as store:
        record = store.stage("predictor:mydevice")
        flag = store.lut_values(NB201Space().all_archs(), "latency_measured")
        latency = store.lut_values(NB201Space().all_archs(), "latency_ms")
    given = {a.code: v for a, v in zip(archs, values) if np.isfinite(v)}
    assert dict(zip(record["train_archs"], record["train_values"])) == pytest.approx(
        {str(a): v for a, v in zip(archs, values) if np.isfinite(v)})  # (cells recorded as text since schema 3)
    assert set(np.flatnonzero(flag)) == set(given)
    np.testing.assert_allclose(latency[sorted(given)], [given[c] for c in sorted(given)])


def test_latency_predictor_errors(run_with_accuracy, capsys):
    run = run_with_accuracy
    assert main(["predictor", "fit", "--target", "latency", "--from", "measured", "--run", run]) == 1
    assert "needs a name" in capsys.readouterr().err
    assert main(["predictor", "fit", "--target", "latency", "--name", "cpu", "--from", "measured",
                 "--run", run]) == 1
    assert "gcnas hw measure" in capsys.readouterr().err
    assert main(["lut", "build", "--latency", "predictor:nope", "--run", run]) == 1
    assert "no latency predictor named 'nope'" in capsys.readouterr().err
    assert main(["predictor", "fit", "--name", "../evil", "--samples", "--run", run]) == 1
    assert "must be letters" in capsys.readouterr().err
