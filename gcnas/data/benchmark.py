"""Benchmark tables: one row per architecture, ``index`` + ``arch`` + metric columns.

This is the CSV format of ``shared/data/nb201/*.csv``: ``index`` is the official
NAS-Bench-201 / NATS-Bench index (0..15624, the benchmark's own shuffled order) and
``arch`` the official arch string. Either key column alone suffices: the other is
filled from the official order, which gcnas learns only from benchmark data (by default
the packaged NAS-Bench-201 table, :data:`PACKAGED_TABLES`). A table may hold any subset
of the 15,625 cells; a ``.csv.gz`` file is read as gzip-compressed CSV.
"""

from __future__ import annotations

import csv
import functools
import gzip
import math
import os
import zlib
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError, NotInTableError
from gcnas.spaces import decision_index, from_decision_index, get_space

__all__ = ["BenchmarkTable", "ArchLike", "PACKAGED_TABLES"]

ArchLike = Any

NB201 = get_space("nb201")
"""The space of NAS-Bench-201's tables, through the registry: cells are read with ``NB201.parse``,
written with ``NB201.format``, and a table's rows are indexed by the cell's
:func:`~gcnas.spaces.decision_index` (its position among the 15,625 cells)."""

NB201_CELLS: int = NB201.size()
"""Cells of NAS-Bench-201 (15,625): the length of the code-indexed lookup arrays."""


def _is_cell(value: Any) -> bool:
    """Whether ``value`` is a NAS-Bench-201 cell (not its string or index)."""
    if isinstance(value, (str, int, np.integer)):
        return False
    try:
        NB201.format(value)
    except (AttributeError, TypeError, ValueError):
        return False
    return True
"""A NAS-Bench-201 cell, its string, or (for tables) an official index."""

PACKAGED_TABLES: dict[str, str] = {
    "nb201:cifar10": "nb201_cifar10_200ep.csv.gz",
    "nb201:latency": "nb201_latency_ms.csv.gz",
}
"""Tables shipped with gcnas (``gcnas/data/tables/``, sources and MIT licence in its
``SOURCES.md``): name -> file. ``nb201:cifar10`` holds NAS-Bench-201's CIFAR-10 200-epoch
``valid_acc`` / ``test_acc`` (percent), ``nb201:latency`` HW-NAS-Bench's ``pixel3``,
``fpga`` and ``eyeriss`` latencies (ms); both every cell, with the official index."""


