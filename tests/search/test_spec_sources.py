"""Every benchmark column spec as an objective and a truth: packaged tables, NATS-Bench, partial CSVs."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import BenchmarkTable, NATSBench, write_tss_archive
from gcnas.data.natsbench import ARCHIVE_NAME
from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.predictors import parse_truth
from gcnas.search import RandomSearch, TableObjective, run_search
from gcnas.search.specs import cost_objective, objective_from_spec
from gcnas.spaces.nb201 import NB201Space


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A fixture NATS-Bench archive: 40 cells in its index, results for 5 (synthetic figures)."""
    archs = NB201Space().sample_many(5, seed=21)
    order = archs + [a for a in NB201Space().sample_many(40, seed=22) if a not in archs][:35]
    root = write_tss_archive(tmp_path_factory.mktemp("torch") / ARCHIVE_NAME, archs, seed=21, meta_archs=order)
    return root, archs


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GCNAS_CACHE_DIR", str(folder))
    return folder / "natsbench"


def test_packaged_columns_as_accuracy_and_latency_objectives():
    cifar, latency = BenchmarkTable.packaged("nb201:cifar10"), BenchmarkTable.packaged("nb201:latency")
    archs = NB201Space().sample_many(6, seed=2)
    acc = objective_from_spec("nb201:cifar10:valid_acc", name="accuracy")
    assert isinstance(acc, TableObjective) and (acc.name, acc.column, acc.maximize, acc.cheap) == \
        ("accuracy", "valid_acc", True, False)
    assert acc(archs).tolist() == cifar.values(archs, "valid_acc").tolist()
    lat = cost_objective("latency", latency="nb201:latency:eyeriss")
    assert isinstance(lat, TableObjective) and (lat.name, lat.maximize, lat.cheap) == ("latency_ms", False, True)
    assert lat(archs).tolist() == latency.values(archs, "eyeriss").tolist()
    with pytest.raises(InvalidInputError, match="no column 'top1'"):
        objective_from_spec("nb201:cifar10:top1")
    with pytest.raises(InvalidInputError, match="unknown objective source 'cifar10:valid_acc'.*nb201:cifar10:COLUMN"):
        objective_from_spec("cifar10:valid_acc")


def test_natsbench_spec_reads_the_archive_through_the_adapter(archive, cache):
    root, archs = archive
    bench = NATSBench(root)
    obj = objective_from_spec(f"natsbench:{root}:cifar100:test_acc", name="accuracy")
    assert isinstance(obj, TableObjective) and obj.column == "test_acc"
    np.testing.assert_allclose(obj(archs), bench.values(archs, "test_acc", dataset="cifar100"))
    short = objective_from_spec(f"natsbench:{root.parent}:cifar100:test_acc:12")   # the folder holding it; 12 epochs
    np.testing.assert_allclose(short(archs), bench.values(archs, "test_acc", dataset="cifar100", hp="12"))
    assert not np.allclose(short(archs), obj(archs))
    listed, unlisted = bench.archs[10], next(a for a in NB201Space().sample_many(60, seed=5) if a not in bench)
    assert np.isnan(obj([listed, unlisted])).all()   # no results file: no value (the search keeps to the others)
    assert len(list(cache.glob("*.csv"))) == 2    # one cached table per (dataset, hp)


def test_natsbench_table_is_read_once_then_from_the_cache(archive, cache, monkeypatch):
    root, archs = archive
    first = objective_from_spec(f"natsbench:{root}:cifar10:valid_acc")(archs)

    def no_archive_reads(*args, **kwargs):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(NATSBench, "to_table", no_archive_reads)
    np.testing.assert_array_equal(objective_from_spec(f"natsbench:{root}:cifar10:valid_acc")(archs), first)
    with pytest.raises(AssertionError, match="read again"):   # another dataset is not cached yet
        objective_from_spec(f"natsbench:{root}:ImageNet16-120:valid_acc")


def test_natsbench_default_path_is_torch_home(archive, cache, monkeypatch):
    root, archs = archive
    monkeypatch.setenv("TORCH_HOME", str(root.parent))
    np.testing.assert_allclose(objective_from_spec("natsbench::cifar10:train_acc")(archs),
                               NATSBench(root).values(archs, "train_acc"))


@pytest.mark.parametrize("spec, error, message", [
    ("natsbench:cifar10:valid_acc", InvalidInputError, "expected natsbench:PATH:DATASET:METRIC"),
    ("natsbench:{root}:valid_acc", InvalidInputError, "expected natsbench:PATH:DATASET:METRIC"),
    ("natsbench:{root}:mnist:valid_acc", InvalidInputError, "unknown NATS-Bench dataset 'mnist'"),
    ("natsbench:{root}:cifar10:top1", InvalidInputError, "no column 'top1'"),
    ("natsbench:{root}/nowhere:cifar10:valid_acc", DataNotFoundError, "NATS-Bench archive not found"),
])
def test_bad_natsbench_specs(archive, cache, spec, error, message):
    with pytest.raises(error, match=message):
        objective_from_spec(spec.format(root=archive[0]))


def test_truth_from_every_spec_form(archive, cache):
    root, archs = archive
    truth = parse_truth("nb201:cifar10:test_acc")
    assert truth.values(archs).tolist() == BenchmarkTable.packaged("nb201:cifar10").values(archs, "test_acc").tolist()
    nats = parse_truth(f"natsbench:{root}:cifar10:test_acc")
    np.testing.assert_allclose(nats.values(archs), NATSBench(root).values(archs, "test_acc"))
    assert nats.judge(archs, nats.values(archs))["kendall_tau"] == pytest.approx(1.0)
    with pytest.raises(InvalidInputError, match="--truth must be table:CSV:COLUMN, nb201:cifar10:COLUMN"):
        parse_truth("cifar10:test_acc")
    with pytest.raises(InvalidInputError, match="truth column 'top1' is not in"):
        parse_truth("nb201:cifar10:top1")


@pytest.mark.parametrize("key", ["index", "arch"])
def test_search_keeps_to_the_cells_a_partial_latency_table_covers(tmp_path, key):
    official = BenchmarkTable.packaged("nb201:cifar10")
    rng = np.random.default_rng(3)
    indices = rng.choice(15625, size=200, replace=False)
    archs = [official.arch(int(i)) for i in indices]
    latency = rng.uniform(1, 9, 200).round(3)
    keys = indices if key == "index" else archs
    path = tmp_path / "mydevice.csv"
    path.write_text(f"{key},mydevice\n" + "".join(f"{k},{v}\n" for k, v in zip(keys, latency)))
    by_code = {a.code: v for a, v in zip(archs, latency)}
    objectives = [objective_from_spec("nb201:cifar10:valid_acc", name="accuracy"),
                  cost_objective("latency", latency=f"{path}:mydevice")]
    result = run_search(RandomSearch(), objectives, budget=15, seed=0)
    assert len(result.trials) == 15 and all(t.status == "ok" for t in result.trials)
    for trial in result.trials:
        assert trial.objectives["latency_ms"] == by_code[trial.arch.code]
        assert trial.objectives["accuracy"] == official.value(trial.arch, "valid_acc")
