from __future__ import annotations

import json

import pytest

from gcnas.cli import main


def test_train_derive_sample(tmp_path, capsys):
    run = str(tmp_path / "run")
    tiny = ["--run", run, "--channels", "4", "--cells", "1", "--epochs", "1", "--batch-size", "32",
            "--steps-per-epoch", "2", "--device", "cpu"]
    assert main(["supernet", "train", "--strategy", "gaea", "--arch-lr", "1.0", *tiny, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["strategy"] == "gaea" and len(out["history"]) == 1
    assert main(["supernet", "derive", "--run", run, "--format", "json"]) == 0
    derived = json.loads(capsys.readouterr().out)
    assert derived["string"] == out["history"][0]["derived"]
    assert main(["supernet", "sample", "--run", run, "--num", "3", "--bn-recalibrate", "1", "--limit", "1",
                 "--device", "cpu", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and all(0 <= r["accuracy"] <= 100 for r in rows)


@pytest.mark.parametrize("argv, message", [
    (["supernet", "train", "--strategy", "enas"], "unknown strategy 'enas'"),
    (["supernet", "train", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["supernet", "train", "--dataset", "cifar10"], "needs --data-root"),
    (["supernet", "derive"], "no supernet checkpoint"),
])
def test_errors_are_one_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--run", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
