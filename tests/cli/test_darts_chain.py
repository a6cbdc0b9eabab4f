"""The DARTS space through the CLI at toy size: supernet training, derivation, scoring with inherited
weights into the run store, a GCN fitted to the scores, a lookup table over a pool, a query.

Toy shapes so that it runs on a CPU in seconds: 4 channels, 3 cells (one normal, two reductions),
8x8-pixel synthetic images... the space is DARTS' whole (about 1.1e18 genotypes), only the network is small.
"""

from __future__ import annotations

import json

import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.spaces import get_space
from tests.conftest import cli_json, run_cli

DARTS = get_space("darts")
TOY = ["--dataset", "synthetic", "--channels", "4", "--cells", "3", "--epochs", "1", "--steps-per-epoch", "2",
       "--batch-size", "8", "--device", "cpu"]


@pytest.fixture(scope="module")
def darts_run(tmp_path_factory):
    """A DARTS run trained with GAEA (so that it can be derived from) for 2 steps."""
    run = str(tmp_path_factory.mktemp("darts") / "run")
    assert main(["supernet", "train", "--space", "darts", "--strategy", "gaea", "--run", run, *TOY,
                 "--format", "json"]) == 0
    return run


def test_darts_train_derive_sample_fit_lut_query(darts_run, capsys):
    run = darts_run
    with RunStore(run) as store:
        assert store.space_name == "darts" and store.stage("supernet:train")["space"] == "darts"
    derived = cli_json(capsys, "supernet", "derive", "--run", run)
    assert derived["string"].startswith("Genotype(normal=[") and "code" not in derived
    assert DARTS.format(DARTS.parse(derived["string"])) == derived["string"]
    rows = cli_json(capsys, "supernet", "sample", "--run", run, "--num", "6", "--limit", "1", "--bn-recalibrate", "1",
                    "--batch-size", "16", "--device", "cpu")
    with RunStore(run) as store:
        stored = {DARTS.format(s.arch): s.accuracy for s in store.samples("supernet")}
    assert len(rows) == 6 and {r["arch"]: r["accuracy"] for r in rows} == stored
    assert all("code" not in r and "index" not in r for r in rows)
    assert len({DARTS.key(DARTS.parse(r["arch"])) for r in rows}) == 6          # distinct canonical cells
    fit = cli_json(capsys, "predictor", "fit", "--run", run, "--samples", "--epochs", "2", "--ensemble", "1")
    assert fit["n_train"] == 6 and fit["model"] == "gcn"

    code, _, err = run_cli(capsys, "lut", "build", "--run", run)
    assert code == 1 and err.count("\n") == 1 and "'darts' space cannot be listed" in err and "--pool N" in err
    code, _, err = run_cli(capsys, "lut", "build", "--run", run, "--pool", "8", "--energy", "model")
    assert code == 1 and "energy model cover nb201 cells, not the 'darts' space" in err
    built = cli_json(capsys, "lut", "build", "--run", run, "--pool", "8")
    assert built["rows"] == 8 and built["space"] == "darts" and built["columns"].startswith("accuracy")
    top = cli_json(capsys, "lut", "query", "--run", run, "--top", "3")
    pooled = {DARTS.parse(r["arch"]) for r in cli_json(capsys, "lut", "query", "--run", run, "--top", "8")}
    assert len(top) == 3 and [r["rank"] for r in top] == [1, 2, 3]
    assert top[0]["accuracy"] >= top[1]["accuracy"] >= top[2]["accuracy"]
    for row in top:
        assert DARTS.key(DARTS.parse(row["arch"])) == row["key"] and row["params_m"] > 0
    shown = cli_json(capsys, "arch", "show", "--space", "darts", top[0]["arch"])
    assert shown["params_m"] == pytest.approx(top[0]["params_m"]) and shown["is_canonical"] is True
    for method in ("evolution", "bo"):  # search the pooled lookup table: proposals are its cells
        code, out, err = run_cli(capsys, "search", "run", "--run", run, "--method", method, "--budget", "5",
                                 "--objectives", "accuracy,params", "--n-init", "3", "--format", "json")
        assert code == 0, err
        picked = json.loads(out)
        assert picked and all(DARTS.parse(r["arch"]) in pooled for r in picked)


def test_a_contradicting_space_is_refused_in_one_line(darts_run, tmp_path, capsys):
    for argv in (["lut", "build", "--run", darts_run, "--space", "nb201", "--pool", "4"],
                 ["supernet", "sample", "--run", darts_run, "--space", "nb201", "--num", "2"],
                 ["supernet", "train", "--run", darts_run, "--space", "nb201", "--resume", *TOY]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 1 and err.count("\n") == 1, argv
        assert "'darts' space, not 'nb201'" in err, err
    code, _, err = run_cli(capsys, "supernet", "train", "--space", "darts", "--strategy", "uniform", "--exclude-ops",
                           "nor_conv_3x3", "--run", str(tmp_path / "bad"), *TOY)
    assert code == 1 and "nor_conv_3x3" in err and not (tmp_path / "bad").exists()


def test_sharded_scoring_of_darts_genotypes_equals_the_sequential_one(darts_run, tmp_path):
    from gcnas.data import load_images
    from gcnas.parallel import make_executor
    from gcnas.supernet import ScoringSource, sample_subnets, sample_subnets_sharded
    from gcnas.supernet.train import load_run_supernet

    scoring = dict(bn_recalibrate=1, batch_size=16, limit=1)
    trained = load_run_supernet(darts_run)
    data = load_images("synthetic", image_size=trained.config["image_size"])
    with RunStore(tmp_path / "seq", space="darts") as store:
        sequential = sample_subnets(store, trained, data, num=4, seed=3, progress=False, **scoring)
    with RunStore(tmp_path / "sharded", space="darts") as store, make_executor("inline") as inline:
        sharded = sample_subnets_sharded(store, ScoringSource(darts_run, **scoring), inline, num=4, seed=3, chunk=3,
                                         progress=False)
    assert [(s.arch, s.accuracy, s.loss) for s in sharded] == [(s.arch, s.accuracy, s.loss) for s in sequential]


def test_a_genotype_trains_from_scratch_and_exports(tmp_path, capsys):
    """`gcnas train --space darts` builds NetworkCIFAR from the common shape names (--channels, --cells)."""
    genotype = DARTS.format(DARTS.sample(0))
    run = str(tmp_path / "run")
    trained = cli_json(capsys, "train", "--space", "darts", genotype, "--run", run, "--epochs", "1", "--channels",
                       "4", "--cells", "3", "--steps-per-epoch", "2", "--batch-size", "8", "--dataset", "synthetic",
                       "--device", "cpu")
    assert trained["arch"] == genotype and trained["settings"]["cells"] == 3
    net = DARTS.network(DARTS.parse(genotype), channels=4, cells=3)
    assert trained["result"]["params_m"] == pytest.approx(sum(p.numel() for p in net.parameters()) / 1e6, abs=1e-6)
    out = tmp_path / "net.pt"
    code, printed, err = run_cli(capsys, "arch", "export", "--space", "darts", genotype, "--weights",
                                 trained["path"], "--format", "pt", "--out", str(out), "--output-format", "json")
    assert code == 0, err
    assert out.is_file() and json.loads(printed)["max_abs_diff"] < 1e-4
