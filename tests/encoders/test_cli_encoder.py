"""``gcnas encoder pretrain|map`` through the real command line entry point."""

from __future__ import annotations

import json

import pytest

from gcnas.cli import main


@pytest.fixture
def run_dir(pretrained_run):
    return pretrained_run[0].run_dir


def test_pretrain_prints_summary(pretrained_run, fast_flags, capsys):
    # The run was pretrained with the same settings in Python: the command must pass its
    # flags through unchanged to find (and reuse) it, or it would refuse "other settings".
    store, encoder = pretrained_run
    assert main(["encoder", "pretrain", "--run", str(store.run_dir), *fast_flags, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["embeddings"] == 15625 and record["latent_dim"] == 4 and record["epochs"] == 1
    assert record["checkpoint"] == str(store.run_dir / "arch2vec.pt")
    held = encoder.reconstruction(encoder.holdout_archs())
    assert record["holdout_exact"] == pytest.approx(held["exact"], rel=1e-12)
    assert record["holdout_op_acc"] == pytest.approx(held["op_acc"], rel=1e-12)


def test_map_writes_png(run_dir, small_table, capsys):
    out = run_dir / "map.png"
    code = main(["encoder", "map", "--run", str(run_dir), "--table", str(small_table.path),
                 "--metric", "valid_acc", "--tsne-points", "60", "--out", str(out), "--format", "json"])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["points"] == 300 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_are_one_line(run_dir, small_table, tmp_path, fast_flags, capsys):
    assert main(["encoder", "map", "--run", str(run_dir), "--table", str(small_table.path),
                 "--metric", "nope"]) == 1
    assert "has no column 'nope'" in capsys.readouterr().err
    assert main(["encoder", "map", "--run", str(tmp_path / "empty"), "--table", str(small_table.path),
                 "--metric", "valid_acc"]) == 1
    assert "gcnas encoder pretrain" in capsys.readouterr().err
    assert main(["encoder", "pretrain", "--run", str(run_dir), *fast_flags[:2], "--latent-dim", "5"]) == 1
    assert "--force" in capsys.readouterr().err
