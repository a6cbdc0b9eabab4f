"""Helpers shared by the ``gcnas`` subcommands: common flags and output formats."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from typing import Any, Mapping, Sequence

__all__ = ["add_common", "emit", "format_table", "open_store", "resolve_arch"]


def add_common(parser: argparse.ArgumentParser, *, formats: Sequence[str] = ("table", "json")) -> None:
    """Add ``--run``, ``--seed`` and ``--format`` to a subcommand."""
    parser.add_argument("--run", default="runs/default", metavar="DIR",
                        help="run directory (holds config.json, checkpoints, gcnas.sqlite); default runs/default")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=list(formats), default=formats[0], help="output format")


def open_store(args: argparse.Namespace):
    """The run store of ``--run``."""
    from gcnas.data import RunStore

    return RunStore(args.run)


def resolve_arch(text: str, table: str | None = None):
    """An ``Arch`` from a string or code, or from an official index via ``--table``."""
    from gcnas.space import Arch

    if table is not None and text.strip().isdigit():
        from gcnas.data import BenchmarkTable

        return BenchmarkTable(table).arch(int(text))
    return Arch.parse(text)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return "-" if value is None else str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned text table."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def emit(rows: Sequence[Mapping[str, Any]] | Mapping[str, Any], fmt: str = "table",
         columns: Sequence[str] | None = None, out=None) -> None:
    """Print rows (or one record) as a table, JSON or CSV."""
    out = out or sys.stdout
    if isinstance(rows, Mapping):
        if fmt == "json":
            print(json.dumps(rows, indent=2, default=str), file=out)
            return
        rows = [{"field": k, "value": v} for k, v in rows.items()]
    if fmt == "json":
        print(json.dumps(list(rows), indent=2, default=str), file=out)
    elif fmt == "csv":
        buffer = io.StringIO()
        names = list(columns or (rows[0].keys() if rows else []))
        writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        print(buffer.getvalue(), end="", file=out)
    else:
        print(format_table(rows, columns), file=out)
