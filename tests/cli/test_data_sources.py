"""The commands read every benchmark source: packaged tables, NATS-Bench archives, partial CSVs."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import BenchmarkTable, NATSBench, RunStore, write_tss_archive
from gcnas.data.natsbench import ARCHIVE_NAME
from gcnas.spaces.nb201 import Arch, NB201Space
from tests.conftest import cli_json


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A fixture NATS-Bench archive: 30 cells in its index, results for 6 (synthetic figures)."""
    archs = NB201Space().sample_many(6, seed=31)
    order = archs + [a for a in NB201Space().sample_many(30, seed=32) if a not in archs][:24]
    return write_tss_archive(tmp_path_factory.mktemp("torch") / ARCHIVE_NAME, archs, seed=31, meta_archs=order)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GCNAS_CACHE_DIR", str(tmp_path / "cache"))


def test_search_on_a_natsbench_archive_judged_by_it(archive, tmp_path, capsys):
    bench = NATSBench(archive)
    out = cli_json(capsys, "search", "run", "--run", tmp_path / "r", "--method", "random", "--budget", "4",
                   "--accuracy-from", f"natsbench:{archive}:cifar10:valid_acc",
                   "--truth", f"natsbench:{archive}:cifar10:test_acc")
    with RunStore(tmp_path / "r") as store:
        trials = store.trials("random")
    assert len(trials) == 4 and all(t.status == "ok" for t in trials)
    for trial in trials:   # only cells with a results file are proposed; values as the adapter reads them
        assert trial.objectives["accuracy"] == pytest.approx(bench.value(trial.arch, "valid_acc"))
    assert out["truth"]["column"] == "test_acc" and out["truth"]["n"] == 4


def test_predictor_fit_and_eval_on_natsbench_and_packaged_tables(archive, tmp_path, capsys):
    run = tmp_path / "r"
    fit = cli_json(capsys, "predictor", "fit", "--run", run, "--model", "gbt", "--ensemble", "1",
                   "--table", f"natsbench:{archive}:cifar100", "--metric", "valid_acc", "--num-train", "0")
    assert fit["n_train"] == 6 and fit["source"] == f"table:natsbench:{archive}:cifar100:valid_acc"
    evaluated = cli_json(capsys, "predictor", "eval", "--run", run, "--include-train",
                         "--truth", f"natsbench:{archive}:cifar100:valid_acc:200")
    assert evaluated["metric"] == "valid_acc" and evaluated["n"] == 6
    fit = cli_json(capsys, "predictor", "fit", "--run", run, "--model", "gbt", "--ensemble", "1",
                   "--table", "nb201:cifar10", "--metric", "valid_acc", "--num-train", "40")
    assert fit["n_train"] == 40 and fit["source"] == "table:nb201:cifar10:valid_acc"


def test_lut_with_packaged_latency_and_a_partial_table(tmp_path, capsys):
    run = tmp_path / "r"
    cli_json(capsys, "predictor", "fit", "--run", run, "--model", "gbt", "--ensemble", "1",
             "--table", "nb201:cifar10", "--metric", "valid_acc", "--num-train", "60")
    built = cli_json(capsys, "lut", "build", "--run", run, "--latency", "nb201:latency:pixel3", "--energy", "none")
    assert built["rows"] == 15625 and "latency_ms_missing" not in built
    latency = BenchmarkTable.packaged("nb201:latency")
    with RunStore(run) as store:
        archs = NB201Space().sample_many(5, seed=0)
        assert store.lut_values(archs, "latency_ms").tolist() == latency.values(archs, "pixel3").tolist()

    official = BenchmarkTable.packaged("nb201:cifar10")
    indices = np.random.default_rng(8).choice(15625, size=200, replace=False)
    covered = {official.arch(int(i)).code for i in indices}
    mine = tmp_path / "mydevice.csv"
    mine.write_text("index,mydevice\n" + "".join(f"{i},{1 + i % 97 / 10}\n" for i in indices))
    built = cli_json(capsys, "lut", "build", "--run", run, "--latency", f"{mine}:mydevice", "--energy", "none")
    assert built["latency_ms_missing"] == 15625 - 200
    rows = cli_json(capsys, "lut", "query", "--run", run, "--max-latency-ms", "100", "--top", "500", "--all-members",
                    "--truth", "nb201:cifar10:test_acc")["rows"]
    assert len(rows) == 200 and {r["code"] for r in rows} == covered     # the missing cells stay out
    assert all(r["true_test_acc"] == official.value(Arch.from_code(r["code"]), "test_acc") for r in rows)
