"""The demo on a user's image folder, judged by a truth table that changes nothing in the run."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import BenchmarkTable, RunStore
from gcnas.demo import DemoSettings, run_demo
from gcnas.demo_truth import front_2d
from gcnas.exceptions import GcnasError
from gcnas.predictors.truth import parse_truth
from gcnas.spaces.nb201 import NB201Space


@pytest.fixture(scope="module")
def latency_csv(tmp_path_factory):
    archs = NB201Space().all_archs()
    latency = np.array([1.0 + sum((0, 0.1, 0.5, 1.0, 0.2)[op] for op in a.ops) for a in archs])
    table = BenchmarkTable.from_columns([a.code for a in archs], archs, {"pixel": latency})
    return f"{table.to_csv(tmp_path_factory.mktemp('lat') / 'latency.csv')}:pixel"


@pytest.fixture(scope="module")
def images(tmp_path_factory, image_folder_factory):
    return image_folder_factory(tmp_path_factory.mktemp("images"), train=16, test=4)


def _settings(latency_csv: str) -> DemoSettings:
    # what `gcnas demo --quick --dataset imagefolder --image-size 8 --latency CSV:COL --truth ...` runs
    return DemoSettings.quick(dataset="imagefolder", image_size=8, latency=latency_csv, retrain=0)


@pytest.fixture(scope="module")
def judged_runs(tmp_path_factory, truth_csvs, latency_csv, images):
    """The quick demo run twice: judged by the truth, and by a shuffled truth."""
    base = tmp_path_factory.mktemp("demo_truth")
    runs = []
    for name, csv in zip(("real", "shuffled"), truth_csvs):
        summary = run_demo(base / name, settings=_settings(latency_csv), data_root=str(images),
                           truth=parse_truth(f"table:{csv}:test_acc"), progress=False, log=lambda m: None)
        runs.append((base / name, summary))
    return runs


def test_report_shows_truth_beside_the_picks(judged_runs, truth_csvs):
    run_dir, summary = judged_runs[0]
    judged = summary["truth"]
    truth = BenchmarkTable(truth_csvs[0])
    assert set(judged["rankings"]) == {"supernet scores (sampled cells)", "GCN lookup table (all classes)",
                                       "parameter count (all classes)", "fused ranking (sampled cells)",
                                       *(f"{name} (sampled cells)" for name in ("params", "synflow", "naswot",
                                                                                "jacov"))}
    assert judged["rankings"]["GCN lookup table (all classes)"]["n"] == 6466
    for pick in judged["picks"]:
        assert pick["true_test_acc"] == pytest.approx(truth.value(pick["arch"], "test_acc"))
    best = judged["true_best"]
    assert best["regret"] == 0 and best["latency_ms"] <= judged["bound_ms"]
    archs = NB201Space().all_archs()
    with RunStore(run_dir) as store:
        latency = store.lut_values(archs, "latency_ms")
    feasible = latency <= judged["bound_ms"]
    assert best["true_test_acc"] == pytest.approx(truth.values(archs, "test_acc")[feasible].max())
    for key in ("best_pick", "lut_top", "random_search"):
        entry = judged[key]
        assert entry["latency_ms"] <= judged["bound_ms"]
        assert entry["regret"] == pytest.approx(best["true_test_acc"] - entry["true_test_acc"])
    assert judged["random_search_evaluations"] == DemoSettings.quick().samples
    html = (run_dir / "report.html").read_text()
    assert "Judged by truth (test_acc)" in html and "random search, 24 supernet evaluations" in html
    assert "Regret under a latency bound (test_acc)" in html
    assert "Predicted vs trained from scratch" not in html  # retraining was skipped: the truth judges


def test_truth_changes_nothing_but_the_truth_figures(judged_runs):
    (real_dir, real), (shuffled_dir, shuffled) = judged_runs
    assert real["chosen"] == shuffled["chosen"]
    archs = NB201Space().all_archs()
    with RunStore(real_dir) as a, RunStore(shuffled_dir) as b:
        assert np.array_equal(a.lut_values(archs, "accuracy"), b.lut_values(archs, "accuracy"))
        assert [s.accuracy for s in a.samples("supernet")] == [s.accuracy for s in b.samples("supernet")]
        # the fused ranking, its anchors and weights never read the truth
        assert [(s.accuracy, s.extra) for s in a.samples("fused")] == [(s.accuracy, s.extra)
                                                                       for s in b.samples("fused")]
        assert a.stage("demo:predictor")["weights"] == b.stage("demo:predictor")["weights"]
        assert a.stage("demo:predictor")["anchors"] == b.stage("demo:predictor")["anchors"]
        assert [t.arch for t in a.trials("demo-bo")] == [t.arch for t in b.trials("demo-bo")]
    assert [p["predicted"] for p in real["truth"]["picks"]] == [p["predicted"] for p in shuffled["truth"]["picks"]]
    assert [p["true_test_acc"] for p in real["truth"]["picks"]] != [p["true_test_acc"]
                                                                      for p in shuffled["truth"]["picks"]]
    tau = lambda s: s["truth"]["rankings"]["GCN lookup table (all classes)"]["kendall_tau"]  # noqa: E731
    assert tau(real) != tau(shuffled)
    fused_tau = lambda s: s["truth"]["rankings"]["fused ranking (sampled cells)"]["kendall_tau"]  # noqa: E731
    assert fused_tau(real) != fused_tau(shuffled)


def test_front_2d_is_the_pareto_front():
    rng = np.random.default_rng(0)
    cost, value = rng.random(300), rng.random(300)
    front = set(front_2d(cost, value).tolist())
    dominated = {i for i in range(300) if ((cost <= cost[i]) & (value >= value[i])
                                           & ((cost < cost[i]) | (value > value[i]))).any()}
    assert front == set(range(300)) - dominated


def test_cli_demo_with_truth_and_bad_truth(tmp_path, judged_runs, truth_csvs, latency_csv, images, capsys):
    with pytest.raises(GcnasError, match="table:CSV:COLUMN"):
        parse_truth("test_acc")
    assert main(["demo", "--quick", "--run", str(tmp_path / "r"), "--truth", "nope"]) != 0
    assert "--truth must be table:CSV:COLUMN" in capsys.readouterr().err
    run_dir = judged_runs[0][0]  # every stage finished: the command reports from the store
    code = main(["demo", "--quick", "--run", str(run_dir), "--dataset", "imagefolder", "--data-root",
                 str(images), "--image-size", "8", "--latency", latency_csv, "--truth",
                 f"table:{truth_csvs[0]}:test_acc"])
    out = capsys.readouterr().out
    assert code == 0 and "judged by truth (test_acc" in out and "random search (24 evals)" in out
    assert out.count("skipped") == 8  # every stage but the report came from the store


def test_report_picks_carry_their_true_accuracy(judged_runs):
    run_dir, summary = judged_runs[0]
    html = (run_dir / "report.html").read_text()
    picks = html[html.index("<h2>The picks</h2>"):html.index("<h2>Data</h2>")]
    assert "<th>predicted (%)</th><th>true test_acc</th>" in picks
    for pick in summary["truth"]["picks"]:
        assert pick["arch"] in picks and f"<td class='num'>{pick['true_test_acc']:.4g}</td>" in picks
    assert summary["data"]["dataset"] == "imagefolder" and summary["data"]["class_names"]
    data = html[html.index("<h2>Data</h2>"):]
    assert f"{summary['data']['classes']}: {', '.join(summary['data']['class_names'])}" in data
