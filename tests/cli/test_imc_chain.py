"""The IMC macro space through the CLI at toy size: supernet training, scoring with inherited weights,
a GCN fitted to the scores, a lookup table over a pool with the IMC crossbar model's latency and energy,
bounded queries, multi-objective search (bo, evolution, random), ``arch show`` and ``hw measure`` / ``hw costs``.

Toy shapes so that it runs on a CPU in seconds: a supernet of 4 channels and at most 2 blocks per stage
on 8x8-pixel synthetic images; the lookup table's costs are the crossbar model's of each network at the
space's default shape (32 channels, CIFAR-10 input), built once per network.
"""

from __future__ import annotations

import json

import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.spaces import decision_index, get_space
from tests.conftest import cli_json, run_cli

IMC = get_space("imc")
TOY = ["--dataset", "synthetic", "--channels", "4", "--cells", "2", "--epochs", "1", "--steps-per-epoch", "2",
       "--batch-size", "8", "--device", "cpu"]
POOL = 12


@pytest.fixture(scope="module")
def imc_run(tmp_path_factory):
    """An IMC run: a uniform supernet trained 2 steps, 6 scored sub-networks, a GCN, a pooled lookup table."""
    run = str(tmp_path_factory.mktemp("imc") / "run")
    assert main(["supernet", "train", "--space", "imc", "--run", run, *TOY, "--format", "json"]) == 0
    assert main(["supernet", "sample", "--run", run, "--num", "6", "--limit", "1", "--bn-recalibrate", "1",
                 "--batch-size", "16", "--device", "cpu", "--format", "json"]) == 0
    assert main(["predictor", "fit", "--run", run, "--samples", "--epochs", "2", "--ensemble", "1",
                 "--format", "json"]) == 0
    return run


