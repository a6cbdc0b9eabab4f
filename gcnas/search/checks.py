"""Checked values: the range a known metric may take, table rows without a value, and the
notices of a search.

A value is checked once, where it enters a search: a table column when its
:class:`~gcnas.search.TableObjective` is built (every row at once, before any trial), a user
objective's value (a :class:`~gcnas.search.CallableObjective`, a value told to a
:class:`~gcnas.search.Study`) each time it is returned. It must be finite, and inside the range
of its metric when the objective's name (or, failing that, its table column) is a known one:

=================================================================  ==============
name                                                               accepted
=================================================================  ==============
``accuracy``, ``acc``; ``train``/``valid``/``val``/``test``/``eval``  [0, 100]
followed by ``_acc`` or ``_accuracy`` (``valid_acc``); each also
with a ``true_`` prefix (a ``--truth`` column)
``latency``, ``energy``, ``params``, ``flops``, alone or with a       > 0
unit suffix (``latency_ms``, ``energy_mj``, ``params_m``, ``flops_m``)
any other name                                                     any finite value
=================================================================  ==============

``value_range=(low, high)`` on an objective (the CLI's ``--allow-range NAME:LOW:HIGH``)
accepts another range, bounds included. An empty table cell (or ``nan``) is no value, not a
bad one: the row is left out of the search, and counted (:func:`rows_left_out`).
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError, Notice

if TYPE_CHECKING:
    from gcnas.search.objectives import Constraint, Objective

__all__ = ["ValueRange", "SearchNotice", "LeftOut", "metric_range", "allowed_range", "value_problem",
           "check_column", "rows_left_out", "notify", "notices_to_stderr"]


@dataclass(frozen=True)
class ValueRange:
    """The values a metric may take: ``low <= v <= high`` (``low < v`` when ``low_open``).

    Args:
        low: Lower bound (``-inf``: none).
        high: Upper bound (``inf``: none).
        low_open: Exclude ``low`` itself (a cost must be > 0).
        what: What the range belongs to, for messages (``an accuracy``).
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    what: str = ""

    def holds(self, values: np.ndarray) -> np.ndarray:
        """``(n,)`` whether each finite value is inside the range (non-finite: False)."""
        values = np.asarray(values, dtype=np.float64)
        above = values > self.low if self.low_open else values >= self.low
        return np.isfinite(values) & above & (values <= self.high)

    def __str__(self) -> str:
        if math.isinf(self.low) and math.isinf(self.high):
            return "any finite value"
        if math.isinf(self.high):
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if math.isinf(self.low):
            return f"<= {self.high:g}"
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"


ACCURACY = ValueRange(0.0, 100.0, what="the range of an accuracy")
COST = ValueRange(0.0, math.inf, low_open=True, what="the range of a cost")
ANY_FINITE = ValueRange()

_ACCURACY_NAME = re.compile(r"^(?:true_)?(?:(?:train|valid|val|test|eval)[_-])?acc(?:uracy)?$")
_COST_NAME = re.compile(r"^(?:latency|energy|params|flops)(?:_[a-z]+)?$")


def metric_range(*names: str | None) -> ValueRange:
    """The range of the first known metric among ``names`` (an objective's name, then its column).

    Example:
        >>> str(metric_range("accuracy")), str(metric_range("pixel3", "latency_ms")), str(metric_range("loss"))
        ('[0, 100]', '> 0', 'any finite value')
    """
    for name in names:
        if not name:
            continue
        if _ACCURACY_NAME.match(name.lower()):
            return ACCURACY
        if _COST_NAME.match(name.lower()):
            return COST
    return ANY_FINITE


def allowed_range(objective: Objective) -> ValueRange:
    """The values ``objective`` accepts: its ``value_range``, else the range of its metric."""
    if objective.value_range is not None:
        low, high = objective.value_range
        return ValueRange(low, high, what="its value_range")
    return metric_range(objective.name, getattr(objective, "column", None))


