import math

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.search import CallableObjective, Constraint, LUTObjective, TableObjective
from gcnas.search.specs import cost_objective
from gcnas.spaces.nb201 import Arch


def test_table_objective_reads_column_and_nan_for_missing(small_table):
    acc = TableObjective("valid_acc", table=small_table)
    archs = small_table.archs[:3]
    assert np.allclose(acc(archs), small_table.values(archs, "valid_acc"))
    absent = next(Arch.from_code(c) for c in range(15625) if Arch.from_code(c) not in small_table)
    assert math.isnan(acc([absent])[0])
    assert acc.signed(acc(archs)).tolist() == acc(archs).tolist()
    lat = TableObjective("latency_ms", maximize=False, table=small_table)
    assert (lat.signed(lat(archs)) < 0).all()


def test_table_objective_unknown_column(small_table):
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        TableObjective("nope", table=small_table)


def test_callable_objective_and_bad_callable():
    obj = CallableObjective("ops", fn=lambda a: float(sum(a.ops)))
    assert obj([Arch.from_code(7)])[0] == sum(Arch.from_code(7).ops)
    with pytest.raises(InvalidInputError, match="needs a callable"):
        CallableObjective("x", fn=3)


def test_constraint_slack_and_bounds(small_table):
    lat = TableObjective("latency_ms", maximize=False, table=small_table)
    c = Constraint(lat, upper=2.0, lower=1.0)
    assert c.slack(np.array([1.5, 2.5, 0.5])).tolist() == [-0.5, 0.5, 0.5]
    assert c.describe() == "latency_ms >= 1 and <= 2"
    with pytest.raises(InvalidInputError, match="upper or a lower"):
        Constraint(lat)
    with pytest.raises(InvalidInputError, match="finite"):
        Constraint(lat, upper=float("nan"))


def test_lut_objective_needs_a_lut(tmp_path):
    with RunStore(tmp_path / "run") as store:
        with pytest.raises(InvalidInputError, match="no lookup table"):
            LUTObjective("accuracy", store=store)
        archs = [Arch.from_code(c) for c in range(5)]
        store.write_lut(archs, {"accuracy": [1.0, 2.0, 3.0, 4.0, 5.0]})
        acc = LUTObjective("accuracy", store=store)
        assert acc(archs[::-1]).tolist() == [5.0, 4.0, 3.0, 2.0, 1.0]


def test_cost_objective_uses_hardware_cost_table():
    from gcnas.spaces.nb201.counts import network_costs

    archs = [Arch.from_code(c) for c in (0, 777, 15624)]
    params = cost_objective("params")
    assert not params.maximize
    assert np.allclose(params(archs), [network_costs(a)["params_m"] for a in archs])
    energy = cost_objective("energy", energy="model")
    values = energy(archs)
    assert values.shape == (3,) and np.all(values > 0)
    assert np.allclose(energy.known_values(archs), values)