class BenchmarkTable:
    """A table of per-architecture figures read from the benchmark CSV format.

    Args:
        path: CSV file (``.csv.gz``: gzip-compressed) with columns ``index`` and/or
            ``arch`` and any numeric metric columns (empty cells read as NaN). Rows may
            cover any subset of the space.
        index_table: Maps official index <-> architecture for a file that has only one of
            the two key columns (default: the packaged ``nb201:cifar10`` table, which
            holds the official order of all 15,625 cells).

    Example:
        >>> table = BenchmarkTable("../shared/data/nb201/nb201_cifar10_200ep.csv")
        >>> arch = table.arch(0)                      # official index -> Any
        >>> table.index(arch), table.value(arch, "test_acc")
        >>> table.values(table.archs[:5], "valid_acc")  # vectorised, (5,) float64
        >>> mine = BenchmarkTable("mydevice.csv")     # 'arch,mydevice' or 'index,mydevice', 200 rows
        >>> mine.values(archs, "mydevice", missing=float("nan"))   # NaN where not measured
    """

    def __init__(self, path: str | os.PathLike, *, index_table: BenchmarkTable | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError(
                f"benchmark table {str(self.path)!r} does not exist; pass the path of a CSV "
                "with columns index and/or arch and metric columns (e.g. shared/data/nb201/*.csv), "
                f"or use a packaged table: {', '.join(PACKAGED_TABLES)}")
        self._read(index_table)

    @classmethod
    def packaged(cls, name: str) -> BenchmarkTable:
        """A table shipped with gcnas (:data:`PACKAGED_TABLES`), read once per process.

        Args:
            name: ``"nb201:cifar10"`` (NAS-Bench-201 CIFAR-10, 200 epochs: ``valid_acc``,
                ``test_acc``) or ``"nb201:latency"`` (HW-NAS-Bench ``pixel3``, ``fpga``,
                ``eyeriss``, ms).

        Returns:
            The table (shared: lookups never modify it).

        Example:
            >>> BenchmarkTable.packaged("nb201:cifar10").value(0, "test_acc")
            85.8633
        """
        if name not in PACKAGED_TABLES:
            raise InvalidInputError(f"unknown packaged table {name!r}; packaged tables: "
                                    f"{', '.join(PACKAGED_TABLES)}")
        return _packaged(name)

    @classmethod
    def from_columns(cls, indices: Sequence[int], archs: Sequence[Any],
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

    def _read(self, index_table: BenchmarkTable | None) -> None:
        opener = gzip.open if self.path.suffix == ".gz" else open
        try:
            with opener(self.path, "rt", newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                rows = list(reader)
        except (UnicodeDecodeError, OSError, EOFError, zlib.error) as error:
            kind = "gzip-compressed text CSV" if opener is gzip.open else "text CSV"
            raise CorruptFileError(f"benchmark table {str(self.path)!r} is not a {kind}: {error}") from None
        if header is None:
            raise CorruptFileError(f"benchmark table {str(self.path)!r} is empty; expected a header "
                                   "'index,arch,<metrics...>' and one row per architecture")
        header = [name.strip() for name in header]
        if "index" not in header and "arch" not in header:
            raise CorruptFileError(
                f"benchmark table {str(self.path)!r} lacks column(s) index, arch (it needs one of them); "
                f"found {header}. The format is 'index,arch,<metric columns...>', or 'arch,<metrics...>' "
                "(NAS-Bench-201 arch strings), or 'index,<metrics...>' (official indices)")
        index_col = header.index("index") if "index" in header else None
        arch_col = header.index("arch") if "arch" in header else None
        metric_names = [name for name in header if name not in ("index", "arch")]
        metric_cols = [header.index(name) for name in metric_names]
        indices = np.empty(len(rows), dtype=np.int64)
        archs: list[Any] = []
        values = np.full((len(rows), len(metric_names)), np.nan)
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise CorruptFileError(f"{self.path}:{line}: expected {len(header)} fields, got {len(row)}")
            if index_col is not None:
                try:
                    indices[line - 2] = int(row[index_col])
                except ValueError:
                    raise CorruptFileError(
                        f"{self.path}:{line}: index {row[index_col]!r} is not an integer") from None
            if arch_col is not None:
                try:
                    archs.append(NB201.parse(row[arch_col]))
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
        if index_col is None or arch_col is None:
            indices, archs = self._other_key(indices if index_col is not None else None,
                                             archs if arch_col is not None else None, index_table)
        self._set(indices, archs, {name: values[:, j].copy() for j, name in enumerate(metric_names)})

    def _other_key(self, indices: np.ndarray | None, archs: list[Any] | None,
                   index_table: BenchmarkTable | None) -> tuple[np.ndarray, list[Any]]:
        """Fill the key column the file lacks from the official order of ``index_table``."""
        order = index_table if index_table is not None else BenchmarkTable.packaged("nb201:cifar10")
        if archs is None:
            bad = (indices < 0) | (indices >= NB201_CELLS)
            if bad.any():
                raise CorruptFileError(f"{self.path}: index {int(indices[bad][0])} is out of range "
                                       f"0..{NB201_CELLS - 1}")
            rows = order._row_of_index[indices]
            if (rows < 0).any():
                raise CorruptFileError(
                    f"{self.path}: index {int(indices[rows < 0][0])} is not in {order.path or 'the index table'}, "
                    "which maps official indices to architectures; add an 'arch' column")
            return indices, [order._archs[r] for r in rows]
        codes = np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64, count=len(archs))
        rows = order._row_of_code[codes]
        if (rows < 0).any():
            absent = archs[int(np.flatnonzero(rows < 0)[0])]
            raise CorruptFileError(f"{self.path}: {absent} is not in {order.path or 'the index table'}, "
                                   "which maps architectures to official indices; add an 'index' column")
        return order._indices[rows], archs

    def _set(self, indices: np.ndarray, archs: list[Any], columns: dict[str, np.ndarray]) -> None:
        where = self.path or "<table>"
        if len(indices) != len(archs) or any(len(v) != len(archs) for v in columns.values()):
            raise InvalidInputError("benchmark table columns must all have one value per row")
        if len(indices) and (indices.min() < 0 or indices.max() >= NB201_CELLS):
            bad = int(indices[(indices < 0) | (indices >= NB201_CELLS)][0])
            raise CorruptFileError(f"{where}: index {bad} is out of range 0..{NB201_CELLS - 1}")
        self._indices = indices
        self._archs = archs
        self._columns = columns
        self._row_of_index = np.full(NB201_CELLS, -1, dtype=np.int64)
        self._row_of_code = np.full(NB201_CELLS, -1, dtype=np.int64)
        codes = np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64, count=len(archs))
        for kind, keys, lookup in (("index", indices, self._row_of_index),
                                   ("architecture", codes, self._row_of_code)):
            unique, counts = np.unique(keys, return_counts=True)
            if (counts > 1).any():
                dup = int(unique[counts > 1][0])
                name = dup if kind == "index" else str(from_decision_index(NB201, dup))
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
    def archs(self) -> list[Any]:
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

    def arch(self, index: int) -> Any:
        """The architecture at an official index."""
        row = self._row_of_index[_checked_index(index)]
        if row < 0:
            raise NotInTableError(f"index {index} is not in {self.path or 'the table'}")
        return self._archs[row]

    def index(self, arch: ArchLike) -> int:
        """The official index of an architecture (a cell or its string)."""
        return int(self._indices[self._row(arch)])

    def value(self, arch: ArchLike, column: str) -> float:
        """One figure; ``arch`` is a cell, its string, or an official index."""
        self._check_column(column)
        return float(self._columns[column][self._row(arch)])

    def values(self, archs: Iterable[Any], column: str, *, missing: float | None = None) -> np.ndarray:
        """Vectorised lookup of ``column`` for many architectures.

        Args:
            archs: NAS-Bench-201 cells.
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
        rows = self._row_of_code[np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64)]
        return np.where(rows >= 0, self._columns[column][np.maximum(rows, 0)], missing)

    def rows(self, archs: Iterable[Any]) -> np.ndarray:
        """Row numbers of many architectures (``NotInTableError``, a ``KeyError``, if any is absent)."""
        codes = np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64)
        rows = self._row_of_code[codes]
        if (rows < 0).any():
            missing = [str(from_decision_index(NB201, int(c))) for c in codes[rows < 0][:3]]
            raise NotInTableError(f"{int((rows < 0).sum())} architecture(s) are not in "
                           f"{self.path or 'the table'}, e.g. {missing}")
        return rows

    def describe_row(self, row: int) -> str:
        """Where a row is, for a message: ``line 7 (index 123, arch |...|)`` in the file it was
        read from (``row 5 (...)`` for a table built in memory)."""
        where = f"line {row + 2}" if self.path is not None else f"row {row}"
        return f"{where} (index {int(self._indices[row])}, arch {self._archs[row]})"

    def _row(self, arch: ArchLike) -> int:
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            row = self._row_of_index[_checked_index(int(arch))]
        else:
            if isinstance(arch, str):
                arch = NB201.parse(arch)
            if not _is_cell(arch):
                raise InvalidInputError(f"expected an Arch (a NAS-Bench-201 cell), arch string or index, got {arch!r}")
            row = self._row_of_code[decision_index(NB201, arch)]
        if row < 0:
            raise NotInTableError(f"{arch} is not in {self.path or 'the table'}")
        return int(row)

    def _check_column(self, name: str) -> None:
        if name not in self._columns:
            raise InvalidInputError(f"unknown column {name!r} in {self.path or 'the table'}; "
                                    f"columns: {', '.join(self.columns) or '(none)'}")


@functools.lru_cache(maxsize=None)
def _packaged(name: str) -> BenchmarkTable:
    resource = resources.files("gcnas.data") / "tables" / PACKAGED_TABLES[name]
    if not resource.is_file():
        raise DataNotFoundError(f"the packaged table {name!r} ({resource}) is missing from this installation "
                                "of gcnas; reinstall it (the file is declared as package data)")
    with resources.as_file(resource) as path:
        return BenchmarkTable(path)


def _checked_index(index: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise InvalidInputError(f"an official index must be an int, got {index!r}")
    if not 0 <= index < NB201_CELLS:
        raise InvalidInputError(f"index {index} is out of range 0..{NB201_CELLS - 1}")
    return int(index)


def _format_float(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))
