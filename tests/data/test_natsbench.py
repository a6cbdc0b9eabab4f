"""NATSBench over a fixture archive that gcnas writes in the official fast-mode format."""

from __future__ import annotations

import bz2
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nats_bench
from gcnas.data import BenchmarkTable, NATSBench, write_tss_archive
from gcnas.data.natsbench import ARCHIVE_NAME, DATASETS, HPS, METRICS, default_archive_path
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.spaces.nb201 import NUM_ARCHS, Arch, NB201Space

# (dataset, metric) -> (dataset in the file, eval set) under the NATS-Bench convention
SPLITS = {
    ("cifar10-valid", "valid"): ("cifar10-valid", "x-valid"),
    ("cifar10-valid", "test"): ("cifar10-valid", "ori-test"),
    ("cifar10", "valid"): ("cifar10-valid", "x-valid"),
    ("cifar10", "test"): ("cifar10", "ori-test"),
    ("cifar100", "valid"): ("cifar100", "x-valid"),
    ("cifar100", "test"): ("cifar100", "x-test"),
    ("ImageNet16-120", "valid"): ("ImageNet16-120", "x-valid"),
    ("ImageNet16-120", "test"): ("ImageNet16-120", "x-test"),
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A 15,625-arch meta file, results files for 5 archs (both hps, all 4 datasets)."""
    archs = NB201Space().sample_many(5, seed=3)
    root = write_tss_archive(tmp_path_factory.mktemp("torch_home") / ARCHIVE_NAME, archs, seed=3)
    return root, archs


@pytest.fixture(scope="module")
def bench(archive):
    return NATSBench(archive[0])


def raw(root, index):
    """The results file read with bz2 + pickle only (the test's own oracle)."""
    with bz2.BZ2File(root / f"{index:06d}.pickle.pbz2", "rb") as handle:
        return pickle.load(handle)


def raw_final(root, index, hp, dataset, split, what="eval_acc1es"):
    """Mean over the trials of the last-epoch figure of ``split``."""
    results = raw(root, index)[hp]
    values = []
    for seed in results["dataset_seed"][dataset]:
        trial = results["all_results"][(dataset, seed)]
        key = f"{split}@{trial['epochs'] - 1}"
        values.append(trial[what][key])
    return float(np.mean(values))


def test_fixture_is_loaded_by_the_official_api(archive):
    root, archs = archive
    api = nats_bench.create(str(root), "tss", fast_mode=True, verbose=False)
    assert len(api) == NUM_ARCHS
    index = api.query_index_by_arch(str(archs[0]))
    assert 0 <= index < NUM_ARCHS
    info = api.get_more_info(index, "cifar100", hp="200", is_random=False)
    assert {"train-accuracy", "valid-accuracy", "test-accuracy", "valtest-accuracy"} <= set(info)
    costs = api.get_cost_info(index, "cifar10", hp="12")
    assert costs["params"] > 0 and costs["flops"] > 0 and costs["latency"] > 0
    assert api.get_net_config(index, "cifar100")["num_classes"] == 100
    assert sorted(api.avaliable_hps) == ["12", "200"]
    assert raw(root, index)["200"]["clear_net_done"] is True  # the "simple" archive: no weights


def test_index_and_arch_agree_with_the_official_meta(archive, bench):
    root, archs = archive
    api = nats_bench.create(str(root), "tss", fast_mode=True, verbose=False)
    assert len(bench) == NUM_ARCHS
    for index in (0, 1, 777, NUM_ARCHS - 1):
        assert str(bench.arch(index)) == api.meta_archs[index]
        assert bench.index(bench.arch(index)) == index
    for arch in archs:
        index = api.query_index_by_arch(str(arch))
        assert bench.index(arch) == bench.index(str(arch)) == bench.index(index) == index
        assert arch in bench and str(arch) in bench
    assert sorted(bench.available_indices().tolist()) == sorted(bench.index(a) for a in archs)


@pytest.mark.parametrize("hp", HPS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_accuracies_read_the_splits_of_the_nats_convention(archive, bench, dataset, hp):
    root, archs = archive
    for arch in archs[:2]:
        index = bench.index(arch)
        for kind in ("valid", "test"):
            source, split = SPLITS[(dataset, kind)]
            expected = raw_final(root, index, hp, source, split)
            assert bench.value(arch, f"{kind}_acc", dataset=dataset, hp=hp) == pytest.approx(expected)
            expected_loss = raw_final(root, index, hp, source, split, what="eval_losses")
            assert bench.value(arch, f"{kind}_loss", dataset=dataset, hp=hp) == pytest.approx(expected_loss)


def test_costs_match_the_official_api(archive, bench):
    root, archs = archive
    api = nats_bench.create(str(root), "tss", fast_mode=True, verbose=False)
    for arch in archs[:2]:
        index = bench.index(arch)
        for dataset in DATASETS:
            costs = api.get_cost_info(index, dataset, hp="200")
            record = bench.record(arch, dataset=dataset)
            assert record["params_m"] == pytest.approx(costs["params"])
            assert record["flops_m"] == pytest.approx(costs["flops"])
            assert record["latency_ms"] == pytest.approx(1000 * api.get_latency(index, dataset, hp="200"))
    small = bench.record(archs[0], dataset="ImageNet16-120")["flops_m"]
    assert small < bench.record(archs[0], dataset="cifar100")["flops_m"]  # 16x16 inputs


def test_defaults_and_overrides(archive):
    root, archs = archive
    bench = NATSBench(root, dataset="imagenet16-120", hp=12)
    assert (bench.dataset, bench.hp) == ("ImageNet16-120", "12")
    arch = archs[1]
    assert bench.value(arch, "test_acc") == bench.value(arch, "test_acc", dataset="ImageNet16-120", hp="12")
    assert bench.value(arch, "test_acc", hp="200") != bench.value(arch, "test_acc")
    assert bench.value(arch, "valid_acc", dataset="cifar10") == bench.value(arch, "valid_acc",
                                                                            dataset="cifar10-valid")


def test_values_is_value_in_order(archive, bench):
    _, archs = archive
    order = [archs[3], archs[0], archs[3], archs[2]]
    got = bench.values(order, "test_acc", dataset="cifar100")
    assert got.dtype == np.float64 and got.shape == (4,)
    assert got.tolist() == [bench.value(a, "test_acc", dataset="cifar100") for a in order]
    assert got[0] == got[2]


def test_to_table_is_a_benchmark_table(archive, bench, tmp_path):
    _, archs = archive
    table = bench.to_table("cifar10", "200", ["valid_acc", "test_acc", "latency_ms"], progress=False)
    assert isinstance(table, BenchmarkTable)
    assert table.columns == ["valid_acc", "test_acc", "latency_ms"]
    assert table.indices.tolist() == sorted(bench.index(a) for a in archs)
    for arch in archs:
        assert table.index(arch) == bench.index(arch)
        assert table.value(arch, "test_acc") == bench.value(arch, "test_acc", dataset="cifar10", hp="200")
    again = BenchmarkTable(table.to_csv(tmp_path / "nats.csv"))
    np.testing.assert_allclose(again.values(archs, "valid_acc"), table.values(archs, "valid_acc"))
    subset = bench.to_table("cifar100", "12", archs=[archs[4], archs[1]], progress=False)
    assert subset.archs == [archs[4], archs[1]] and subset.columns == list(METRICS)


def test_default_path_is_torch_home(archive, bench, monkeypatch):
    root, archs = archive
    monkeypatch.setenv("TORCH_HOME", str(root.parent))
    assert default_archive_path() == root
    default = NATSBench()  # $TORCH_HOME/NATS-tss-v1_0-3ffb9-simple
    assert default.path == root and default.index(archs[0]) == bench.index(archs[0])
    assert NATSBench(root.parent).path == root  # the directory holding the archive


def test_missing_archive_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    with pytest.raises(DataNotFoundError) as info:
        NATSBench()
    message = str(info.value)
    assert "TORCH_HOME" in message and ARCHIVE_NAME in message and str(tmp_path / "th") in message
    assert "tar xf" in message
    with pytest.raises(DataNotFoundError, match="meta.pickle.pbz2"):
        NATSBench(tmp_path / "nowhere")


def test_a_file_instead_of_the_directory(tmp_path):
    path = tmp_path / f"{ARCHIVE_NAME}.tar"
    path.write_bytes(b"tar")
    with pytest.raises(InvalidInputError, match="extracted fast-mode directory"):
        NATSBench(path)


def test_corrupt_meta(tmp_path):
    root = tmp_path / ARCHIVE_NAME
    root.mkdir()
    (root / "meta.pickle.pbz2").write_bytes(b"not bz2 at all")
    with pytest.raises(CorruptFileError, match="meta.pickle.pbz2"):
        NATSBench(root)
    with bz2.BZ2File(root / "meta.pickle.pbz2", "wb") as handle:
        pickle.dump({"meta_archs": ["|bad~0|+|none~0|none~1|+|none~0|none~1|none~2|"]}, handle)
    with pytest.raises(CorruptFileError, match=r"meta_archs\[0\].*unknown operation 'bad'"):
        NATSBench(root)


def test_corrupt_and_missing_results_files(tmp_path):
    archs = NB201Space().sample_many(3, seed=1)
    root = write_tss_archive(tmp_path / ARCHIVE_NAME, archs[:2], seed=1, meta_archs=archs, hps=("12",))
    bench = NATSBench(root, hp="12")
    first, second, absent = (bench.index(a) for a in archs)
    (root / f"{first:06d}.pickle.pbz2").write_bytes(bz2.compress(b"garbage"))
    with pytest.raises(CorruptFileError, match=f"{first:06d}.pickle.pbz2"):
        bench.value(archs[0], "test_acc")
    with pytest.raises(DataNotFoundError, match=f"no results file {absent:06d}.pickle.pbz2"):
        bench.value(archs[2], "test_acc")
    with pytest.raises(CorruptFileError, match="hp=200"):
        bench.value(archs[1], "test_acc", hp="200")
    assert bench.value(archs[1], "test_acc") > 0
    outsider = next(a for a in NB201Space().all_archs() if a not in archs)
    with pytest.raises(KeyError, match="is not in"):
        bench.index(outsider)


@pytest.mark.parametrize("call, match", [
    (lambda b, a: b.value(a, "top5"), "unknown NATS-Bench metric 'top5'; valid: valid_acc"),
    (lambda b, a: b.value(a, "test_acc", dataset="mnist"), "unknown NATS-Bench dataset 'mnist'"),
    (lambda b, a: b.value(a, "test_acc", hp="90"), "unknown NATS-Bench hp '90'"),
    (lambda b, a: b.arch(NUM_ARCHS), "out of range"),
    (lambda b, a: b.arch("3"), "must be an int"),
    (lambda b, a: b.index(3.5), "expected an Arch"),
    (lambda b, a: b.to_table(metrics=["acc"]), "unknown NATS-Bench metric 'acc'"),
])
def test_bad_input_names_the_problem(archive, bench, call, match):
    with pytest.raises(InvalidInputError, match=match):
        call(bench, archive[1][0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.integers(0, NUM_ARCHS - 1))
def test_hypothesis_index_arch_round_trip(bench, archive, code):
    arch = Arch.from_code(code)
    index = bench.index(arch)
    assert bench.arch(index) == arch and bench.index(str(arch)) == index
    if arch not in archive[1]:
        with pytest.raises(DataNotFoundError):
            bench.value(arch, "valid_acc")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=60), st.integers(-10**6, 10**6), st.floats(), st.none()))
def test_hypothesis_bad_keys_raise_only_value_or_key_errors(bench, text):
    try:
        index = bench.index(text)
    except (ValueError, KeyError):
        return
    assert 0 <= index < NUM_ARCHS


_PICKLABLE = st.recursive(
    st.none() | st.integers() | st.text(max_size=20) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10)


@settings(max_examples=40, deadline=None)
@given(content=st.one_of(
    st.binary(max_size=200).map(lambda blob: blob),  # not bz2 at all
    st.binary(min_size=1, max_size=200).map(lambda blob: bz2.compress(blob)[:-3]),  # truncated bz2
    _PICKLABLE.map(lambda obj: bz2.compress(pickle.dumps(obj))),  # a pickle of the wrong shape
    st.lists(st.text(max_size=30), max_size=4).map(
        lambda names: bz2.compress(pickle.dumps({"meta_archs": names}))),
))
def test_hypothesis_garbage_meta_is_a_corrupt_file(tmp_path_factory, content):
    root = tmp_path_factory.mktemp("garbage") / ARCHIVE_NAME
    root.mkdir()
    (root / "meta.pickle.pbz2").write_bytes(content)
    with pytest.raises(CorruptFileError):
        NATSBench(root)
