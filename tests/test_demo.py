"""The main job end to end, at seconds scale (``gcnas demo --quick``), including resume."""

from __future__ import annotations

import json

import pytest

import gcnas.demo as demo
from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.demo import DemoSettings, run_demo
from gcnas.exceptions import InvalidInputError

STAGES = ["supernet", "gaea", "sample", "predictor", "latency", "lut", "arch2vec", "search", "retrain"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """A quick demo interrupted (Ctrl-C) before the lookup table, then run again to the end."""
    run_dir = tmp_path_factory.mktemp("demo")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "_lookup_table", interrupted)
        assert main(["demo", "--quick", "--run", str(run_dir), "--format", "json"]) == 130
    with RunStore(run_dir) as store:
        finished_before = [name for name in store.stages() if name.startswith("demo:")]
    assert main(["demo", "--quick", "--run", str(run_dir), "--format", "json"]) == 0
    return run_dir, finished_before


def test_interrupted_demo_keeps_finished_stages(quick_run):
    run_dir, finished_before = quick_run
    assert finished_before == [f"demo:{s}" for s in STAGES[:5]]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stage_seconds"]["supernet"] > 0  # recorded from the first, interrupted run


def test_quick_demo_runs_every_stage_and_writes_the_report(quick_run):
    run_dir, _ = quick_run
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["stage_seconds"]) == {*STAGES, "report"}
    html = (run_dir / "report.html").read_text()
    for heading in ("Supernet training", "GCN predictor vs supernet scores", "arch2vec latent space",
                    "Multi-objective search", "Lookup table: top 10", "Predicted vs trained from scratch"):
        assert heading in html
    assert html.count("data:image/png;base64,") >= 6
    with RunStore(run_dir) as store:
        assert store.lut_size() == 15625
        assert {"accuracy", "latency_ms", "energy_mj", "params_m", "flops_m"} <= set(store.lut_columns())
        assert len(store.trials("demo-bo")) == DemoSettings.quick().search_budget
        assert len(store.samples("supernet")) == DemoSettings.quick().samples
    assert len(summary["retrain"]) >= 2 and all(0 <= r["test_accuracy"] <= 100 for r in summary["retrain"])
    assert -1 <= summary["predictor_kendall_tau_heldout"] <= 1


def test_rerun_skips_every_finished_stage(quick_run):
    run_dir, _ = quick_run
    messages = []
    summary = run_demo(run_dir, settings=DemoSettings.quick(), progress=False, log=messages.append)
    assert sum("skipped" in m for m in messages) == len(STAGES)
    assert summary["chosen"] == json.loads((run_dir / "summary.json").read_text())["chosen"]


def test_other_settings_on_the_same_run_are_refused(quick_run):
    run_dir, _ = quick_run
    with pytest.raises(InvalidInputError, match="other settings"):
        run_demo(run_dir, settings=DemoSettings.quick(samples=30), progress=False, log=lambda m: None)


def test_unwritable_run_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidInputError, match="cannot create run directory"):
        run_demo(blocker / "run", settings=DemoSettings.quick(), progress=False)
