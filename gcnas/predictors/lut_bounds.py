"""Bounds at a stated confidence on the lookup table's predicted costs, and what to measure next.

A lookup table built from a calibrated cost predictor (``gcnas lut build --latency
predictor:NAME``, a :class:`~gcnas.predictors.ConformalPredictor`) keeps per cell the
measured or predicted value (``latency_ms``), whether it was measured (``latency_measured``)
and, in its description, the predictor's calibration residuals. A bound is applied to the
upper end of each cell at the confidence asked (measured cells: their value), so the picks
are within the bound with that probability each, not only in expectation of the predictor.

:func:`measure_next` lists the cells whose measurement would change the answer most: of the
unmeasured cells at least as accurate as the last of the top picks whose interval reaches
below the bound (the picks themselves, which a measurement may remove, and the cells left
out, which a measurement may admit), by the expected accuracy at stake: the chance the
measurement changes the answer times the cell's accuracy above the last pick's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.predictors.intervals import check_confidence, cv_plus_values, interval_ends

if TYPE_CHECKING:
    from gcnas.predictors.lut import LookupTable

__all__ = ["MEASURED_FLAGS", "SELECTIONS", "calibrated_bounds", "confident_rows", "measure_next", "picks_summary",
           "upper_ends"]

MEASURED_FLAGS: dict[str, str] = {"latency_ms": "latency_measured", "energy_mj": "energy_measured"}
"""Cost column -> the lookup-table column that says per cell whether it was measured (1) or predicted (0)."""

SELECTIONS = ("fdr", "each")
"""How predicted cells are admitted under a bound at confidence ``c``: ``fdr``, the expected share of
predicted picks over the bound is at most ``1 - c`` (Benjamini-Hochberg on conformal p-values,
Jin & Candes 2023); ``each``, every predicted pick's own upper end meets the bound."""


def calibrated_bounds(table: LookupTable, maxima: Mapping[str, float], confidence: float) -> dict[str, dict]:
    """The bounded columns that hold predicted cells, with their calibration.

    Args:
        table: The lookup table.
        maxima: Column -> upper bound.
        confidence: In ``[0, 1)``; 0 returns ``{}`` (point estimates).

    Returns:
        ``{column: {"scores": [...], "scale": "log"|"linear"}}`` for each bounded column
        with predicted cells.

    Raises:
        InvalidInputError: A bounded column holds predicted cells without a calibration (a
            predictor fitted by an older gcnas): refit it, or ask for confidence 0.
    """
    if check_confidence(confidence) == 0.0:
        return {}
    columns = table.columns
    calibration = (table.store.lut_meta().get("calibration") or {})
    found = {}
    for column in maxima:
        flag = MEASURED_FLAGS.get(column)
        # a cell without a value (a partial table's) is no prediction
        if flag not in columns or table.store.lut_min(flag, maxima={column: math.inf}) in (None, 1.0):
            continue  # no predicted cell: every value is a measurement
        if column not in calibration:
            raise InvalidInputError(
                f"the lookup table's {column} is predicted for some cells by a predictor without calibrated "
                f"intervals, so a bound cannot be applied at confidence {confidence:g}; refit it with `gcnas "
                "predictor fit --target latency --name NAME ...` and rebuild with `gcnas lut build`, or pass "
                "--confidence 0 (confidence=0) for the point estimate")
        found[column] = calibration[column]
    return found


def upper_ends(table: LookupTable, archs: list, column: str, values: np.ndarray, confidence: float) -> np.ndarray:
    """The upper ends of ``values`` (the table's ``column`` for ``archs``) at ``confidence``.

    Args:
        table: The lookup table.
        archs: The cells.
        column: A cost column.
        values: ``(n,)`` its values for ``archs``.
        confidence: In ``[0, 1)``.

    Returns:
        ``(n,)``: ``values`` where measured (or where the column holds no predicted cell, or
        at confidence 0), the calibrated upper end elsewhere (CV+ where the table keeps the
        fold predictions).
    """
    calibrated = calibrated_bounds(table, {column: math.inf}, confidence)
    if not calibrated:
        return np.asarray(values, dtype=np.float64)
    cal = calibrated[column]
    measured = table.store.lut_values(archs, MEASURED_FLAGS[column]) == 1
    names = _fold_columns(column, cal, table.columns)
    folds = np.stack([table.store.lut_values(archs, n) for n in names], axis=1) if names else None
    return interval_ends(values, measured, cal, confidence, folds=folds)[1]


