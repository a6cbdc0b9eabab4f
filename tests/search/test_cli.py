import json

import pytest

from gcnas.cli import main
from gcnas.data import RunStore


def test_search_run_resume_and_compare(small_table, tmp_path, capsys):
    csv = small_table.path
    runs = []
    for seed in (0, 1):
        run = str(tmp_path / f"run{seed}")
        runs.append(run)
        args = ["search", "run", "--run", run, "--seed", str(seed), "--method", "random", "--budget", "12",
                "--accuracy-from", f"table:{csv}:valid_acc", "--report-from", f"table:{csv}:test_acc",
                "--format", "json"]
        assert main(args) == 0
        row = json.loads(capsys.readouterr().out)[0]
        assert row["trials"] == 12 and row["failed"] == 0 and "test_acc" in row
        assert row["accuracy"] == pytest.approx(small_table.value(row["arch"], "valid_acc"))
        assert main(args[:9] + ["20"] + args[10:]) == 0          # a larger budget resumes the same study
        capsys.readouterr()
        with RunStore(run) as store:
            trials = store.trials("random")
            assert len(trials) == 20 and len({t.arch for t in trials}) == 20
    plot = tmp_path / "cmp.png"
    assert main(["search", "compare", *runs, "--column", "test_acc", "--at", "5,20", "--plot", str(plot),
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["method"] == "random" and rows[0]["runs"] == 2 and rows[0]["@20"] >= rows[0]["@5"]
    assert plot.stat().st_size > 1000


def test_search_run_multi_objective_with_constraint(small_table, tmp_path, capsys):
    csv = small_table.path
    plot = tmp_path / "pareto.png"
    assert main(["search", "run", "--run", str(tmp_path / "r"), "--method", "evolution", "--budget", "30",
                 "--objectives", "accuracy,latency", "--accuracy-from", f"table:{csv}:valid_acc",
                 "--latency-from", f"table:{csv}:latency_ms", "--max-latency-ms", "5",
                 "--ref-point", "60,10", "--plot", str(plot), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    assert all(isinstance(r["trial"], int) and r["latency_ms"] <= 5 for r in rows)
    # The hypervolume is its own field, in the objectives' units: the dominated area of the
    # front below 60% accuracy and 10 ms, computed here from the front's rows.
    front = sorted((r["latency_ms"], r["accuracy"]) for r in rows)
    area, best = 0.0, 60.0
    for (lat, acc), nxt in zip(front, [f[0] for f in front[1:]] + [10.0]):
        best = max(best, acc)
        area += (nxt - lat) * (best - 60.0)
    assert out["ref_point"] == [60.0, 10.0] and out["hypervolume"] == pytest.approx(area)
    assert plot.exists()


@pytest.mark.parametrize("extra, message", [
    (["--max-latency-ms", "0.01"], "no architecture meets latency_ms <= 0.01"),
    (["--ref-point", "1"], "--ref-point needs 2 values"),
    (["--ref-point", "99,0.1"], "no evaluated architecture dominates the reference point"),
    (["--budget", "3", "--method", "bo"], "smaller than the initial random design"),
    (["--objectives", "accuracy,speed"], "unknown objective 'speed'"),
])
def test_search_run_bad_input(small_table, tmp_path, capsys, extra, message):
    csv = small_table.path
    args = ["search", "run", "--run", str(tmp_path / "r"), "--method", "random", "--budget", "8",
            "--objectives", "accuracy,latency", "--accuracy-from", f"table:{csv}:valid_acc",
            "--latency-from", f"table:{csv}:latency_ms", *extra]
    assert main(args) == 1
    assert message in capsys.readouterr().err


def test_search_compare_without_studies(tmp_path, capsys):
    from gcnas.data import RunStore

    RunStore(tmp_path / "empty").close()
    assert main(["search", "compare", "--run", str(tmp_path / "empty")]) == 1
    assert "no search studies" in capsys.readouterr().err
    assert main(["search", "compare", "--run", str(tmp_path / "missing")]) == 1
    assert "no run at" in capsys.readouterr().err and not (tmp_path / "missing").exists()


def test_search_run_bo_with_cheap_latency_uses_pareto_probability(small_table, tmp_path, capsys):
    csv = small_table.path
    run = str(tmp_path / "r")
    args = ["search", "run", "--run", run, "--method", "bo", "--budget", "14", "--n-init", "5",
            "--features", "onehot+stats", "--objectives", "accuracy,latency",
            "--accuracy-from", f"table:{csv}:valid_acc", "--latency-from", f"table:{csv}:latency_ms",
            "--ref-point", "60,12", "--format", "json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hypervolume"] > 0 and len(out["rows"]) >= 2
    assert main(["search", "compare", run, "--ref-point", "99,0.1"]) == 1
    assert "dominates the reference point" in capsys.readouterr().err
    assert main(["search", "compare", run, "--ref-point", "60"]) == 1
    assert "--ref-point needs 2 values" in capsys.readouterr().err


def test_search_run_latent_bo_needs_a_pretrained_encoder(small_table, tmp_path, capsys):
    csv = small_table.path
    assert main(["search", "run", "--run", str(tmp_path / "r"), "--method", "latent-bo", "--budget", "5",
                 "--accuracy-from", f"table:{csv}:valid_acc"]) == 1
    assert "gcnas encoder pretrain" in capsys.readouterr().err
