"""Benchmark tables and their columns named by a string, as the command line writes them.

A *column spec* names one column of per-architecture figures; every option that reads one
(``--accuracy-from``, ``--latency-from``, ``--truth``, ``gcnas lut build --latency`` ...)
accepts all of these forms:

==========================================  ==============================================
column spec                                 reads
==========================================  ==============================================
``table:CSV:COLUMN``                        a CSV in the benchmark format (``.csv.gz`` too)
``nb201:cifar10:COLUMN``                    packaged NAS-Bench-201 CIFAR-10, 200 epochs:
                                            ``valid_acc``, ``test_acc`` (percent)
``nb201:latency:DEVICE``                    packaged HW-NAS-Bench latency (ms): ``pixel3``,
                                            ``fpga``, ``eyeriss``
``natsbench:PATH:DATASET:METRIC[:HP]``      a NATS-Bench archive through :class:`NATSBench`
                                            (``HP`` 12 or 200, default 200; ``PATH`` empty:
                                            ``$TORCH_HOME``), read once into a cached table
==========================================  ==============================================

A *table* (``--table`` of ``gcnas predictor``) is the same without the column: a CSV path,
``nb201:cifar10``, ``nb201:latency`` or ``natsbench:PATH:DATASET[:HP]``. Paths may hold
colons: the spec is split from the right. All of them come back as a
:class:`~gcnas.data.BenchmarkTable`, so every consumer reads them the same way.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gcnas.data.benchmark import PACKAGED_TABLES, BenchmarkTable
from gcnas.exceptions import InvalidInputError

__all__ = ["COLUMN_SPECS", "TABLE_SOURCES", "is_column_spec", "open_column", "open_table", "split_column_spec"]

COLUMN_SPECS: tuple[str, ...] = ("table:CSV:COLUMN", "nb201:cifar10:COLUMN", "nb201:latency:DEVICE",
                                 "natsbench:PATH:DATASET:METRIC[:HP]")
"""The forms of a column spec (module docstring)."""

TABLE_SOURCES: tuple[str, ...] = ("CSV", "nb201:cifar10", "nb201:latency", "natsbench:PATH:DATASET[:HP]")
"""The forms of a table name (a column spec without its column)."""

_KINDS = ("table", "nb201", "natsbench")


def is_column_spec(spec: str) -> bool:
    """Whether ``spec`` has the prefix of a column spec (``table:``, ``nb201:``, ``natsbench:``)."""
    return isinstance(spec, str) and spec.partition(":")[0] in _KINDS and ":" in spec


def open_table(source: str | os.PathLike, *, progress: bool | None = None) -> BenchmarkTable:
    """A benchmark table from a CSV path or a table name (:data:`TABLE_SOURCES`).

    Args:
        source: A CSV path (``~`` expanded), ``table:CSV``, ``nb201:cifar10``,
            ``nb201:latency`` or ``natsbench:PATH:DATASET[:HP]``.
        progress: Show a progress bar while a NATS-Bench archive is read the first time
            (``None``: when stderr is a terminal).

    Returns:
        The table.

    Raises:
        InvalidInputError: A malformed name (the message lists the forms).
        DataNotFoundError: The file or archive does not exist.

    Example:
        >>> open_table("nb201:cifar10").value(0, "test_acc")
        85.8633
    """
    text = os.fspath(source)
    kind, _, body = text.partition(":")
    if kind == "nb201":
        return BenchmarkTable.packaged(text)
    if kind == "natsbench":
        return _natsbench(body, text, progress=progress)
    if kind == "table":
        text = body
    if not text:
        raise InvalidInputError(f"empty table name {source!r}; use one of {', '.join(TABLE_SOURCES)}")
    return BenchmarkTable(Path(text).expanduser())


def split_column_spec(spec: str) -> tuple[str, str]:
    """A column spec split into its table name (:data:`TABLE_SOURCES`) and column, unread.

    Args:
        spec: A column spec (:data:`COLUMN_SPECS`).

    Returns:
        ``(table, column)``, e.g. ``("nb201:cifar10", "valid_acc")``, ``("table:runs/a:b.csv",
        "acc")`` or ``("natsbench:~/.torch:cifar100:200", "test_acc")``.

    Raises:
        InvalidInputError: A malformed spec (the message names the expected form).
    """
    kind, _, body = str(spec).partition(":")
    if kind == "natsbench":
        path, dataset, metric, hp = _natsbench_parts(body, spec, with_metric=True)
        return f"natsbench:{path}:{dataset}:{hp}", metric
    if kind not in ("table", "nb201"):
        raise InvalidInputError(f"unknown column spec {spec!r}; use one of {', '.join(COLUMN_SPECS)}")
    source, sep, column = str(spec).rpartition(":")
    if not sep or not column or not source.partition(":")[2]:
        form = "table:CSV:COLUMN" if kind == "table" else "nb201:cifar10:COLUMN or nb201:latency:DEVICE"
        raise InvalidInputError(f"malformed column spec {spec!r}: expected {form}")
    if kind == "nb201" and source not in PACKAGED_TABLES:
        raise InvalidInputError(f"unknown packaged table {source!r} in {spec!r}; packaged tables: "
                                f"{', '.join(PACKAGED_TABLES)} (e.g. nb201:cifar10:valid_acc, nb201:latency:pixel3)")
    return source, column


def open_column(spec: str, *, progress: bool | None = None) -> tuple[BenchmarkTable, str]:
    """The table and column a column spec (:data:`COLUMN_SPECS`) names, the column checked.

    Args:
        spec: ``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN``, ``nb201:latency:DEVICE`` or
            ``natsbench:PATH:DATASET:METRIC[:HP]``.
        progress: Show a progress bar while a NATS-Bench archive is read the first time
            (``None``: when stderr is a terminal).

    Returns:
        ``(table, column)``.

    Raises:
        InvalidInputError: A malformed spec, or a column the table does not have (the
            message lists its columns).
        DataNotFoundError: The file or archive does not exist.

    Example:
        >>> table, column = open_column("nb201:latency:pixel3")
        >>> table.values(archs, column)          # ms
    """
    source, column = split_column_spec(spec)
    table = open_table(source, progress=progress)
    if column not in table.columns:
        raise InvalidInputError(f"{spec!r}: the table has no column {column!r}; its columns: "
                                f"{', '.join(table.columns) or '(none)'}")
    return table, column


def _natsbench_parts(body: str, spec: str, *, with_metric: bool) -> tuple[str, str, str | None, str]:
    """``PATH:DATASET[:METRIC][:HP]`` -> ``(PATH, DATASET, METRIC, HP)``, split from the right."""
    from gcnas.data.natsbench import HPS

    form = "natsbench:PATH:DATASET:METRIC[:HP]" if with_metric else "natsbench:PATH:DATASET[:HP]"
    parts = body.rsplit(":", 3 if with_metric else 2)
    hp = parts.pop() if len(parts) > 1 and parts[-1] in HPS else "200"
    metric = parts.pop() if with_metric and len(parts) > 1 else None
    if len(parts) < 2 or not parts[-1] or (with_metric and not metric):
        raise InvalidInputError(f"malformed NATS-Bench spec {spec!r}: expected {form} (PATH: the "
                                "NATS-tss-v1_0-3ffb9-simple directory or the one holding it; empty: $TORCH_HOME)")
    return ":".join(parts[:-1]), parts[-1], metric, hp


def _natsbench(body: str, spec: str, *, progress: bool | None) -> BenchmarkTable:
    """The cached table of ``PATH:DATASET[:HP]``."""
    from gcnas.data.natsbench import NATSBench

    path, dataset, _, hp = _natsbench_parts(body, spec, with_metric=False)
    bench = NATSBench(Path(path).expanduser() if path else None, dataset=dataset, hp=hp)
    return bench.cached_table(progress=sys.stderr.isatty() if progress is None else progress)