def _fold_columns(column: str, cal: Mapping[str, Any], have: list[str]) -> list[str]:
    """The table's columns of each fold model's prediction of ``column`` (empty when not kept)."""
    names = [f"{column}_fold{k}" for k in range(int(cal.get("folds") or 0))]
    return names if names and "residuals" in cal and all(n in have for n in names) else []


def _annotate(rows: list[dict[str, Any]], calibrated: Mapping[str, dict], confidence: float,
              maxima: Mapping[str, float]) -> None:
    """Add to every row, per calibrated column: ``{column}_low`` / ``_high`` (the ends at
    ``confidence``; measured cells: their value) and ``{column}_p_within`` / ``_p_over`` (the
    chance it meets the bound, and the conformal p-value that it breaks it)."""
    if not rows:
        return
    for column, cal in calibrated.items():
        values = np.array([np.nan if r[column] is None else r[column] for r in rows], dtype=np.float64)
        measured = np.array([bool(r.get(MEASURED_FLAGS[column])) for r in rows])
        names = _fold_columns(column, cal, list(rows[0]))
        folds = np.array([[r[n] if r[n] is not None else np.nan for n in names] for r in rows]) if names else None
        low, high = interval_ends(values, measured, cal, confidence, folds=folds)
        within, over = _chances(values, measured, cal, folds, maxima[column])
        for i, row in enumerate(rows):
            row[f"{column}_low"], row[f"{column}_high"] = float(low[i]), float(high[i])
            row[f"{column}_p_within"], row[f"{column}_p_over"] = float(within[i]), float(over[i])