def value_problem(objective: Objective, value: float) -> str | None:
    """What is wrong with one value an objective returned (``None``: nothing).

    Every objective's value must be finite; a user objective's (``Objective.user_values``)
    or one with a ``value_range`` must also lie in :func:`allowed_range`.
    """
    if not math.isfinite(value):
        return f"{objective.name} returned {value}"
    if not (objective.user_values or objective.value_range is not None):
        return None
    accepted = allowed_range(objective)
    if accepted.holds(np.array([value]))[0]:
        return None
    return (f"{objective.name} returned {value:g}, outside {accepted} ({accepted.what}); fix the objective, "
            f"or accept other values with value_range=(low, high)")


def check_column(objective: Objective, table: Any, column: str) -> None:
    """Refuse a table column with a value that is not finite or out of the objective's range.

    Args:
        objective: The objective reading the column (its name and ``value_range``).
        table: The :class:`~gcnas.data.BenchmarkTable`.
        column: The column.

    Raises:
        InvalidInputError: Naming the file, the column, the first bad row (line, official
            index, arch), its value, how many more rows are bad, and how to fix it.
    """
    values = table.column(column)
    accepted = allowed_range(objective)
    bad = np.flatnonzero(~np.isnan(values) & ~accepted.holds(values))
    if not len(bad):
        return
    row, value = int(bad[0]), float(values[bad[0]])
    where = f"benchmark table {str(table.path)!r}" if table.path is not None else "a benchmark table (in memory)"
    more = f" ({len(bad) - 1} more row{'s' if len(bad) > 2 else ''} too)" if len(bad) > 1 else ""
    if not math.isfinite(value):
        raise InvalidInputError(f"{where}, column {column}: {value} at {table.describe_row(row)} is not a finite "
                                f"number{more}; fix the table (leave the cell empty where there is no value)")
    flag = column if objective.value_range is None else objective.name
    raise InvalidInputError(f"{where}, column {column}: {value:g} at {table.describe_row(row)} is outside "
                            f"{accepted} ({accepted.what}){more}; fix the table, or accept other values with "
                            f"--allow-range {flag}:LOW:HIGH (Python: value_range=(low, high))")


class SearchNotice(Notice):
    """Something a search did that is not an error but should not pass unnoticed: table rows
    left out for lack of a value, a search that ended short of its budget."""


def notify(message: str) -> None:
    """Give a :class:`SearchNotice` (a warning in Python; one line on stderr from the CLI)."""
    warnings.warn(message, SearchNotice, stacklevel=3)


@contextlib.contextmanager
def notices_to_stderr(prefix: str) -> Iterator[None]:
    """Within the block, print each :class:`~gcnas.exceptions.Notice` (a search's, the run
    store's) as one line ``PREFIX: message`` on stderr (every time, not once per place); other
    warnings are shown as before."""
    with warnings.catch_warnings():
        shown = warnings.showwarning
        warnings.simplefilter("always", Notice)

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, Notice):
                print(f"{prefix}: {message}", file=sys.stderr)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


@dataclass(frozen=True)
class LeftOut:
    """Rows of a table left out of a search: they have no value in the column."""

    name: str
    path: str | None
    column: str
    rows: int

    def __str__(self) -> str:
        where = self.path if self.path is not None else "the table (in memory)"
        return f"{self.rows} rows of {where} have no value in {self.column} and were left out"


def rows_left_out(objectives: Sequence[Objective], constraints: Sequence[Constraint] = ()) -> list[LeftOut]:
    """The table rows a search over a full candidate list leaves out: those with no value (NaN,
    an empty cell) in the column of an objective, or of a cheap constraint that prunes.

    Args:
        objectives: The search's objectives.
        constraints: Its constraints.

    Returns:
        One :class:`LeftOut` per table column that lacks values (none when every row has one).
    """
    metrics = [*objectives, *(c.metric for c in constraints if c.metric.cheap and c.prune)]
    out, seen = [], set()
    for metric in metrics:
        table, column = getattr(metric, "table", None), getattr(metric, "column", None)
        if table is None or column is None or (id(table), column) in seen:
            continue
        seen.add((id(table), column))
        missing = int(np.isnan(table.column(column)).sum())
        if missing:
            out.append(LeftOut(metric.name, None if table.path is None else str(table.path), column, missing))
    return out
