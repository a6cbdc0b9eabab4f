"""A tiny run shared by the CLI tests that only read one: a predictor, its lookup table, arch2vec
and two search studies, built in seconds through the CLI itself."""

from __future__ import annotations

import pytest

from gcnas.cli import main


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``runs/tiny``: predictor (30 table cells), lut, arch2vec, studies ``random`` (accuracy, 12
    trials) and ``two`` (accuracy and params, 12 trials). Tests must not write to it."""
    run = tmp_path_factory.mktemp("runs") / "tiny"
    common = ["--run", str(run), "--format", "json"]
    steps = [["predictor", "fit", "--table", "nb201:cifar10", "--metric", "valid_acc", "--num-train", "30",
              "--epochs", "5", "--ensemble", "1"],
             ["lut", "build"],
             ["encoder", "pretrain", "--epochs", "1", "--decoder-epochs", "1", "--hidden-dim", "16",
              "--num-layers", "2"],
             ["search", "run", "--method", "random", "--budget", "12"],
             ["search", "run", "--method", "random", "--budget", "12", "--objectives", "accuracy,params",
              "--study", "two"]]
    for step in steps:
        assert main([*step, *common]) == 0, step
    return run
