"""Calibrated intervals (cross-conformal) and bounds applied to their upper end."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.exceptions import InfeasibleError, InvalidInputError
from gcnas.predictors import ConformalPredictor, LookupTable, conformal_quantile, interval_ends, load_predictor
from gcnas.spaces.nb201 import NB201Space

FAST = {"n_estimators": 40}


def _truth(archs, seed: int = 0) -> np.ndarray:
    """A latency-like cost: a product of per-op factors with 8% log-normal noise per cell."""
    factor = np.log(np.array([1.0, 1.05, 1.3, 1.8, 1.15]))
    ops = np.array([a.ops for a in archs])
    noise = np.random.default_rng(seed).normal(0, 0.08, len(archs))
    return np.exp(factor[ops].sum(1) + noise)


def test_quantile_is_the_split_conformal_order_statistic():
    scores = np.arange(1, 20, dtype=float)  # n = 19: (n + 1) * 0.9 = 18
    assert conformal_quantile(scores, 0.9) == 18.0
    assert conformal_quantile(scores, 0.9, upper=False) == 2.0  # floor(20 * 0.1) = 2
    assert conformal_quantile(scores, 0.0) == 0.0
    assert conformal_quantile(scores[:5], 0.5, upper=False) == 3.0  # floor(6 * 0.5) = 3rd smallest
    with pytest.raises(InvalidInputError, match="needs at least 19 measured rows"):
        conformal_quantile(scores[:10], 0.95)
    for bad in (1.0, -0.1, "x"):
        with pytest.raises(InvalidInputError, match="confidence must be in"):
            conformal_quantile(scores, bad)


def test_interval_ends_keep_measured_values_exact():
    values = np.array([2.0, 4.0, np.nan])
    low, high = interval_ends(values, np.array([1, 0, 0]), np.log([0.8, 0.9, 1.0, 1.1, 1.25] * 4), 0.9)
    assert low[0] == high[0] == 2.0
    assert high[1] == pytest.approx(5.0) and low[1] == pytest.approx(3.2)
    assert np.isnan(high[2])


def test_cv_plus_widens_cells_the_fold_models_disagree_on():
    calibration = {"residuals": [0.0, 0.05, -0.05, 0.1] * 5, "fold": [0, 1] * 10, "scale": "log",
                   "scores": sorted([0.0, 0.05, -0.05, 0.1] * 5)}
    folds = np.array([[2.0, 2.0], [2.0, 4.0]])  # cell 1: one fold model says twice as slow
    values = np.exp(np.log(folds).mean(1))
    low, high = interval_ends(values, np.zeros(2), calibration, 0.9, folds=folds)
    assert high[0] == pytest.approx(2.0 * math.exp(0.1))
    assert high[1] == pytest.approx(4.0 * math.exp(0.1)) and high[1] > 1.9 * high[0]
    assert low[1] == pytest.approx(2.0 * math.exp(-0.05))


@pytest.mark.parametrize("confidence", [0.8, 0.9])
def test_coverage_on_held_out_cells_over_seeds(confidence):
    space = NB201Space()
    archs = space.all_archs()
    truth = _truth(archs)
    covered = []
    for seed in range(4):
        rows = np.random.default_rng(seed).permutation(len(archs))
        train, test = rows[:150], rows[150:2150]
        model = ConformalPredictor(model="gbt", model_params=FAST, seed=seed).fit(
            [archs[i] for i in train], truth[train])
        _, low, high = model.interval([archs[i] for i in test], confidence)
        assert (low <= high).all()
        covered.append(np.mean(truth[test] <= high))
    # each seed near the confidence, the mean close to it (a point estimate covers about half)
    assert all(abs(c - confidence) < 0.1 for c in covered), covered
    assert abs(np.mean(covered) - confidence) < 0.05, covered


def test_saved_in_the_safe_format_and_reloaded(tmp_path):
    archs = NB201Space().sample_many(40, seed=3)
    model = ConformalPredictor(model="gbt", model_params=FAST, folds=4, seed=1).fit(archs, _truth(archs))
    path = model.save(tmp_path / "dev.pt")
    import torch

    blob = torch.load(path, weights_only=True)  # tensors and plain values only, no pickle
    assert blob["name"] == "conformal" and len(blob["state"]["fold_states_"]) == 4
    again = load_predictor(path)
    others = NB201Space().sample_many(5, seed=9)
    for a, b in zip(model.interval(others, 0.8), again.interval(others, 0.8)):
        np.testing.assert_allclose(a, b)
    assert again.calibration()["scale"] == "log"


def test_fit_refuses_bad_rows():
    archs = NB201Space().sample_many(12, seed=0)
    with pytest.raises(InvalidInputError, match="positive values"):
        ConformalPredictor(model="gbt", model_params=FAST).fit(archs, [0.0] + [1.0] * 11)
    with pytest.raises(InvalidInputError, match="folds need at least 20"):
        ConformalPredictor(model="gbt", model_params=FAST, folds=10).fit(archs, np.ones(12))


# -- the lookup table: bounds on the upper end, measured cells as they are -------------


def _write_lut(store: RunStore, accuracy, latency, measured, scores) -> LookupTable:
    archs = NB201Space().all_archs()[:len(accuracy)]
    store.write_lut(archs, {"accuracy": accuracy, "latency_ms": latency, "latency_measured": measured},
                    meta={"calibration": {"latency_ms": {"scores": list(scores), "scale": "log"}}})
    return LookupTable(store)


SCORES = np.log(np.linspace(0.85, 1.15, 19))  # n = 19: the 0.9 upper end is the 18th, x1.133


def test_bound_applies_to_the_upper_end(tmp_path):
    # cell 0: predicted 7.5 (upper 8.5) ; cell 1: measured 7.9 ; cell 2: predicted 6.0 (upper 6.8)
    table = _write_lut(RunStore(tmp_path / "r"), [95.0, 90.0, 80.0], [7.5, 7.9, 6.0], [0, 1, 0], SCORES)
    point = table.query(max_latency_ms=8.0, confidence=0)
    assert [r["position"] for r in point] == [0, 1, 2]  # today: the point estimate (rows written in code order: position = code)
    rows = table.query(max_latency_ms=8.0, confidence=0.9)
    assert [r["position"] for r in rows] == [1, 2]
    assert rows[0]["latency_ms_high"] == rows[0]["latency_ms_low"] == 7.9  # measured: as it is
    assert rows[1]["latency_ms_high"] == pytest.approx(6.0 * math.exp(SCORES[17]))
    assert rows[1]["latency_ms_low"] < 6.0
    with pytest.raises(InfeasibleError, match="upper end of 0.9 confidence"):
        table.query(max_latency_ms=6.5, confidence=0.9)  # the point 6.0 would pass


def test_pareto_front_trades_accuracy_against_the_upper_end(tmp_path):
    # predicted 5.0 (upper 5.67) at 90 vs measured 5.5 at 85: by the upper end the measured cell is cheaper
    table = _write_lut(RunStore(tmp_path / "r"), [90.0, 85.0, 70.0], [5.0, 5.5, 3.0], [0, 1, 1], SCORES)
    front = table.query(max_latency_ms=8.0, sort="pareto", confidence=0.9)
    assert [r["position"] for r in front] == [2, 1, 0]
    assert [r["position"] for r in table.query(max_latency_ms=8.0, sort="pareto", confidence=0)] == [2, 0]


def test_uncalibrated_predicted_latency_needs_confidence_zero(tmp_path):
    store = RunStore(tmp_path / "r")
    archs = NB201Space().all_archs()[:2]
    store.write_lut(archs, {"accuracy": [1.0, 2.0], "latency_ms": [1.0, 2.0], "latency_measured": [0, 1]}, meta={})
    with pytest.raises(InvalidInputError, match="without calibrated intervals"):
        LookupTable(store).query(max_latency_ms=3)
    assert len(LookupTable(store).query(max_latency_ms=3, confidence=0)) == 2


def test_measure_next_lists_picks_and_straddling_cells(tmp_path):
    accuracy = [99.0, 98.0, 97.0, 96.0, 95.0, 94.0]
    latency = [9.5, 7.5, 7.8, 6.0, 5.0, 4.0]  # 9.5: low 8.1 > 8, cannot be within
    measured = [0, 0, 1, 0, 0, 0]
    table = _write_lut(RunStore(tmp_path / "r"), accuracy, latency, measured, SCORES)
    picks = table.query(max_latency_ms=8.0, top=2, confidence=0.9)
    assert [r["position"] for r in picks] == [2, 3]  # cell 1 (upper 8.5) is left out, cell 2 measured
    following = table.measure_next(max_latency_ms=8.0, top=2, num=5, confidence=0.9)
    # cell 1 straddles the bound (7.5: low 6.4, high 8.5) and is more accurate than the 2nd pick;
    # cell 3 is an unmeasured pick; cell 0 cannot meet it, cell 2 is measured, 4 and 5 rank below
    assert [(r["position"], r["reason"]) for r in following] == [(1, "may enter"), (3, "pick")]
    with pytest.raises(InvalidInputError, match="confidence in"):
        table.measure_next(max_latency_ms=8.0, confidence=0)


def test_fdr_selection_distrusts_borderline_cells_after_many_more_accurate_misses(tmp_path):
    """The winner's curse: 40 more accurate cells are clearly over the bound; 10 cells whose own
    upper end just meets it (each: a 10% chance to break it) are then likely the misses of a
    long search. ``each`` admits them, ``fdr`` (Benjamini-Hochberg over the 50 predicted cells
    competing for the top) does not, and picks the measured cell below them."""
    n = 51
    accuracy = np.arange(n, 0, -1, dtype=float)           # cell 0 most accurate
    latency = np.array([20.0] * 40 + [6.99] * 10 + [7.0])  # 6.99: upper end 7.92 <= 8
    measured = np.array([0] * 50 + [1])
    table = _write_lut(RunStore(tmp_path / "r"), accuracy, latency, measured, SCORES)
    each = table.query(max_latency_ms=8.0, top=5, distinct=False, selection="each")
    assert [r["position"] for r in each] == [40, 41, 42, 43, 44]
    assert all(r["latency_ms_p_over"] == pytest.approx(0.1) for r in each)
    fdr = table.query(max_latency_ms=8.0, top=5, distinct=False, selection="fdr")
    assert [r["position"] for r in fdr] == [50]
    # with only the borderline cells competing, they pass: 10 tests at p = 0.1 each
    table = _write_lut(RunStore(tmp_path / "s"), accuracy[40:], latency[40:], measured[40:], SCORES)
    assert len(table.query(max_latency_ms=8.0, top=5, distinct=False)) == 5


def test_rounds_of_measure_next_improve_the_picks_and_keep_them_within():
    """Measure what measure-next lists, refit, repeat: the picks stay truly within the bound and
    the best of them climbs towards the best cell that truly meets it."""
    import tempfile

    archs = NB201Space().all_archs()
    truth = _truth(archs, seed=5)
    accuracy = np.log(truth) * 3 + np.random.default_rng(2).normal(0, 1.0, len(archs))  # slower: better
    bound = float(np.quantile(truth, 0.1))
    best_feasible = accuracy[truth <= bound].max()
    known = set(np.random.default_rng(4).choice(len(archs), 150, replace=False).tolist())
    gaps = []
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(folder)
        for _ in range(4):
            codes = sorted(known)
            model = ConformalPredictor(model="gbt", model_params=FAST, seed=0).fit(
                [archs[c] for c in codes], truth[codes])
            latency = model.predict(archs)
            flag = np.zeros(len(archs))
            latency[codes], flag[codes] = truth[codes], 1.0
            store.write_lut(archs, {"accuracy": accuracy, "latency_ms": latency, "latency_measured": flag},
                            meta={"calibration": {"latency_ms": model.calibration()}})
            picks = LookupTable(store).query(max_latency_ms=bound, distinct=False)
            assert len(picks) == 10 and all(truth[r["position"]] <= bound for r in picks)
            gaps.append(best_feasible - picks[0]["accuracy"])
            following = LookupTable(store).measure_next(max_latency_ms=bound, num=10, distinct=False)
            assert following and all(r["latency_ms_low"] <= bound and r["latency_measured"] == 0 for r in following)
            assert [r["gain"] for r in following] == sorted((r["gain"] for r in following), reverse=True)
            known |= {r["position"] for r in following}
    assert all(b <= a for a, b in zip(gaps, gaps[1:])) and gaps[-1] < gaps[0], gaps
