from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.exceptions import DataNotFoundError, InfeasibleError, InvalidInputError
from gcnas.predictors import LookupTable
from gcnas.spaces.nb201 import NUM_ARCHS, Arch, NB201Space


@pytest.fixture(scope="module")
def lut(tmp_path_factory, fitted_gbt, latency_csv):
    store = RunStore(tmp_path_factory.mktemp("run"))
    return LookupTable.build(store, fitted_gbt, latency=f"{latency_csv}:cpu", energy="model")


def test_build_writes_every_arch_and_cost(lut, fitted_gbt):
    store = lut.store
    assert store.lut_size() == NUM_ARCHS
    assert lut.columns == ["accuracy", "accuracy_std", "params_m", "flops_m", "latency_ms", "energy_mj",
                           "latency_measured"]
    archs = NB201Space().sample_many(50, seed=2)
    np.testing.assert_allclose(store.lut_values(archs, "accuracy"),
                               fitted_gbt.predict([a.canonical() for a in archs]))
    assert store.stage("lut")["rows"] == NUM_ARCHS and store.lut_meta()["predictor"] == "gbt"


def test_isomorphic_members_share_prediction(lut):
    rows = lut.store.select_lut()
    by_class: dict[int, set] = {}
    for row in rows:
        by_class.setdefault(row["canonical"], set()).add(row["accuracy"])
    assert len(by_class) == 6466
    assert all(len(values) == 1 for values in by_class.values())


def test_query_by_accuracy_respects_bounds(lut):
    rows = lut.query(max_latency_ms=3.0, max_params_m=0.8, top=7)
    assert [r["rank"] for r in rows] == list(range(1, 8))
    assert all(r["latency_ms"] <= 3.0 and r["params_m"] <= 0.8 for r in rows)
    accuracy = [r["accuracy"] for r in rows]
    assert accuracy == sorted(accuracy, reverse=True)
    assert len({r["canonical"] for r in rows}) == 7  # one per isomorphism class
    # nothing feasible that is not listed beats the 7th row
    every = lut.store.select_lut(maxima={"latency_ms": 3.0, "params_m": 0.8}, order_by="accuracy")
    assert every[0]["accuracy"] == rows[0]["accuracy"]


def test_query_all_members_and_every_bound(lut):
    rows = lut.query(max_latency_ms=4, max_energy_mj=1e9, max_params_m=2, max_flops_m=1e4, top=5, distinct=False)
    assert len(rows) == 5
    assert rows[0]["accuracy"] >= rows[-1]["accuracy"]
    unbounded = lut.query(top=None, distinct=False)
    assert len(unbounded) == NUM_ARCHS


@pytest.mark.parametrize("cost", ["latency_ms", "params_m", "energy_mj"])
def test_pareto_front_is_non_dominated(lut, cost):
    front = lut.query(sort="pareto", pareto_cost=cost, top=None, max_flops_m=150)
    values = np.array([[r["accuracy"], r[cost]] for r in front])
    assert np.all(np.diff(values[:, 1]) >= 0) and np.all(np.diff(values[:, 0]) > 0)
    every = lut.store.select_lut(maxima={"flops_m": 150})
    acc = np.array([r["accuracy"] for r in every])
    cst = np.array([r[cost] for r in every])
    for a, c in values:  # nobody is at least as good on both and strictly better on one
        assert not np.any((acc >= a) & (cst <= c) & ((acc > a) | (cst < c)))
    thin = lut.query(sort="pareto", pareto_cost=cost, top=3, max_flops_m=150)
    assert len(thin) == min(3, len(front)) and thin[0]["arch"] == front[0]["arch"]
    assert thin[-1]["arch"] == front[-1]["arch"]


def test_infeasible_single_bound(lut):
    smallest = lut.store.lut_min("latency_ms")
    with pytest.raises(InfeasibleError, match=rf"latency_ms <= 0.5 excludes every architecture "
                                              rf"\(the smallest latency_ms in the table is {smallest:g}\)"):
        lut.query(max_latency_ms=0.5)


def test_infeasible_combination_names_the_admitting_value(tmp_path):
    store = RunStore(tmp_path)
    archs = [Arch.from_code(c) for c in (100, 200, 300)]
    store.write_lut(archs, {"accuracy": [90, 80, 70], "latency_ms": [1, 2, 3], "params_m": [2, 1, 3]})
    table = LookupTable(store)
    with pytest.raises(InfeasibleError) as caught:
        table.query(max_latency_ms=1.5, max_params_m=1.5)
    assert str(caught.value) == (
        "no architecture meets the constraints: latency_ms <= 1.5 excludes every architecture meeting the "
        "other bounds; latency_ms <= 2 would admit one; params_m <= 1.5 excludes every architecture meeting "
        "the other bounds; params_m <= 2 would admit one")
    assert [r["arch"] for r in table.query(max_latency_ms=2, max_params_m=1.5)] == [str(archs[1])]
    front = table.query(sort="pareto", pareto_cost="params_m")
    assert [(r["arch"], r["rank"]) for r in front] == [(str(archs[1]), 1), (str(archs[0]), 2)]


def test_missing_cost_column(tmp_path, fitted_gbt):
    table = LookupTable.build(RunStore(tmp_path), fitted_gbt, latency=None, energy=None)
    with pytest.raises(InvalidInputError, match="no 'latency_ms' column.*it has costs: params_m, flops_m"):
        table.query(max_latency_ms=5)
    with pytest.raises(InvalidInputError, match="no 'energy_mj' column"):
        table.query(sort="pareto", pareto_cost="energy_mj")


def test_bad_queries(lut, tmp_path):
    with pytest.raises(InvalidInputError, match="sort must be"):
        lut.query(sort="fastest")
    with pytest.raises(InvalidInputError, match="top must be"):
        lut.query(top=0)
    with pytest.raises(InvalidInputError, match="has no lookup table; build it"):
        LookupTable(tmp_path / "empty").query()


def test_build_without_predictor_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="gcnas predictor fit"):
        LookupTable.build(tmp_path)


def test_a_pool_tables_distinct_canonical_cells_and_a_space_too_large_to_list_needs_one(tmp_path, fitted_gbt):
    table = LookupTable.build(RunStore(tmp_path / "pool"), fitted_gbt, latency=None, energy=None, pool=50, seed=1)
    archs, predicted = table.predictions(distinct=False)
    assert len(archs) == 50 == len({a.canonical() for a in archs}) and all(a.is_canonical() for a in archs)
    np.testing.assert_allclose(predicted, fitted_gbt.predict(archs))
    assert table.store.lut_meta()["pool"] == 50 and table.query(top=3)[0]["accuracy"] == predicted.max()
    with pytest.raises(InvalidInputError, match="'darts' space cannot be listed.*--pool N"):
        LookupTable.build(RunStore(tmp_path / "darts", space="darts"), fitted_gbt)
