"""Ranking metrics for performance predictors.

What a search needs from a predictor is the *order* of architectures, so these
compare rankings: Kendall tau and Spearman over everything, Kendall tau within the
true top 10%, and the precision of the predicted top-k% among the true top-k%.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

from gcnas.exceptions import InvalidInputError

__all__ = ["kendall_tau", "spearman", "precision_at_k", "top_kendall_tau", "ranking_report"]


def _pair(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if len(a) != len(b):
        raise InvalidInputError(f"ranking metrics need two arrays of equal length, got {len(a)} and {len(b)}")
    if len(a) < 2:
        raise InvalidInputError(f"ranking metrics need at least 2 values, got {len(a)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise InvalidInputError("ranking metrics got NaN or infinite values; drop them first")
    return a, b


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall tau-b between two score vectors (1 = same order, -1 = reversed).

    Example:
        >>> kendall_tau([1, 2, 3], [10, 30, 20])
        0.333...
    """
    a, b = _pair(a, b)
    return float(np.nan_to_num(stats.kendalltau(a, b).statistic))


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation between two score vectors."""
    a, b = _pair(a, b)
    return float(np.nan_to_num(stats.spearmanr(a, b).statistic))


def precision_at_k(y_true: Sequence[float], y_pred: Sequence[float], fraction: float = 0.1) -> float:
    """Share of the predicted top ``fraction`` that is in the true top ``fraction``.

    Args:
        y_true: True scores (higher is better).
        y_pred: Predicted scores.
        fraction: ``k`` as a share of the set, in ``(0, 1]``.

    Returns:
        A float in ``[0, 1]``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if not 0 < fraction <= 1:
        raise InvalidInputError(f"fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * len(y_true))))
    true_top = set(np.argsort(-y_true, kind="stable")[:k].tolist())
    pred_top = np.argsort(-y_pred, kind="stable")[:k]
    return float(np.mean([i in true_top for i in pred_top]))


def top_kendall_tau(y_true: Sequence[float], y_pred: Sequence[float], fraction: float = 0.1) -> float:
    """Kendall tau restricted to the true top ``fraction`` of the set."""
    y_true, y_pred = _pair(y_true, y_pred)
    k = max(2, int(round(fraction * len(y_true))))
    top = np.argsort(-y_true, kind="stable")[:k]
    return kendall_tau(y_true[top], y_pred[top])


def ranking_report(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float]:
    """Every ranking metric at once.

    Returns:
        ``{"n", "kendall_tau", "spearman", "precision_at_1", "precision_at_5",
        "precision_at_10", "top10_kendall_tau"}`` (precision in percent-of-set terms:
        ``precision_at_5`` is the predicted top 5% among the true top 5%).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return {
        "n": int(len(y_true)),
        "kendall_tau": kendall_tau(y_true, y_pred),
        "spearman": spearman(y_true, y_pred),
        "precision_at_1": precision_at_k(y_true, y_pred, 0.01),
        "precision_at_5": precision_at_k(y_true, y_pred, 0.05),
        "precision_at_10": precision_at_k(y_true, y_pred, 0.10),
        "top10_kendall_tau": top_kendall_tau(y_true, y_pred, 0.10),
    }
