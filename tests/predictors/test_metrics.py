from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from gcnas.exceptions import InvalidInputError
from gcnas.predictors import kendall_tau, precision_at_k, ranking_report, spearman, top_kendall_tau


def test_kendall_and_spearman_match_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    assert kendall_tau(a, b) == pytest.approx(stats.kendalltau(a, b).statistic)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert kendall_tau([1, 2, 3], [10, 30, 20]) == pytest.approx(1 / 3)
    assert kendall_tau(a, -a) == pytest.approx(-1)


def test_precision_at_k():
    y = np.arange(100.0)
    assert precision_at_k(y, y, 0.1) == 1.0
    assert precision_at_k(y, -y, 0.1) == 0.0
    pred = y.copy()
    pred[[99, 0]] = pred[[0, 99]]  # the best one predicted worst, the worst predicted best
    assert precision_at_k(y, pred, 0.1) == pytest.approx(0.9)


def test_top_kendall_only_looks_at_true_top():
    y = np.arange(100.0)
    pred = y.copy()
    pred[:90] = pred[:90][::-1]  # scramble the bottom 90%: the top 10% stays in order
    assert top_kendall_tau(y, pred, 0.1) == pytest.approx(1.0)
    assert kendall_tau(y, pred) < 0


def test_report_keys():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    report = ranking_report(y, y + rng.normal(scale=0.1, size=200))
    assert set(report) == {"n", "kendall_tau", "spearman", "precision_at_1", "precision_at_5",
                           "precision_at_10", "top10_kendall_tau"}
    assert report["n"] == 200 and 0.8 < report["kendall_tau"] <= 1


@pytest.mark.parametrize("a, b, message", [
    ([1, 2], [1, 2, 3], "equal length"),
    ([1], [1], "at least 2"),
    ([1, np.nan], [1, 2], "NaN"),
])
def test_bad_input(a, b, message):
    with pytest.raises(InvalidInputError, match=message):
        kendall_tau(a, b)


def test_bad_fraction():
    with pytest.raises(InvalidInputError, match="fraction"):
        precision_at_k([1, 2, 3], [1, 2, 3], 0)
