"""``gcnas demo --space imc --quick``: the pipeline on the IMC macro space, the stages that do not apply
to it skipped with one line each, a lookup table over a pool with the crossbar model's costs, a report."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.demo import DemoSettings, _recorded
from gcnas.spaces import get_space

STAGES = {"supernet", "sample", "predictor", "lut", "search", "retrain", "report"}
SKIPPED = ("[gaea] skipped: GAEA learns architecture weights", "[fused ranking] skipped: ",
           "[arch2vec] skipped: ")


@pytest.fixture(scope="module")
def imc_demo(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("demo-imc") / "run"
    return run_dir, main(["demo", "--space", "imc", "--quick", "--run", str(run_dir), "--format", "json"])


def test_the_quick_imc_demo_runs_and_reports(imc_demo, capsys):
    run_dir, code = imc_demo
    assert code == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["space"] == "imc" and set(summary["stage_seconds"]) == STAGES
    assert summary["gaea_derived"] is None and summary["chosen"]
    quick = DemoSettings.quick(space="imc")
    space = get_space("imc")
    with RunStore(run_dir) as store:
        assert store.space_name == "imc" and store.lut_size() == quick.pool
        meta = store.lut_meta()
        assert meta["latency"] == meta["energy"] == "imc" and meta["pool"] == quick.pool
        assert len(store.samples("supernet")) == quick.samples
        assert len(store.trials("demo-bo")) == quick.search_budget
        chosen = [space.parse(a) for a in summary["chosen"]]
        assert np.isfinite(store.lut_values(chosen, "latency_ms")).all()       # the picks are rows of the table
        assert store.stage("demo:gaea") is None and store.stage("demo:arch2vec") is None
    assert [r["arch"] for r in summary["retrain"]] == summary["chosen"][:quick.retrain]
    html = (run_dir / "report.html").read_text()
    for heading in ("The picks", "Multi-objective search (BO over graph)", "Lookup table: top 10",
                    "GCN predictor vs supernet scores", "IMC crossbar model", "over the 'imc' space"):
        assert heading in html, heading
    assert f"gcnas train --space imc {summary['chosen'][0]}" in html  # the picks' train / export commands


def test_a_rerun_skips_every_stage_and_says_what_does_not_apply(imc_demo, capsys):
    run_dir, _ = imc_demo
    assert main(["demo", "--space", "imc", "--quick", "--run", str(run_dir), "--format", "json"]) == 0
    err = capsys.readouterr().err
    for line in SKIPPED:
        assert err.count(line) == 1, line
    for stage in ("supernet", "sample", "predictor", "lut", "search", "retrain"):
        assert f"[{stage}] done earlier" in err


def test_truth_and_other_spaces_are_refused_in_one_line(imc_demo, tmp_path, capsys):
    run_dir, _ = imc_demo
    assert main(["demo", "--space", "imc", "--quick", "--truth", "nb201:cifar10:test_acc",
                 "--run", str(tmp_path / "truth")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not the 'imc' space; leave --truth out" in err
    assert main(["demo", "--quick", "--run", str(run_dir)]) == 1                  # the nb201 demo: other settings
    assert "space 'imc' -> 'nb201'" in capsys.readouterr().err


def test_a_demo_recorded_before_spaces_resumes_as_nb201():
    new = dataclasses.asdict(DemoSettings.quick())
    old = {k: v for k, v in new.items() if k not in ("space", "energy", "pool")}
    assert _recorded(old, new) == new
    assert _recorded(old, {**new, "space": "imc"}) != {**new, "space": "imc"}
