"""The main job end to end, at seconds scale (``gcnas demo --quick``), including resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gcnas.demo as demo
from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.data.images import load_images
from gcnas.demo import DemoSettings, run_demo
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch

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
    for heading in ("Supernet training", "Fused ranking: supernet, zero-cost proxies and anchors",
                    "The accuracy column", "arch2vec latent space", "Multi-objective search", "Lookup table: top 10",
                    "Predicted vs trained from scratch"):
        assert heading in html
    assert html.count("data:image/png;base64,") >= 6
    with RunStore(run_dir) as store:
        assert store.lut_size() == 15625
        assert {"accuracy", "latency_ms", "energy_mj", "params_m", "flops_m"} <= set(store.lut_columns())
        assert len(store.trials("demo-bo")) == DemoSettings.quick().search_budget
        assert len(store.samples("supernet")) == DemoSettings.quick().samples
        fused = store.samples("fused")  # the fused values of the sampled cells, with their ingredients
        assert len(fused) == DemoSettings.quick().samples
        assert {"supernet", "params", "synflow", "naswot", "jacov", "fused_score", "guarded"} <= set(fused[0].extra)
        assert len(list((run_dir / "anchors" / "models").glob("*.pt"))) == DemoSettings.quick().anchors
        # the collapse guard: cells without a live convolution get the lowest fused value
        lowest = min(f.accuracy for f in fused)
        assert all(f.accuracy == lowest for f in fused if f.extra["guarded"])


def _tau_b(a, b) -> float:
    """Kendall tau-b by counting pairs: (concordant - discordant) / sqrt(pairs untied in a * untied in b)."""
    concordant = discordant = untied_a = untied_b = 0
    for i in range(len(a)):
        for j in range(i):
            da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
            concordant += da * db > 0
            discordant += da * db < 0
            untied_a += da != 0
            untied_b += db != 0
    return (concordant - discordant) / np.sqrt(untied_a * untied_b)


def test_summary_figures_agree_with_what_the_run_stored(quick_run):
    run_dir, _ = quick_run
    summary = json.loads((run_dir / "summary.json").read_text())
    settings = DemoSettings.quick()
    with RunStore(run_dir) as store:
        scores = {x.arch.code: x.accuracy for x in store.samples("fused")}
        heldout = store.stage("demo:predictor")["heldout"]            # [code, fused value, prediction]
        # the GCN's held-out tau: the 20% of samples it did not see, their fused values, its predictions
        assert len({code for code, _, _ in heldout}) == len(heldout) == round(0.2 * settings.samples)
        assert all(scores[code] == score for code, score, _ in heldout)
        expected_tau = _tau_b([s for _, s, _ in heldout], [p for _, _, p in heldout])
        assert summary["predictor_kendall_tau_heldout"] == pytest.approx(expected_tau, abs=1e-12)
        # the picks of the search, then GAEA's cell, are trained; each with its lookup-table prediction
        trained = list(dict.fromkeys([*summary["chosen"], summary["gaea_derived"]]))[:settings.retrain]
        assert [r["arch"] for r in summary["retrain"]] == trained
        predicted = store.lut_values([Arch.from_string(a) for a in trained], "accuracy")
        assert [r["predicted"] for r in summary["retrain"]] == pytest.approx(predicted.tolist())
    # test accuracy is a count of correct answers over the whole test split, in percent
    test_size = len(load_images("digits").test.y)
    for record in summary["retrain"]:
        correct = record["test_accuracy"] * test_size / 100
        assert correct == pytest.approx(round(correct), abs=1e-6)


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


def test_report_opens_with_the_picks_and_the_data_and_ends_with_the_settings(quick_run):
    import re

    from gcnas.demo_report import SECTIONS

    run_dir, _ = quick_run
    summary = json.loads((run_dir / "summary.json").read_text())
    html = (run_dir / "report.html").read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings[:2] == ["The picks", "Data"] and headings[-1] == "What ran: settings"
    order = [next(i for i, s in enumerate(SECTIONS) if h.startswith(s)) for h in headings]
    assert order == sorted(order)  # every section in its place
    picks = html[html.index("<h2>The picks</h2>"):html.index("<h2>Data</h2>")]
    for i, arch in enumerate(summary["chosen"]):  # each pick: arch, predicted accuracy, costs, export
        code = Arch.from_string(arch).code
        assert arch in picks and f"gcnas arch export code:{code} --weights {run_dir}/models/{code}.pt" in picks
        assert f"--out pick{i + 1}.onnx" in picks and f"gcnas train code:{code} --dataset digits" in picks
    for column in ("predicted (%)", "latency_ms", "energy_mj", "params_m", "flops_m"):
        assert f"<th>{column}</th>" in picks
    data = load_images("digits")
    assert summary["data"] == {"dataset": "digits", "root": "built in (scikit-learn's 8x8 digits, upscaled)",
                               "classes": 10, "class_names": None, "train": len(data.train),
                               "valid": len(data.valid), "test": len(data.test), "image_size": data.image_size}
    block = html[html.index("<h2>Data</h2>"):]
    block = block[:block.index("<h2>", 4)]
    for value in ("digits", "built in", f"<td class='num'>{len(data.train)}</td>", f"{data.image_size}x"):
        assert value in block
