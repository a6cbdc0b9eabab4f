"""``gcnas hw costs`` and ``gcnas hw measure`` through the real command line entry point."""

from __future__ import annotations

import json

from gcnas.cli import main
from gcnas.data import BenchmarkTable
from gcnas.spaces.nb201 import Arch

CONV3 = Arch((3,) * 6)


def test_hw_costs_json(tmp_path, capsys):
    csv = BenchmarkTable.from_columns([7], [CONV3], {"cpu": [12.5]}).to_csv(tmp_path / "lat.csv")
    status = main(["hw", "costs", str(CONV3.code), "--latency", f"{csv}:cpu", "--energy", "model:int8",
                   "--run", str(tmp_path / "run"), "--format", "json"])
    assert status == 0
    out = json.loads(capsys.readouterr().out)
    rows = {(r["cost"], r["source"]): r for r in out["costs"]}
    assert out["code"] == CONV3.code
    assert rows[("params_m", "network (cifar10)")]["value"] == 1.531546
    assert rows[("latency_ms", f"{csv}:cpu")]["value"] == 12.5
    assert rows[("latency_ms", f"{csv}:cpu")]["kind"] == "published"
    assert rows[("energy_mj", "model:int8")]["kind"] == "estimate"
    assert not (tmp_path / "run").exists()  # looking costs up creates no run directory


def test_hw_costs_by_official_index(tmp_path, capsys):
    csv = BenchmarkTable.from_columns([7], [CONV3], {"cpu": [12.5]}).to_csv(tmp_path / "lat.csv")
    assert main(["hw", "costs", "index:7", "--table", str(csv), "--dataset", "imagenet16-120"]) == 0
    out = capsys.readouterr().out
    assert str(CONV3) in out and "network (imagenet16-120)" in out


def test_hw_measure_then_costs(tmp_path, capsys):
    run = str(tmp_path / "run")
    args = ["hw", "measure", "--num", "2", "--repeats", "2", "--warmup", "0", "--run", run, "--no-progress",
            "--format", "json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)[0]
    assert first["measured"] == 2 and first["stored"] == 2 and first["median"] > 0
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["skipped"] == 2  # resumed: nothing redone
    from gcnas.data import RunStore
    from gcnas.spaces.nb201 import NB201Space

    arch = NB201Space().sample_many(2, 0)[0]
    assert main(["hw", "costs", str(arch), "--run", run, "--latency", "measured"]) == 0
    assert "measured" in capsys.readouterr().out
    assert RunStore(run).stage("hw_measure")["num"] == 2


def test_hw_errors_print_one_line(tmp_path, capsys):
    assert main(["hw", "costs", "|nor_conv_3x3~0|", "--run", str(tmp_path)]) == 1
    assert "malformed architecture string" in capsys.readouterr().err
    assert main(["hw", "costs", "0", "--latency", "measured", "--run", str(tmp_path)]) == 1
    assert "store=" in capsys.readouterr().err
    assert main(["hw", "costs", "0", "--energy", "hwnb:/absent.pickle:fpga"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["hw", "measure", "--num", "0", "--run", str(tmp_path / "r")]) == 1
    assert "--num must be" in capsys.readouterr().err
    assert main(["hw", "measure", "--num", "1", "--device", "tpu", "--run", str(tmp_path / "r")]) == 1
    assert "unknown device 'tpu'" in capsys.readouterr().err
