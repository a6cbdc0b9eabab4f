"""Objective specs as the command line writes them: ``table:CSV:COLUMN``, ``lut[:COLUMN]``, ``predictor[:PATH]``."""

from __future__ import annotations

import shutil

import pytest

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.search import CostObjective, LUTObjective, PredictorObjective, TableObjective
from gcnas.search.specs import COST_NAMES, cost_objective, objective_from_spec
from gcnas.spaces.nb201 import Arch, NB201Space

ARCHS = [Arch.from_code(c) for c in (3, 500, 15000)]


def test_table_spec_reads_the_named_column(small_table, tmp_path):
    archs = small_table.archs[:4]
    obj = objective_from_spec(f"table:{small_table.path}:test_acc")
    assert isinstance(obj, TableObjective) and (obj.name, obj.column, obj.maximize, obj.cheap) == \
        ("test_acc", "test_acc", True, False)
    assert obj(archs).tolist() == small_table.values(archs, "test_acc").tolist()
    named = objective_from_spec(f"table:{small_table.path}:latency_ms", name="lat", maximize=False, cheap=True)
    assert (named.name, named.column, named.maximize, named.cheap) == ("lat", "latency_ms", False, True)
    assert named.signed(named(archs)).tolist() == (-small_table.values(archs, "latency_ms")).tolist()
    # the column is what follows the last colon: a path may hold colons itself
    odd = tmp_path / "run:2" / "table.csv"
    odd.parent.mkdir()
    shutil.copy(small_table.path, odd)
    colons = objective_from_spec(f"table:{odd}:valid_acc")
    assert colons(archs).tolist() == small_table.values(archs, "valid_acc").tolist()


@pytest.fixture
def lut_store(tmp_path):
    with RunStore(tmp_path / "run") as store:
        store.write_lut(ARCHS, {"accuracy": [71.0, 72.0, 73.0], "latency_ms": [3.0, 2.0, 1.0]})
        yield store


def test_lut_spec_reads_accuracy_or_the_named_column(lut_store):
    acc = objective_from_spec("lut", store=lut_store)
    assert isinstance(acc, LUTObjective) and (acc.name, acc.column, acc.maximize) == ("accuracy", "accuracy", True)
    assert acc(ARCHS[::-1]).tolist() == [73.0, 72.0, 71.0]
    lat = objective_from_spec("lut:latency_ms", store=lut_store, maximize=False, cheap=True)
    assert (lat.name, lat.column, lat.maximize, lat.cheap) == ("latency_ms", "latency_ms", False, True)
    assert lat(ARCHS).tolist() == [3.0, 2.0, 1.0]
    other_default = objective_from_spec("lut", store=lut_store, column="latency_ms")
    assert other_default(ARCHS).tolist() == [3.0, 2.0, 1.0]
    with pytest.raises(InvalidInputError, match="needs a run"):
        objective_from_spec("lut")


def test_predictor_spec_loads_the_saved_predictor(tmp_path):
    from gcnas.predictors import GBTPredictor

    train = NB201Space().sample_many(40, seed=0)
    model = GBTPredictor(n_estimators=10, ensemble=1, seed=0).fit(train, [sum(a.ops) for a in train])
    with RunStore(tmp_path / "run") as store:
        with pytest.raises(InvalidInputError, match="run `gcnas predictor fit` first"):
            objective_from_spec("predictor", store=store)
        model.save(store.run_dir / "predictor.pt")
        default = objective_from_spec("predictor", store=store)
    elsewhere = objective_from_spec(f"predictor:{model.save(tmp_path / 'other.pt')}", name="score")
    assert isinstance(default, PredictorObjective) and default.name == "accuracy" and elsewhere.name == "score"
    expected = model.predict(ARCHS).tolist()
    assert default(ARCHS).tolist() == pytest.approx(expected) and elsewhere(ARCHS).tolist() == pytest.approx(expected)
    with pytest.raises(InvalidInputError, match="needs predictor:PATH or a run"):
        objective_from_spec("predictor")


@pytest.mark.parametrize("spec, message", [
    ("table:nocolumn", "table:CSV:COLUMN"),
    ("table::acc", "table:CSV:COLUMN"),
    ("oracle", "unknown objective source 'oracle'"),
])
def test_malformed_specs_are_refused(spec, message):
    with pytest.raises(InvalidInputError, match=message):
        objective_from_spec(spec)


def test_missing_table_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        objective_from_spec(f"table:{tmp_path}/missing.csv:acc")


def test_cost_objectives_are_cheap_minimised_and_read_their_source(small_table, lut_store):
    table = cost_objective("latency", latency=f"table:{small_table.path}:latency_ms")
    assert isinstance(table, TableObjective)
    assert (table.name, table.column, table.maximize, table.cheap) == ("latency_ms", "latency_ms", False, True)
    assert table(small_table.archs[:3]).tolist() == small_table.values(small_table.archs[:3], "latency_ms").tolist()
    lut = cost_objective("latency", latency="lut", store=lut_store)
    assert isinstance(lut, LUTObjective) and (lut.column, lut.maximize, lut.cheap) == ("latency_ms", False, True)
    assert lut(ARCHS).tolist() == [3.0, 2.0, 1.0]
    params = cost_objective("params")                       # its values: test_objectives.py
    assert isinstance(params, CostObjective)
    assert (params.name, params.maximize, params.cheap) == ("params_m", False, True)
    assert cost_objective("flops").name == COST_NAMES["flops"] == "flops_m"


def test_unknown_costs_and_missing_sources_are_refused():
    with pytest.raises(InvalidInputError, match="unknown objective 'speed'"):
        cost_objective("speed")
    with pytest.raises(InvalidInputError, match="needs a latency source"):
        cost_objective("latency")
