"""`gcnas predictor fuse`: the fused predictor from the command line, then the lookup table with the guard."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.predictors.fused import is_parameter_free
from gcnas.spaces.nb201 import NB201Space


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("fuse") / "run")
    tiny = ["--run", run, "--channels", "4", "--cells", "1", "--epochs", "1", "--batch-size", "32",
            "--steps-per-epoch", "2", "--device", "cpu", "--format", "json"]
    assert main(["supernet", "train", *tiny]) == 0
    assert main(["supernet", "sample", "--run", run, "--num", "16", "--bn-recalibrate", "1", "--limit", "1",
                 "--device", "cpu", "--format", "json"]) == 0
    return run


def test_fuse_then_lut_build_uses_the_fused_predictor_with_the_guard(scored_run, truth_csvs, capsys):
    capsys.readouterr()
    argv = ["predictor", "fuse", "--run", scored_run, "--anchors", "5", "--anchor-epochs", "1", "--anchor-steps",
            "2", "--proxy-channels", "4", "--proxy-cells", "1", "--ensemble", "1", "--epochs", "20"]
    assert main([*argv, "--format", "json", "--truth", f"table:{truth_csvs[0]}:test_acc"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["anchors"] == 5 and set(out["weights"]) == {"supernet", "params", "synflow", "naswot", "jacov"}
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    assert {row["signal"] for row in out["signals"]} == {*out["weights"], "fused"}
    assert "valid accuracy" in out["accuracy_column"]
    with RunStore(scored_run) as store:
        assert store.stage("predictor")["fused"] is True
        assert len(store.samples("fused")) == 16
    # a rerun trains no anchor again and computes no proxy again: the same weights, from the cache
    assert main([*argv, "--format", "json"]) == 0
    again = capsys.readouterr()
    assert json.loads(again.out)["weights"] == out["weights"]
    assert again.err.count(" kept: ") == 5 and " trained: " not in again.err
    assert main(["lut", "build", "--run", scored_run, "--format", "json"]) == 0
    capsys.readouterr()
    archs = NB201Space().all_archs()
    with RunStore(scored_run) as store:
        accuracy = store.lut_values(archs, "accuracy")
        meta = store.lut_meta()
    free = is_parameter_free(archs)
    assert meta["fused"] is True and meta["collapse_guarded"] == int(free.sum()) > 0
    assert np.all(accuracy[free] == accuracy.min()) and accuracy[~free].max() > accuracy.min()


def test_fuse_refuses_bad_input_in_one_line(scored_run, tmp_path, capsys):
    assert main(["predictor", "fuse", "--run", scored_run, "--anchors", "-1"]) == 1
    assert "--anchors must be 0 or more" in capsys.readouterr().err
    assert main(["predictor", "fuse", "--run", scored_run, "--proxies", "params,grasp"]) == 1
    assert "unknown cell feature 'grasp'" in capsys.readouterr().err
    assert main(["predictor", "fuse", "--run", str(tmp_path / "nothing")]) == 1
    assert "no supernet checkpoint" in capsys.readouterr().err
