"""The fused ranking: equal weights without anchors, weights that follow the anchors, a guard
against parameter-free cells, and nested anchors that cover the ranking."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError, NotFittedError
from gcnas.predictors import kendall_tau
from gcnas.predictors.fused import FusedRanking, anchor_cells, is_parameter_free, quantiles
from gcnas.spaces.nb201 import Arch


def _signals(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n)
    return truth, {"good": truth + 0.5 * rng.normal(size=n), "noise": rng.normal(size=n),
                   "weak": truth + 2.0 * rng.normal(size=n)}


def test_quantiles_are_scale_free_and_rank_undefined_scores_last():
    q = quantiles(np.array([3.0, -np.inf, 1e9, np.nan, 3.0]))
    assert q[1] == q[3] < q[0] == q[4] < q[2] and (0 < q).all() and (q < 1).all()
    np.testing.assert_allclose(quantiles(np.array([1.0, 2.0, 3.0])), quantiles(np.array([-5.0, 0.0, 1e6])))


def test_without_anchors_the_fusion_is_a_plain_rank_average():
    _, signals = _signals()
    fused = FusedRanking().fit(signals)
    assert fused.weights() == pytest.approx({name: 1 / 3 for name in signals})
    expected = np.mean([quantiles(v) for v in signals.values()], axis=0)
    np.testing.assert_allclose(fused.predict(), expected)
    with pytest.raises(NotFittedError, match="at least two anchors"):
        fused.predict_accuracy()


def test_anchors_move_the_weights_to_the_signal_that_predicts_them():
    truth, signals = _signals()
    positions = anchor_cells(signals["good"], 40)
    fused = FusedRanking().fit(signals, {p: 90 + truth[p] for p in positions})
    w = fused.weights()
    assert w["good"] > 0.5 and w["good"] > max(w["weak"], w["noise"]) and w["noise"] < 1 / 3
    assert kendall_tau(truth, fused.predict()) > kendall_tau(truth, FusedRanking().fit(signals).predict())
    accuracy = fused.predict_accuracy()  # on the anchors' scale
    assert abs(np.mean(accuracy[positions]) - np.mean(90 + truth[positions])) < 0.1


def test_few_anchors_keep_equal_weights_and_a_strong_pull_keeps_them_near_equal():
    truth, signals = _signals()
    few = FusedRanking(min_anchors=5).fit(signals, {0: 1.0, 1: 2.0, 2: 3.0})
    assert few.shrinkage_ == np.inf and few.weights() == pytest.approx({n: 1 / 3 for n in signals})
    positions = anchor_cells(signals["good"], 20)
    pulled = FusedRanking(shrinkage=1e6).fit(signals, {p: truth[p] for p in positions})
    assert pulled.weights() == pytest.approx({n: 1 / 3 for n in signals}, abs=1e-3)


def test_bad_input_is_refused():
    _, signals = _signals(10)
    with pytest.raises(InvalidInputError, match="same cells"):
        FusedRanking().fit({"a": np.zeros(3), "b": np.zeros(4)})
    with pytest.raises(InvalidInputError, match="outside the 10 candidate cells"):
        FusedRanking().fit(signals, {12: 1.0})
    with pytest.raises(InvalidInputError, match="finite"):
        FusedRanking().fit(signals, {i: float("nan") for i in range(6)})
    with pytest.raises(NotFittedError):
        FusedRanking().predict()


def test_anchor_cells_are_nested_evenly_spread_quantiles():
    score = np.arange(100.0)
    chosen = anchor_cells(score, 8)
    assert len(set(chosen)) == 8
    assert sorted(chosen) == [6, 18, 31, 43, 56, 68, 81, 93]  # the middle of each eighth
    first_half = sorted(chosen[:4])
    assert [score[p] // 25 for p in first_half] == [0, 1, 2, 3]  # the first half covers every quarter
    guard = np.zeros(100, dtype=bool)
    guard[50:] = True
    assert all(p < 50 for p in anchor_cells(score, 5, exclude=guard))
    with pytest.raises(InvalidInputError, match="cannot choose 60 anchors from 50"):
        anchor_cells(score, 60, exclude=guard)


def test_the_collapse_guard_marks_cells_without_a_live_convolution():
    conv, skip, pool, dead = Arch((3,) * 6), Arch((1,) * 6), Arch((4,) * 6), Arch((0,) * 6)
    # a convolution on a dead branch (node 1 never reaches the output) does not count
    dead_conv = Arch((3, 0, 0, 0, 0, 1))
    one_conv = Arch((0, 0, 0, 2, 0, 0))  # a 1x1 convolution straight from input to output
    assert is_parameter_free([conv, skip, pool, dead, dead_conv, one_conv]).tolist() == [
        False, True, True, True, True, False]
