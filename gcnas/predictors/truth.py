"""Ground truth beside a ranking: a benchmark-table column used only to judge.

Wherever gcnas ranks or picks cells (supernet scores, predictor output, the lookup table,
a search, the demo) a :class:`Truth` can be given. It is read only when the report is
written, after everything was fitted, ranked and picked, and it is handed to nothing that
fits or selects: the tests run each of those paths with the truth and with a shuffled
truth and check that every prediction and pick is identical.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gcnas.data.benchmark import BenchmarkTable
from gcnas.data.table_specs import COLUMN_SPECS, is_column_spec, open_table, split_column_spec
from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.predictors.metrics import kendall_tau, precision_at_k, spearman

__all__ = ["Truth", "parse_truth"]


class Truth:
    """True values of cells (e.g. NAS-Bench-201's ``test_acc``), for reports only.

    Args:
        table: The benchmark table.
        column: The metric column.
        maximize: Whether larger is better (accuracy) or smaller (latency).

    Example:
        >>> truth = Truth(BenchmarkTable("nb201_cifar10_200ep.csv"), "test_acc")
        >>> truth.judge(archs, supernet_scores)
        {'n': 500, 'kendall_tau': 0.41, 'spearman': 0.58, 'precision_at_5': 0.28, ...}
    """

    def __init__(self, table: BenchmarkTable, column: str, maximize: bool = True) -> None:
        if column not in table.columns:
            raise InvalidInputError(f"truth column {column!r} is not in {table.path or 'the table'}; "
                                    f"columns: {', '.join(table.columns)}")
        self.table, self.column, self.maximize = table, column, maximize

    @property
    def name(self) -> str:
        """``true_<column>``, the name of the column reports add."""
        return f"true_{self.column}"

    def values(self, archs: Sequence[Any]) -> np.ndarray:
        """True values; NaN for a cell the table lacks."""
        return self.table.values(archs, self.column, missing=np.nan)

    def judge(self, archs: Sequence[Any], scores: Sequence[float], *, top_fraction: float = 0.1) -> dict[str, float]:
        """How well ``scores`` (higher = ranked better) order ``archs`` against the truth.

        Args:
            archs: The ranked cells.
            scores: gcnas's scores of them (higher is better).
            top_fraction: Share of the cells, best by truth, for the ``top_*`` figures.

        Returns:
            ``n``, ``kendall_tau``, ``spearman``, ``precision_at_5`` (share of the predicted
            top 5% in the true top 5%), and over the true top ``top_fraction``:
            ``top_kendall_tau`` and ``top_n``. NaN where fewer than 3 cells have a truth.
        """
        truth = self.values(archs)
        scores = np.asarray(scores, dtype=np.float64)
        if len(scores) != len(truth):
            raise InvalidInputError(f"{len(scores)} scores for {len(truth)} cells")
        sign = 1.0 if self.maximize else -1.0
        known = ~np.isnan(truth) & ~np.isnan(scores)
        truth, scores = sign * truth[known], scores[known]
        report = {"n": int(known.sum()), "kendall_tau": np.nan, "spearman": np.nan, "precision_at_5": np.nan,
                  "top_kendall_tau": np.nan, "top_n": 0}
        if len(truth) < 3:
            return report
        top = np.argsort(-truth, kind="stable")[:max(3, int(round(top_fraction * len(truth))))]
        report.update(kendall_tau=kendall_tau(truth, scores), spearman=spearman(truth, scores),
                      precision_at_5=precision_at_k(truth, scores, 0.05), top_n=int(len(top)),
                      top_kendall_tau=kendall_tau(truth[top], scores[top]))
        return report


def parse_truth(spec: str | None, *, maximize: bool = True) -> Truth | None:
    """A :class:`Truth` from a benchmark column spec (``None`` passes through).

    Args:
        spec: ``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN`` (packaged NAS-Bench-201
            CIFAR-10, 200 epochs), ``nb201:latency:DEVICE`` or
            ``natsbench:PATH:DATASET:METRIC[:HP]`` (:mod:`gcnas.data.table_specs`).
        maximize: Whether larger is better.

    Returns:
        The truth.

    Raises:
        InvalidInputError: A spec of another form, or an unknown column.
        DataNotFoundError: The CSV or archive does not exist.

    Example:
        >>> parse_truth("nb201:cifar10:test_acc").values(archs)
    """
    if spec is None:
        return None
    forms = ", ".join(COLUMN_SPECS)
    if not is_column_spec(spec):
        raise InvalidInputError(f"--truth must be {forms} (a benchmark table column), got {spec!r}")
    try:
        source, column = split_column_spec(spec)
    except InvalidInputError as error:
        raise InvalidInputError(f"--truth must be {forms}; {error}") from None
    if source.startswith("table:"):
        path = os.path.expanduser(source[len("table:"):])
        if not Path(path).exists():
            raise DataNotFoundError(f"truth table {path!r} (from {spec!r}) not found")
    return Truth(open_table(source), column, maximize=maximize)
