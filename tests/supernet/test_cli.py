from __future__ import annotations

import json

import pytest

from gcnas.cli import main
from gcnas.data import RunStore


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
    with RunStore(run) as store:
        stored = {s.arch.code: s.accuracy for s in store.samples("supernet")}
    assert len(rows) == 3 and {r["code"]: r["accuracy"] for r in rows} == stored
    assert [r["accuracy"] for r in rows] == sorted(stored.values(), reverse=True)
    for row in rows:                                    # correct answers among the 256 images of one batch
        assert row["accuracy"] * 256 / 100 == pytest.approx(round(row["accuracy"] * 256 / 100), abs=1e-9)


@pytest.mark.parametrize("argv, message", [
    (["supernet", "train", "--strategy", "enas"], "unknown strategy 'enas'"),
    (["supernet", "train", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["supernet", "train", "--dataset", "cifar10"], "needs --data-root"),
    (["supernet", "derive"], "no supernet checkpoint"),
])
def test_errors_are_one_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--run", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
