"""``Truth``: a benchmark-table column that judges rankings, and the lookup table judged by it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gcnas.data import BenchmarkTable
from gcnas.exceptions import DataNotFoundError, GcnasError, InvalidInputError
from gcnas.predictors import LookupTable, Truth, parse_truth
from gcnas.spaces.nb201 import Arch

ARCHS = [Arch.from_code(c) for c in range(0, 4000, 100)]  # 40 cells
ACC = np.linspace(60.0, 95.0, len(ARCHS))


def _truth(maximize: bool = True) -> Truth:
    table = BenchmarkTable.from_columns(range(len(ARCHS)), ARCHS, {"test_acc": ACC, "latency_ms": ACC / 10})
    return Truth(table, "test_acc", maximize=maximize)


def test_perfect_ranking_gives_tau_one_and_precision_one():
    judged = _truth().judge(ARCHS, ACC * 2 + 1)
    assert judged["n"] == 40 and judged["top_n"] == 4
    assert judged["kendall_tau"] == pytest.approx(1.0) and judged["spearman"] == pytest.approx(1.0)
    assert judged["precision_at_5"] == 1.0 and judged["top_kendall_tau"] == pytest.approx(1.0)


def test_reversed_ranking_gives_minus_one():
    judged = _truth().judge(ARCHS, -ACC)
    assert judged["kendall_tau"] == pytest.approx(-1.0) and judged["spearman"] == pytest.approx(-1.0)
    assert judged["precision_at_5"] == 0.0


def test_maximize_false_flips_the_sign():
    assert _truth(maximize=False).judge(ARCHS, -ACC)["kendall_tau"] == pytest.approx(1.0)
    assert _truth(maximize=False).judge(ARCHS, ACC)["kendall_tau"] == pytest.approx(-1.0)


def test_missing_cells_are_skipped():
    absent = [Arch.from_code(c) for c in (1, 2, 3)]  # not in the table
    assert all(math.isnan(v) for v in _truth().values(absent))
    judged = _truth().judge(ARCHS + absent, np.concatenate([ACC, [1e9, -1e9, 0.0]]))
    assert judged["n"] == 40 and judged["kendall_tau"] == pytest.approx(1.0)
    scores = ACC.copy()
    scores[:5] = np.nan  # a NaN score is skipped too
    assert _truth().judge(ARCHS, scores)["n"] == 35


def test_fewer_than_three_cells_give_nan():
    judged = _truth().judge(ARCHS[:2], [1.0, 2.0])
    assert judged["n"] == 2 and judged["top_n"] == 0
    assert all(math.isnan(judged[k]) for k in ("kendall_tau", "spearman", "precision_at_5", "top_kendall_tau"))


def test_name_and_length_check():
    assert _truth().name == "true_test_acc"
    with pytest.raises(InvalidInputError, match="3 scores for 40 cells"):
        _truth().judge(ARCHS, [1.0, 2.0, 3.0])


def test_parse_truth(tmp_path):
    path = BenchmarkTable.from_columns(range(len(ARCHS)), ARCHS, {"test_acc": ACC}).to_csv(tmp_path / "t.csv")
    truth = parse_truth(f"table:{path}:test_acc")
    assert truth.column == "test_acc" and truth.values(ARCHS[:2]).tolist() == ACC[:2].tolist()
    assert parse_truth(None) is None


@pytest.mark.parametrize("spec, error, message", [
    ("foo", InvalidInputError, "--truth must be table:CSV:COLUMN"),
    ("table:only", InvalidInputError, "--truth must be table:CSV:COLUMN"),
    ("table:/nonexistent/t.csv:test_acc", DataNotFoundError, "not found"),
    ("table:{csv}:nope", InvalidInputError, "truth column 'nope' is not in"),
])
def test_parse_truth_errors(tmp_path, spec, error, message):
    path = BenchmarkTable.from_columns(range(len(ARCHS)), ARCHS, {"test_acc": ACC}).to_csv(tmp_path / "t.csv")
    with pytest.raises(error, match=message) as info:
        parse_truth(spec.format(csv=path))
    assert isinstance(info.value, GcnasError)


def test_lookup_table_predictions_judged_without_touching_the_table(tmp_path, fitted_gbt, truth_csvs):
    """The lookup table's rows (one per class) are read, then judged; the truth changes nothing."""
    lut = LookupTable.build(tmp_path / "run", fitted_gbt, energy=None)
    archs, predicted = lut.predictions()
    assert len(archs) == 6466 and all(a.canonical() == a for a in archs[:50])
    everyone, _ = lut.predictions(distinct=False)
    assert len(everyone) == 15625
    before = lut.query(top=20)
    real, shuffled = (parse_truth(f"table:{p}:test_acc") for p in truth_csvs)
    judged = real.judge(archs, predicted)
    assert judged["n"] == 6466 and judged["kendall_tau"] > 0.5
    assert abs(shuffled.judge(archs, predicted)["kendall_tau"]) < 0.1
    assert lut.query(top=20) == before and np.array_equal(lut.predictions()[1], predicted)


def test_lookup_table_predictions_need_a_table(tmp_path):
    with pytest.raises(InvalidInputError, match="has no lookup table"):
        LookupTable(tmp_path / "run").predictions()
