"""Benchmark tables: one row per architecture, ``index`` + ``arch`` + metric columns.

This is the CSV format of ``shared/data/nb201/*.csv``: ``index`` is the official
NAS-Bench-201 / NATS-Bench index (0..15624, the benchmark's own shuffled order) and
``arch`` the official arch string. The table is the only place gcnas learns that order.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError, NotInTableError
from gcnas.space import NUM_ARCHS, Arch

__all__ = ["BenchmarkTable", "ArchLike"]

ArchLike = Arch | str | int
"""An ``Arch``, an arch string, or (for tables) an official index."""


class BenchmarkTable:
    """A table of per-architecture figures read from the benchmark CSV format.

    Args:
        path: CSV file with columns ``index``, ``arch`` and any numeric metric columns
            (empty cells read as NaN).

    Example:
        >>> table = BenchmarkTable("../shared/data/nb201/nb201_cifar10_200ep.csv")
        >>> arch = table.arch(0)                      # official index -> Arch
        >>> table.index(arch), table.value(arch, "test_acc")
        >>> table.values(table.archs[:5], "valid_acc")  # vectorised, (5,) float64
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError(
                f"benchmark table {str(self.path)!r} does not exist; pass the path of a CSV "
                "with columns index, arch and metric columns (e.g. shared/data/nb201/*.csv)")
        self._read()

    @classmethod
    def from_columns(cls, indices: Sequence[int], archs: Sequence[Arch],
                     columns: dict[str, Sequence[float]]) -> BenchmarkTable:
        """Build a table in memory (fixtures, derived tables).

        Args:
            indices: Official indices, one per row.
            archs: Architectures, one per row.
            columns: Metric name -> one value per row.

        Returns:
            The table (its ``path`` is ``None``).
        """
        table = cls.__new__(cls)
        table.path = None
        table._set(np.asarray(indices, dtype=np.int64), list(archs),
                   {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()})
        return table

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the table in the CSV format it reads (fixtures for tests)."""
        path = Path(path)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "arch", *self.columns])
            for row, arch in enumerate(self.archs):
                writer.writerow([int(self._indices[row]), str(arch),
                                 *(_format_float(self._columns[c][row]) for c in self.columns)])
        return path

    # -- reading -----------------------------------------------------------------------

    def _read(self) -> None:
        try:
            with open(self.path, newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                rows = list(reader)
        except UnicodeDecodeError as error:
            raise CorruptFileError(f"benchmark table {str(self.path)!r} is not a text CSV: {error}") from None
        if header is None:
            raise CorruptFileError(f"benchmark table {str(self.path)!r} is empty; expected a header "
                                   "'index,arch,<metrics...>' and one row per architecture")
        header = [name.strip() for name in header]
        missing = [name for name in ("index", "arch") if name not in header]
        if missing:
            raise CorruptFileError(
                f"benchmark table {str(self.path)!r} lacks column(s) {', '.join(missing)}; "
                f"found {header}. The format is 'index,arch,<metric columns...>'")
        index_col, arch_col = header.index("index"), header.index("arch")
        metric_names = [name for name in header if name not in ("index", "arch")]
        metric_cols = [header.index(name) for name in metric_names]
        indices = np.empty(len(rows), dtype=np.int64)
        archs: list[Arch] = []
        values = np.full((len(rows), len(metric_names)), np.nan)
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise CorruptFileError(f"{self.path}:{line}: expected {len(header)} fields, got {len(row)}")
            try:
                indices[line - 2] = int(row[index_col])
            except ValueError:
                raise CorruptFileError(f"{self.path}:{line}: index {row[index_col]!r} is not an integer") from None
            try:
                archs.append(Arch.from_string(row[arch_col]))
            except ValueError as error:
                raise CorruptFileError(
                    f"{self.path}:{line}: {error}. Is this a table of the NAS-Bench-201 space?") from None
            for j, col in enumerate(metric_cols):
                cell = row[col].strip()
                if cell:
                    try:
                        values[line - 2, j] = float(cell)
                    except ValueError:
                        raise CorruptFileError(
                            f"{self.path}:{line}: {metric_names[j]}={cell!r} is not a number") from None
        self._set(indices, archs, {name: values[:, j].copy() for j, name in enumerate(metric_names)})

    def _set(self, indices: np.ndarray, archs: list[Arch], columns: dict[str, np.ndarray]) -> None:
        where = self.path or "<table>"
        if len(indices) != len(archs) or any(len(v) != len(archs) for v in columns.values()):
            raise InvalidInputError("benchmark table columns must all have one value per row")
        if len(indices) and (indices.min() < 0 or indices.max() >= NUM_ARCHS):
            bad = int(indices[(indices < 0) | (indices >= NUM_ARCHS)][0])
            raise CorruptFileError(f"{where}: index {bad} is out of range 0..{NUM_ARCHS - 1}")
        self._indices = indices
        self._archs = archs
        self._columns = columns
        self._row_of_index = np.full(NUM_ARCHS, -1, dtype=np.int64)
        self._row_of_code = np.full(NUM_ARCHS, -1, dtype=np.int64)
        codes = np.fromiter((a.code for a in archs), dtype=np.int64, count=len(archs))
        for kind, keys, lookup in (("index", indices, self._row_of_index),
                                   ("architecture", codes, self._row_of_code)):
            unique, counts = np.unique(keys, return_counts=True)
            if (counts > 1).any():
                dup = int(unique[counts > 1][0])
                name = dup if kind == "index" else str(Arch.from_code(dup))
                raise CorruptFileError(f"{where}: {kind} {name} appears more than once")
            lookup[keys] = np.arange(len(keys))
        self._codes = codes

    # -- lookups -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._archs)

    def __repr__(self) -> str:
        where = repr(str(self.path)) if self.path is not None else "in memory"
        return f"BenchmarkTable({where}, rows={len(self)}, columns={self.columns})"

    def __contains__(self, item: object) -> bool:
        try:
            self._row(item)  # type: ignore[arg-type]
        except (KeyError, ValueError):
            return False
        return True

    @property
    def columns(self) -> list[str]:
        """The metric column names (everything but ``index`` and ``arch``)."""
        return list(self._columns)

    @property
    def archs(self) -> list[Arch]:
        """Architectures in row order."""
        return list(self._archs)

    @property
    def indices(self) -> np.ndarray:
        """Official indices in row order, ``(n,)`` int64."""
        return self._indices.copy()

    def column(self, name: str) -> np.ndarray:
        """One metric column in row order, ``(n,)`` float64."""
        self._check_column(name)
        return self._columns[name].copy()

    def arch(self, index: int) -> Arch:
        """The architecture at an official index."""
        row = self._row_of_index[_checked_index(index)]
        if row < 0:
            raise NotInTableError(f"index {index} is not in {self.path or 'the table'}")
        return self._archs[row]

    def index(self, arch: ArchLike) -> int:
        """The official index of an architecture (``Arch`` or string)."""
        return int(self._indices[self._row(arch)])

    def value(self, arch: ArchLike, column: str) -> float:
        """One figure; ``arch`` is an ``Arch``, an arch string, or an official index."""
        self._check_column(column)
        return float(self._columns[column][self._row(arch)])

    def values(self, archs: Iterable[Arch], column: str, *, missing: float | None = None) -> np.ndarray:
        """Vectorised lookup of ``column`` for many architectures.

        Args:
            archs: Architectures (``Arch`` values).
            column: A metric column.
            missing: Value for architectures the table lacks (``None``: raise).

        Returns:
            ``(n,)`` float64 in the order of ``archs``.

        Raises:
            NotInTableError: (a ``KeyError``) naming the first architectures the table
                lacks (when ``missing`` is None).
        """
        self._check_column(column)
        if missing is None:
            return self._columns[column][self.rows(archs)]
        rows = self._row_of_code[np.fromiter((a.code for a in archs), dtype=np.int64)]
        return np.where(rows >= 0, self._columns[column][np.maximum(rows, 0)], missing)

    def rows(self, archs: Iterable[Arch]) -> np.ndarray:
        """Row numbers of many architectures (``NotInTableError``, a ``KeyError``, if any is absent)."""
        codes = np.fromiter((a.code for a in archs), dtype=np.int64)
        rows = self._row_of_code[codes]
        if (rows < 0).any():
            missing = [str(Arch.from_code(int(c))) for c in codes[rows < 0][:3]]
            raise NotInTableError(f"{int((rows < 0).sum())} architecture(s) are not in "
                           f"{self.path or 'the table'}, e.g. {missing}")
        return rows

    def _row(self, arch: ArchLike) -> int:
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            row = self._row_of_index[_checked_index(int(arch))]
        else:
            if isinstance(arch, str):
                arch = Arch.from_string(arch)
            if not isinstance(arch, Arch):
                raise InvalidInputError(f"expected an Arch, arch string or index, got {arch!r}")
            row = self._row_of_code[arch.code]
        if row < 0:
            raise NotInTableError(f"{arch} is not in {self.path or 'the table'}")
        return int(row)

    def _check_column(self, name: str) -> None:
        if name not in self._columns:
            raise InvalidInputError(f"unknown column {name!r} in {self.path or 'the table'}; "
                                    f"columns: {', '.join(self.columns) or '(none)'}")


def _checked_index(index: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise InvalidInputError(f"an official index must be an int, got {index!r}")
    if not 0 <= index < NUM_ARCHS:
        raise InvalidInputError(f"index {index} is out of range 0..{NUM_ARCHS - 1}")
    return int(index)


def _format_float(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))