def _chances(values: np.ndarray, measured: np.ndarray, cal: Mapping[str, Any], folds: np.ndarray | None,
             bound: float) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: the share of the ``n`` calibration values (out of ``n + 1``) that keep it within
    ``bound``, and the conformal p-value ``(1 + #values over the bound) / (n + 1)`` of the
    hypothesis that it breaks the bound (measured cells: 1/0 by their value)."""
    log = cal.get("scale", "log") == "log"
    if folds is not None:
        shifted = cv_plus_values(cal, folds)
    else:
        scores = np.asarray(cal["scores"], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            base = np.log(values) if log else values
        shifted = base[:, None] + scores[None, :]
    limit = (math.log(bound) if bound > 0 else -math.inf) if log else bound
    n = shifted.shape[1]
    within = (shifted <= limit).sum(1) / (n + 1)
    over = (1 + (shifted > limit).sum(1)) / (n + 1)
    inside = values <= bound
    return np.where(measured, inside * 1.0, within), np.where(measured, 1.0 - inside, over)


def _rank(rows: list[dict[str, Any]], distinct: bool) -> list[dict[str, Any]]:
    rows = sorted(rows, key=lambda r: (-r["accuracy"], r["position"]))
    if not distinct:
        return rows
    seen: set[int] = set()
    return [r for r in rows if r["canonical"] not in seen and not seen.add(r["canonical"])]


def _ranked_rows(table: LookupTable, maxima: Mapping[str, float], calibrated: Mapping[str, dict],
                 confidence: float, enough: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Rows meeting the plain (uncalibrated) bounds, annotated, best accuracy first: read through
    the accuracy index in growing chunks until ``enough(rows)`` or the table ends."""
    plain = {c: b for c, b in maxima.items() if c not in calibrated}
    limit = 256
    while True:
        rows = table.store.ranked_lut("accuracy", maxima=plain, limit=limit)
        _annotate(rows, calibrated, confidence, maxima)
        if len(rows) < limit or enough(rows):
            return rows
        limit *= 4


def _accepted(rows: list[dict[str, Any]], maxima: Mapping[str, float], calibrated: Mapping[str, dict],
              confidence: float, selection: str) -> list[dict[str, Any]]:
    """The rows (ranked) admitted under the calibrated bounds: measured within, and predicted
    cells whose upper end meets them (``each``) or that Benjamini-Hochberg selects over the
    predicted cells of ``rows`` at level ``1 - confidence`` (``fdr``)."""
    def measured_within(row: dict[str, Any]) -> bool | None:
        if all(row.get(MEASURED_FLAGS[c]) for c in calibrated):
            return all(row[f"{c}_p_within"] == 1.0 for c in calibrated)
        return None

    if selection == "each":
        return [r for r in rows if (measured_within(r) if measured_within(r) is not None
                                    else all(r[f"{c}_high"] <= maxima[c] for c in calibrated))]
    predicted = [r for r in rows if measured_within(r) is None]
    # a cell breaks some bound with chance at most the sum of its p-values (one per bounded column)
    p = np.array([min(1.0, sum(r[f"{c}_p_over"] for c in calibrated)) for r in predicted])
    chosen: set[int] = set()
    if len(p):
        ordered = np.sort(p)
        passed = np.flatnonzero(ordered <= (1 - confidence) * np.arange(1, len(p) + 1) / len(p) + 1e-12)
        if len(passed):
            cut = ordered[passed[-1]]
            chosen = {r["position"] for r, value in zip(predicted, p) if value <= cut}
    return [r for r in rows if (measured_within(r) if measured_within(r) is not None else r["position"] in chosen)]


def _select(table: LookupTable, maxima: Mapping[str, float], calibrated: Mapping[str, dict], confidence: float,
            top: int | None, distinct: bool, selection: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(picks, scanned)``: the top picks and the ranked rows they were chosen from.

    ``fdr`` tests the predicted cells of the shortest prefix of the accuracy ranking (lengths
    growing by a quarter) in which it admits ``top`` cells, so the hypotheses are the cells
    that compete for the top, not the whole table.
    """
    if selection not in SELECTIONS:
        raise InvalidInputError(f"selection must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    want = math.inf if top is None else top

    def picks_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return _rank(_accepted(rows, maxima, calibrated, confidence, selection), distinct)

    rows = _ranked_rows(table, maxima, calibrated, confidence, lambda rows: len(picks_of(rows)) >= want)
    rows = _rank(rows, False)
    if selection == "each" or top is None:
        return picks_of(rows)[:top], rows
    length = min(len(rows), max(top, 10))
    while True:
        prefix = rows[:length]
        picks = picks_of(prefix)
        if len(picks) >= top or length == len(rows):
            return picks[:top], prefix
        length = min(len(rows), max(length + 1, int(length * 1.25)))


def confident_rows(table: LookupTable, maxima: Mapping[str, float], confidence: float, *, sort: str = "accuracy",
                   pareto_cost: str = "latency_ms", top: int | None = 10, distinct: bool = True,
                   selection: str = "fdr") -> list[dict[str, Any]]:
    """The best rows under bounds on predicted costs at ``confidence`` (what :meth:`LookupTable.query` answers).

    Args:
        table: The lookup table.
        maxima: Column -> upper bound.
        confidence: In ``(0, 1)``.
        sort: ``"accuracy"`` or ``"pareto"`` (the front of accuracy against ``pareto_cost``,
            cheapest first, over the cells whose upper end meets the bounds; its upper end
            when that column is calibrated).
        pareto_cost: Cost column of the front.
        top: Most rows (``None`` = all).
        distinct: One row per isomorphism class (its best-ranked member admitted).
        selection: ``"fdr"`` (default): the predicted picks are chosen by Benjamini-Hochberg
            over the predicted cells competing for the top, so that the expected share of
            predicted picks that break a bound is at most ``1 - confidence``; ``"each"``: each
            predicted pick's own upper end meets the bounds (it breaks a bound with chance at
            most ``1 - confidence`` on its own; picked among many, more often).

    Returns:
        Rows as dicts with ``{column}_low`` / ``_high`` / ``_p_within`` / ``_p_over`` for each
        calibrated column.
    """
    from gcnas.predictors.lut import _thin

    calibrated = calibrated_bounds(table, maxima, confidence)
    if sort == "accuracy":
        return _select(table, maxima, calibrated, confidence, top, distinct, selection)[0]
    rows = _ranked_rows(table, maxima, calibrated, confidence, lambda rows: False)
    rows = _accepted(rows, maxima, calibrated, confidence, "each")
    key = f"{pareto_cost}_high" if pareto_cost in calibrated else pareto_cost
    rows = [r for r in rows if r.get(key) is not None]
    front, best = [], -math.inf
    for row in sorted(rows, key=lambda r: (r[key], -r["accuracy"], r["position"])):
        if row["accuracy"] > best:
            front.append(row)
            best = row["accuracy"]
    return _thin(front, top)


def picks_summary(rows: list[dict[str, Any]], column: str = "latency_ms") -> dict[str, Any] | None:
    """How many rows are measured in ``column``, and the range of the others' intervals.

    Args:
        rows: Query rows (with ``{column}_low`` / ``_high`` where calibrated).
        column: The cost column.

    Returns:
        ``{"column", "rows", "measured", "predicted", "low", "high"}`` (``low``/``high``: the
        smallest lower end and largest upper end of the predicted rows, ``None`` if none), or
        ``None`` when the rows carry no measured flag for ``column``.
    """
    flag = MEASURED_FLAGS.get(column)
    if not rows or flag not in rows[0]:
        return None
    predicted = [r for r in rows if not r.get(flag)]
    lows = [r.get(f"{column}_low", r[column]) for r in predicted if r[column] is not None]
    highs = [r.get(f"{column}_high", r[column]) for r in predicted if r[column] is not None]
    return {"column": column, "rows": len(rows), "measured": len(rows) - len(predicted), "predicted": len(predicted),
            "low": min(lows) if lows else None, "high": max(highs) if highs else None}


def measure_next(table: LookupTable, maxima: Mapping[str, float], *, confidence: float = 0.9, top: int = 10,
                 num: int = 10, distinct: bool = True, selection: str = "fdr") -> list[dict[str, Any]]:
    """The unmeasured cells whose measurement would change the top-``top`` answer most.

    Candidates are the unmeasured cells (in a bounded, calibrated column) whose lower end meets
    every bound, so they may be within it, and whose predicted accuracy is at least that of the
    ``top``-th pick: a current pick (a measurement confirms it or removes it) or a cell left out
    because its upper end breaks a bound (a measurement may admit it). They are listed by
    ``gain``, the expected accuracy at stake: ``p_change``, the chance the measurement changes
    the answer (``p_within``, the share of calibration values that put the cell within every
    calibrated bound: a pick changes with ``1 - p_within``, another cell with ``p_within``),
    times its accuracy above the last pick's. Measure them on the device, add the rows to the
    measurements, refit the predictor, rebuild the table, query again; repeat until nothing is
    listed or the picks stay put.

    Args:
        table: The lookup table.
        maxima: Column -> upper bound (at least one on a calibrated, partly predicted column).
        confidence: In ``(0, 1)``.
        top: Picks the answer is about.
        num: Most cells listed.
        distinct: One cell per isomorphism class.
        selection: How the current picks are chosen (see :func:`confident_rows`).

    Returns:
        Rows as dicts (``rank``, ``position``, ``arch``, ``accuracy``, the bounded columns with
        ``_low``/``_high``, ``p_within``, ``p_change``, ``gain`` and ``reason``: ``"pick"`` or
        ``"may enter"``).

    Raises:
        InvalidInputError: No bounded column holds predicted cells with a calibration, or
            ``top``/``num`` below 1.
    """
    if top < 1 or num < 1:
        raise InvalidInputError(f"top and num must be positive, got top={top}, num={num}")
    confidence = check_confidence(confidence)
    if confidence == 0.0:
        raise InvalidInputError("measure-next needs a confidence in (0, 1) (e.g. 0.9): at confidence 0 every "
                                "predicted value counts as exact, so no measurement would change the answer")
    calibrated = calibrated_bounds(table, maxima, confidence)
    if not calibrated:
        raise InvalidInputError(f"no bounded column ({', '.join(maxima) or 'none given'}) holds predicted cells with "
                                "calibrated intervals: every value is measured, nothing to measure next. Bound a "
                                "predicted cost, e.g. --max-latency-ms X on a table built with --latency "
                                "predictor:NAME")
    picks, _ = _select(table, maxima, calibrated, confidence, top, distinct, selection)
    threshold = picks[-1]["accuracy"] if len(picks) >= top else -math.inf
    chosen = {r["position"] for r in picks}
    # every cell at least as accurate as the last pick: read until the accuracy drops below it
    rows = _ranked_rows(table, maxima, calibrated, confidence,
                        lambda rows: bool(rows) and rows[-1]["accuracy"] < threshold)
    out = []
    for row in _rank(rows, distinct):
        if row["accuracy"] < threshold:
            break
        if all(row.get(MEASURED_FLAGS[c]) for c in calibrated):
            continue  # measured: nothing left to learn
        if not all(row[f"{c}_low"] <= maxima[c] for c in calibrated):
            continue  # over the bound even at its lower end
        p_within = float(np.prod([row[f"{c}_p_within"] for c in calibrated]))
        pick = row["position"] in chosen
        out.append({**row, "p_within": p_within, "p_change": 1.0 - p_within if pick else p_within,
                    "reason": "pick" if pick else "may enter"})
    floor = threshold if math.isfinite(threshold) else min((r["accuracy"] for r in out), default=0.0)
    for row in out:  # the accuracy at stake, weighted by the chance the measurement changes the answer
        row["gain"] = row["p_change"] * (row["accuracy"] - floor + 1e-9)
    out.sort(key=lambda r: (-r["gain"], -r["accuracy"], r["position"]))
    return [{"rank": i, **row} for i, row in enumerate(out[:num], start=1)]
