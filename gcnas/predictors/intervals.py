"""Conformal intervals from residuals: the arithmetic, apart from any model.

Split-conformal quantiles of out-of-fold residuals (:func:`conformal_quantile`), the interval
of each cell from them (:func:`interval_ends`, measured cells exact) and the CV+ values of
cells that fold models disagree on (:func:`cv_plus_values`). :mod:`gcnas.predictors.conformal`
fits the models that make the residuals; reading a lookup table's bounds
(:mod:`gcnas.predictors.lut_bounds`) needs only this module, numpy and no model library.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError

__all__ = ["check_confidence", "conformal_quantile", "cv_plus_values", "interval_ends"]


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float in ``[0, 1)``; 0 means the point estimate (no margin).

    Raises:
        InvalidInputError: Outside ``[0, 1)``.
    """
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value < 1.0:
        raise InvalidInputError(f"confidence must be in [0, 1) (e.g. 0.9; 0 = the point estimate), got {confidence!r}")
    return value


def conformal_quantile(scores: Sequence[float], confidence: float, *, upper: bool = True) -> float:
    """The split-conformal quantile of calibration residuals.

    Args:
        scores: ``(n,)`` residuals ``truth - prediction`` (log ratios for a log target).
        confidence: In ``[0, 1)``; 0 gives 0 (the point estimate).
        upper: The upper end (``ceil((n + 1) c)``-th smallest) or the lower end
            (``floor((n + 1)(1 - c))``-th smallest; ``-inf`` when that is below the first).

    Returns:
        The residual to add to a prediction.

    Raises:
        InvalidInputError: Too few residuals for ``confidence`` (its upper end needs
            ``(n + 1) c <= n``).
    """
    confidence = check_confidence(confidence)
    if confidence == 0.0:
        return 0.0
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(ordered)
    if upper:
        k = math.ceil((n + 1) * confidence - 1e-9)
        if k > n:
            least = math.ceil(confidence / (1 - confidence) - 1e-9)
            raise InvalidInputError(f"confidence {confidence:g} needs at least {least} "
                                    f"measured rows to calibrate on; this predictor has {n}: measure more cells or "
                                    "lower the confidence")
        return float(ordered[k - 1])
    j = math.floor((n + 1) * (1 - confidence) + 1e-9)
    return float(ordered[j - 1]) if j >= 1 else -math.inf


def cv_plus_values(calibration: Mapping[str, Any], folds: np.ndarray) -> np.ndarray:
    """``(n, m)``: for each of ``n`` cells, the fold model's prediction that did not see
    calibration row ``i`` shifted by that row's residual (in the residuals' scale): the values
    whose order statistics are the CV+ ends (Barber et al., 2021).

    Args:
        calibration: :meth:`ConformalPredictor.calibration` (``residuals``, ``fold``, ``scale``).
        folds: ``(n, folds)`` each fold model's prediction of each cell, in the target's units.
    """
    folds = np.asarray(folds, dtype=np.float64)
    if calibration.get("scale", "log") == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            folds = np.log(folds)
    return folds[:, np.asarray(calibration["fold"], dtype=np.int64)] + np.asarray(calibration["residuals"])[None, :]


def interval_ends(values: np.ndarray, measured: np.ndarray, calibration: Mapping[str, Any] | Sequence[float],
                  confidence: float, scale: str | None = None,
                  folds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of predicted values; measured values keep no width.

    With ``folds`` (each fold model's prediction of each cell) and a calibration that keeps its
    residuals by fold, the ends are CV+'s: order statistics of every fold prediction shifted by
    the residuals of the rows that fold did not see, so a cell on which the fold models
    disagree gets a wider interval. Otherwise ``values`` shifted by the residual quantiles.

    Args:
        values: ``(n,)`` point values (measured or predicted).
        measured: ``(n,)`` truthy where the value is a measurement.
        calibration: :meth:`ConformalPredictor.calibration`, or the residuals alone.
        confidence: In ``[0, 1)``.
        scale: ``"log"`` (residuals are log ratios) or ``"linear"`` (differences); default the
            calibration's (``"log"``).
        folds: ``(n, folds)`` fold predictions (CV+), or None.

    Returns:
        ``(low, high)``, each ``(n,)``; NaN stays NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    measured = np.asarray(measured, dtype=bool)
    cal = dict(calibration) if isinstance(calibration, Mapping) else {"scores": list(calibration)}
    scale = scale or cal.get("scale", "log")
    if scale not in ("log", "linear"):
        raise InvalidInputError(f"calibration scale must be 'log' or 'linear', got {scale!r}")
    if folds is not None and "residuals" in cal and check_confidence(confidence) > 0:
        shifted = np.sort(cv_plus_values({**cal, "scale": scale}, folds), axis=1)
        n = shifted.shape[1]
        conformal_quantile(cal["residuals"], confidence)  # raises when too few rows for this confidence
        k = math.ceil((n + 1) * confidence - 1e-9)
        j = math.floor((n + 1) * (1 - confidence) + 1e-9)
        high = shifted[:, k - 1]
        low = shifted[:, j - 1] if j >= 1 else np.full(len(values), -np.inf)
        if scale == "log":
            high, low = np.exp(high), np.exp(low)
        high, low = np.where(np.isnan(values), np.nan, high), np.where(np.isnan(values), np.nan, low)
        return np.where(measured, values, low), np.where(measured, values, high)
    scores = cal["scores"]
    q_high = conformal_quantile(scores, confidence, upper=True)
    q_low = conformal_quantile(scores, confidence, upper=False)
    if scale == "log":
        high, low = values * math.exp(q_high), values * (math.exp(q_low) if q_low > -math.inf else 0.0)
    else:
        high, low = values + q_high, values + q_low
    return np.where(measured, values, low), np.where(measured, values, high)
