"""`gcnas predictor fit` uses what the user gives it: every row of their own table or of a
cost by default, and cost targets checked at fit time exactly as `gcnas lut build` checks them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.spaces.nb201 import NB201Space

FAST = ["--model", "gbt", "--ensemble", "2"]


def _fit(capsys, *argv) -> tuple[int, dict | str]:
    code = main(["predictor", "fit", *argv, "--format", "json", *FAST])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def _csv(path, values, column="dev"):
    archs = NB201Space().sample_many(len(values), seed=2)
    path.write_text(f"arch,{column}\n" + "".join(f"{a},{'' if np.isnan(v) else v}\n" for a, v in zip(archs, values)))
    return str(path)


def _latency(n: int) -> np.ndarray:
    return 1.0 + np.random.default_rng(0).random(n)


def test_own_csv_fits_every_row_by_default(tmp_path, capsys):
    values = _latency(150)
    values[7] = np.nan  # a cell without a value is skipped, as before
    table = _csv(tmp_path / "part.csv", values)
    code, out = _fit(capsys, "--target", "latency", "--name", "dev", "--table", table, "--metric", "dev",
                     "--run", str(tmp_path / "run"))
    assert code == 0 and out["n_train"] == 149
    code, out = _fit(capsys, "--table", table, "--metric", "dev", "--run", str(tmp_path / "run"))  # accuracy too
    assert code == 0 and out["n_train"] == 149
    code, out = _fit(capsys, "--table", table, "--metric", "dev", "--num-train", "40", "--run", str(tmp_path / "run"))
    assert code == 0 and out["n_train"] == 40  # an explicit --num-train still draws


def test_benchmark_table_draws_100_by_default(tmp_path, capsys):
    code, out = _fit(capsys, "--table", "nb201:cifar10", "--metric", "valid_acc", "--run", str(tmp_path / "run"))
    assert code == 0 and out["n_train"] == 100


@pytest.mark.parametrize("bad", [-0.5, np.inf])
def test_bad_latency_is_refused_with_the_message_of_lut_build(tmp_path, capsys, bad):
    values = _latency(60)
    values[[3, 9]] = bad
    table = _csv(tmp_path / "dev.csv", values)
    run = str(tmp_path / "run")
    code, fit_error = _fit(capsys, "--target", "latency", "--name", "dev", "--table", table, "--metric", "dev",
                           "--num-train", "5", "--run", run)  # found even where the draw would leave it out
    assert code == 1 and "holds 2 non-finite or negative value(s)" in fit_error
    assert not (tmp_path / "run").exists()  # nothing was written: no run left behind
    # lut build reads the same column (after an accuracy predictor exists) and says the same
    assert _fit(capsys, "--table", "nb201:cifar10", "--num-train", "20", "--run", run)[0] == 0
    assert main(["lut", "build", "--latency", f"{table}:dev", "--run", run]) == 1
    lut_error = capsys.readouterr().err
    assert fit_error.split("error: ", 1)[1] == lut_error.split("error: ", 1)[1]


def test_all_negative_latency_file_is_refused_not_clamped(tmp_path, capsys):
    table = _csv(tmp_path / "neg.csv", -_latency(40))
    code, err = _fit(capsys, "--target", "latency", "--name", "dev", "--table", table, "--metric", "dev",
                     "--run", str(tmp_path / "run"))
    assert code == 1 and "holds 40 non-finite or negative value(s), e.g. -" in err
    assert err.count("\n") == 1