def test_imc_lut_over_a_pool_with_the_crossbar_costs(imc_run, capsys):
    run = imc_run
    code, _, err = run_cli(capsys, "lut", "build", "--run", run, "--latency", "imc", "--energy", "imc")
    assert code == 1 and err.count("\n") == 1 and "'imc' space cannot be listed" in err and "--pool N" in err
    code, _, err = run_cli(capsys, "lut", "build", "--run", run, "--pool", "4", "--energy", "model")
    assert code == 1 and err.count("\n") == 1 and "energy model cover nb201 cells, not the 'imc' space" in err
    assert "use imc (the crossbar model)" in err
    built = cli_json(capsys, "lut", "build", "--run", run, "--pool", str(POOL), "--latency", "imc", "--energy", "imc")
    assert built["rows"] == POOL and built["space"] == "imc" and built["latency"] == built["energy"] == "imc"
    assert "latency_measured" not in built["columns"]      # the model estimates every row: none is measured

    rows = cli_json(capsys, "lut", "query", "--run", run, "--top", str(POOL))
    assert len(rows) == POOL and all(r["latency_ms"] > 0 and r["energy_mj"] > 0 for r in rows)
    shown = cli_json(capsys, "arch", "show", "--space", "imc", "--imc", rows[0]["arch"])
    assert shown["params_m"] == pytest.approx(rows[0]["params_m"]) and shown["flops_m"] > 0
    assert shown["imc_latency_ms"] == pytest.approx(rows[0]["latency_ms"])
    assert shown["imc_energy_mj"] == pytest.approx(rows[0]["energy_mj"])

    latency = sorted(r["latency_ms"] for r in rows)
    energy = sorted(r["energy_mj"] for r in rows)
    bound_ms, bound_mj = latency[POOL // 2], energy[-2]
    bounded = cli_json(capsys, "lut", "query", "--run", run, "--top", str(POOL), "--max-latency-ms", str(bound_ms),
                       "--max-energy-mj", str(bound_mj))
    assert bounded and all(r["latency_ms"] <= bound_ms and r["energy_mj"] <= bound_mj for r in bounded)
    assert {r["arch"] for r in bounded} == {r["arch"] for r in rows
                                            if r["latency_ms"] <= bound_ms and r["energy_mj"] <= bound_mj}
    code, _, err = run_cli(capsys, "lut", "query", "--run", run, "--max-latency-ms", str(latency[0] / 2))
    assert code == 1 and "no architecture meets the constraints" in err


@pytest.mark.parametrize("method", ["bo", "evolution", "random"])
def test_imc_multi_objective_search_over_the_pool(imc_run, method, capsys):
    pooled = {r["arch"]: r for r in cli_json(capsys, "lut", "query", "--run", imc_run, "--top", str(POOL))}
    front = cli_json(capsys, "search", "run", "--run", imc_run, "--method", method, "--budget", "5", "--n-init", "3",
                     "--objectives", "accuracy,latency,energy", "--latency-from", "imc", "--energy-from", "imc",
                     "--study", f"imc-{method}")
    assert front and all(r["arch"] in pooled for r in front)             # proposals are the table's networks
    for row in front:
        assert row["latency_ms"] == pytest.approx(pooled[row["arch"]]["latency_ms"])
        assert row["energy_mj"] == pytest.approx(pooled[row["arch"]]["energy_mj"])
    # accuracy from the predictor, latency looked up in the table, the energy bound on the table's column
    bound = sorted(r["energy_mj"] for r in pooled.values())[-3]
    front = cli_json(capsys, "search", "run", "--run", imc_run, "--method", method, "--budget", "5", "--n-init", "3",
                     "--objectives", "accuracy,latency", "--accuracy-from", "predictor", "--latency-from", "lut",
                     "--max-energy-mj", str(bound), "--study", f"imc-{method}-bounded")
    assert front and all(pooled[r["arch"]]["energy_mj"] <= bound for r in front)


def test_hw_measure_and_costs_of_imc_networks(imc_run, tmp_path, capsys):
    code, _, err = run_cli(capsys, "hw", "measure", "--run", imc_run, "--all", "--repeats", "2")
    assert code == 1 and err.count("\n") == 1 and "'imc' space cannot be listed; measure --num K" in err
    args = ["hw", "measure", "--run", imc_run, "--num", "2", "--repeats", "2", "--warmup", "0", "--channels", "4",
            "--no-progress"]
    (first,) = cli_json(capsys, *args)
    assert first["device"] == "cpu/channels4" and first["measured"] == 2 and first["median"] > 0
    assert cli_json(capsys, *args)[0]["skipped"] == 2                      # resumed: nothing redone
    with RunStore(imc_run) as store:
        measured = store.costs("latency_ms", "cpu/channels4")
        assert store.stage("hw_measure")["space"] == "imc"
    (fresh,) = cli_json(capsys, "hw", "measure", "--space", "imc", "--run", str(tmp_path / "new"), "--num", "1",
                        "--repeats", "2", "--warmup", "0", "--channels", "4", "--no-progress")
    assert fresh["measured"] == 1
    with RunStore(tmp_path / "new") as store:                           # a new run records the space asked for
        assert store.space_name == "imc"
    arch = IMC.format(next(iter(measured)))
    shown = cli_json(capsys, "hw", "costs", "--run", imc_run, arch, "--latency", "measured:cpu/channels4",
                     "--latency", "imc", "--energy", "imc")
    costs = {(r["cost"], r["source"]): r for r in shown["costs"]}
    assert shown["arch"] == arch and "code" not in shown
    assert costs[("latency_ms", "measured:cpu/channels4")]["value"] == pytest.approx(measured[IMC.parse(arch)][0])
    assert costs[("latency_ms", "imc")]["kind"] == costs[("energy_mj", "imc")]["kind"] == "estimate"
    assert ("energy_mj", "model (Horowitz 45nm fp32)") not in costs     # the analytic model is NAS-Bench-201's


def test_train_and_export_an_imc_network(tmp_path, capsys):
    """`gcnas train --space imc` (no --cells: depth is in the architecture) and `arch export` of its weights."""
    arch = "vgg-d1-k3-w40/basic-d1-k3-w20/bottleneck-d1-k3-w20/vgg-d1-k3-w20"
    run = str(tmp_path / "run")
    trained = cli_json(capsys, "train", "--space", "imc", arch, "--run", run, "--epochs", "1", "--channels", "4",
                       "--steps-per-epoch", "2", "--device", "cpu")
    assert trained["arch"] == arch and trained["settings"]["cells"] is None
    assert trained["code"] == decision_index(IMC, IMC.parse(arch))
    out = tmp_path / "net.pt"
    code, printed, err = run_cli(capsys, "arch", "export", "--space", "imc", arch, "--weights", trained["path"],
                                 "--format", "pt", "--out", str(out), "--output-format", "json")
    assert code == 0, err
    assert out.is_file() and json.loads(printed)["max_abs_diff"] < 1e-4
    code, _, err = run_cli(capsys, "train", "--space", "imc", arch, "--run", run, "--cells", "3", "--epochs", "1")
    assert code == 1 and "cells" in err  # a cell count contradicts an architecture that holds its depth
