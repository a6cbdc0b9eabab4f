"""A benchmark table of any search space: one row per cell, found by ``space.key``.

NAS-Bench-201's tables (:class:`gcnas.data.BenchmarkTable`) are keyed by its official index.
A table of another space is a CSV with one column holding each cell in the space's own
notation (``space.parse``: DARTS' ``Genotype(...)`` strings for NAS-Bench-301) and numeric
metric columns; a cell is looked up by ``space.key``, so a cell written in another
equivalent form finds its row. :class:`SpaceTable` offers what
:class:`~gcnas.search.TableObjective` reads of a table, so a column of it is an objective::

    table = SpaceTable("nb301_sample_cifar10.csv", space="darts", arch_column="genotype")
    accuracy = TableObjective("val_accuracy", table=table)
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from gcnas.exceptions import DataNotFoundError, InvalidInputError, NotInTableError
from gcnas.search.base import resolve_space
from gcnas.spaces import SearchSpace

__all__ = ["SpaceTable", "read_space_table"]


class SpaceTable:
    """Per-cell figures of any space, read from a CSV whose arch column is in the space's notation.

    Args:
        path: The CSV file (a header row, then one row per cell).
        space: The cells' space or its name (``"darts"``).
        arch_column: The column holding each cell in the space's notation (``space.parse``).

    Raises:
        DataNotFoundError: No such file.
        InvalidInputError: No ``arch_column``, a cell that does not parse, two rows of one cell
            (same ``space.key``), or a value that is not a number (each named by its line).

    Example:
        >>> table = SpaceTable("nb301_sample_cifar10.csv", space="darts", arch_column="genotype")
        >>> len(table), table.columns[:2]
        (725, ['val_accuracy', 'flops'])
        >>> table.values(table.archs[:3], "val_accuracy").shape
        (3,)
    """

    def __init__(self, path: str | os.PathLike, space: SearchSpace[Any] | str, *, arch_column: str = "arch") -> None:
        self.path = Path(path)
        self.space = resolve_space(space)
        self.arch_column = arch_column
        if not self.path.is_file():
            raise DataNotFoundError(f"table {str(self.path)!r} does not exist; pass a CSV with a column "
                                    f"{arch_column!r} of {self.space.name} cells and metric columns")
        with self.path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            if arch_column not in header:
                raise InvalidInputError(f"table {str(self.path)!r} has no column {arch_column!r} (it has "
                                        f"{', '.join(header) or 'no header'}); name the column of the cells "
                                        "with arch_column=")
            rows = list(reader)
        self._names = [c for c in header if c != arch_column]
        self._archs = [self._parse(row[arch_column], line) for line, row in enumerate(rows, start=2)]
        self._row: dict[str, int] = {}
        for row, arch in enumerate(self._archs):
            first = self._row.setdefault(self.space.key(arch), row)
            if first != row:
                raise InvalidInputError(f"table {str(self.path)!r}: lines {first + 2} and {row + 2} hold the same "
                                        f"{self.space.name} cell ({self.space.format(arch)}); keep one row per cell")
        self._columns = {name: np.array([self._number(r.get(name), line, name) for line, r in enumerate(rows, 2)])
                         for name in self._names}

    def _parse(self, text: str, line: int) -> Any:
        try:
            return self.space.parse(text)
        except (InvalidInputError, ValueError) as error:
            raise InvalidInputError(f"table {str(self.path)!r}, line {line}: {error}") from None

    def _number(self, text: str | None, line: int, name: str) -> float:
        if text is None or not text.strip():
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise InvalidInputError(f"table {str(self.path)!r}, line {line}, column {name}: {text!r} is not a "
                                    "number") from None

    def __len__(self) -> int:
        return len(self._archs)

    def __repr__(self) -> str:
        return f"SpaceTable({str(self.path)!r}, space={self.space.name!r}, {len(self)} cells)"

    @property
    def columns(self) -> list[str]:
        """The metric column names (every column but the arch column)."""
        return list(self._names)

    @property
    def archs(self) -> list[Any]:
        """The cells in row order, as written in the file."""
        return list(self._archs)

    def column(self, name: str) -> np.ndarray:
        """One metric column in row order, ``(n,)`` float64 (NaN where empty)."""
        self._check_column(name)
        return self._columns[name].copy()

    def rows(self, archs: Iterable[Any]) -> np.ndarray:
        """``(n,)`` row of each cell, -1 where the table lacks it."""
        return np.array([self._row.get(self.space.key(a), -1) for a in archs], dtype=np.int64)

    def values(self, archs: Iterable[Any], column: str, *, missing: float | None = None) -> np.ndarray:
        """``column`` for many cells, ``(n,)`` float64.

        Args:
            archs: Cells of the table's space.
            column: A metric column.
            missing: Value for cells the table lacks (``None``: raise ``NotInTableError``).
        """
        self._check_column(column)
        archs = list(archs)
        rows = self.rows(archs)
        if missing is None and (rows < 0).any():
            example = self.space.format(archs[int(np.flatnonzero(rows < 0)[0])])
            raise NotInTableError(f"{int((rows < 0).sum())} cell(s) are not in {self.path}, e.g. {example}")
        return np.where(rows >= 0, self._columns[column][np.maximum(rows, 0)], missing if missing is not None else 0.0)

    def describe_row(self, row: int) -> str:
        """Where a row is, for a message: ``line 7 (Genotype(...))``."""
        return f"line {row + 2} ({self.space.format(self._archs[row])})"

    def key_strings(self) -> list[str]:
        """Each row's cell in the space's notation (what identifies the table's contents)."""
        return [self.space.format(a) for a in self._archs]

    def _check_column(self, name: str) -> None:
        if name not in self._columns:
            raise InvalidInputError(f"unknown column {name!r} in {self.path}; columns: {', '.join(self._names)}")


def read_space_table(path: str | os.PathLike, space: SearchSpace[Any] | str,
                     arch_column: str = "arch") -> tuple[list[Any], dict[str, np.ndarray]]:
    """The cells and columns of a :class:`SpaceTable` (a convenience for scripts).

    Returns:
        ``(cells, {column: (n,) values})``.
    """
    table = SpaceTable(path, space, arch_column=arch_column)
    return table.archs, {name: table.column(name) for name in table.columns}

