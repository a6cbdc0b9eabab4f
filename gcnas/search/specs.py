"""Objective specs as the command line writes them (``table:CSV:COLUMN``, ``lut``, ...).

A benchmark column is named by any form of :mod:`gcnas.data.table_specs`:
``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN`` / ``nb201:latency:DEVICE`` (packaged with
gcnas), ``natsbench:PATH:DATASET:METRIC[:HP]``. Such a table may cover only some cells: a
cell it lacks is NaN, and the search keeps to the cells that have a value. Every value a
column holds is checked when it is read (:mod:`gcnas.search.checks`); ``ranges`` (the CLI's
``--allow-range NAME:LOW:HIGH``, :func:`parse_value_ranges`) accepts other ranges.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from gcnas.data.store import RunStore
from gcnas.data.table_specs import COLUMN_SPECS, is_column_spec, open_column, split_column_spec
from gcnas.exceptions import InvalidInputError
from gcnas.search.base import DEFAULT_SPACE, resolve_space
from gcnas.search.objectives import CostObjective, LUTObjective, Objective, PredictorObjective, TableObjective

__all__ = ["objective_from_spec", "cost_objective", "parse_value_ranges", "check_ranges_used", "COST_NAMES"]

COST_NAMES = {"latency": "latency_ms", "energy": "energy_mj", "params": "params_m", "flops": "flops_m"}
"""Short objective names of the CLI -> cost column names."""


_HARDWARE_KINDS = ("measured", "hwnb", "help", "brp", "model", "lut")
"""Latency / energy sources that are not a table column (``gcnas.hardware.cost_table`` reads them)."""


def parse_value_ranges(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``--allow-range`` values, ``NAME:LOW:HIGH``, as ``{NAME: (low, high)}``.

    ``NAME`` is an objective's name (``accuracy``, ``latency_ms``) or a table column
    (``valid_acc``); ``LOW`` or ``HIGH`` may be empty (no bound); bounds are included.

    Example:
        >>> parse_value_ranges(["accuracy:0:1", "latency_ms:0:"])
        {'accuracy': (0.0, 1.0), 'latency_ms': (0.0, inf)}
    """
    ranges: dict[str, tuple[float, float]] = {}
    for text in texts:
        name, low, high = str(text).rsplit(":", 2) if str(text).count(":") >= 2 else ("", "", "")
        try:
            bounds = (float(low) if low.strip() else -math.inf, float(high) if high.strip() else math.inf)
        except ValueError:
            bounds = (math.nan, math.nan)
        if not name or any(math.isnan(b) for b in bounds) or bounds[0] > bounds[1]:
            raise InvalidInputError(f"--allow-range takes NAME:LOW:HIGH with LOW <= HIGH, either may be empty "
                                    f"(e.g. accuracy:0:1, latency_ms:0:), got {text!r}")
        if name in ranges:
            raise InvalidInputError(f"--allow-range names {name!r} twice")
        ranges[name] = bounds
    return ranges


def check_ranges_used(ranges: Mapping[str, tuple[float, float]], metrics: Sequence[Objective]) -> None:
    """Refuse a range that names no table column of the search (a misspelt name).

    Args:
        ranges: From :func:`parse_value_ranges`.
        metrics: Every objective, constraint metric and report column of the search.
    """
    names = {n for m in metrics if isinstance(m, TableObjective) for n in (m.name, m.column)}
    unused = [name for name in ranges if name not in names]
    if unused:
        raise InvalidInputError(f"--allow-range {unused[0]}: no table column of this search is called "
                                f"{unused[0]!r}; name one of {', '.join(sorted(names)) or '(none: no table columns)'}")


ARCH_COLUMNS = ("arch", "genotype")
"""Columns read as the cells of another space's table (``table:CSV:COLUMN``), first present wins."""


def _space_table(spec: str, space: Any, name: str | None, maximize: bool, cheap: bool,
                 ranges: Mapping[str, tuple[float, float]] | None) -> TableObjective:
    """``table:CSV:COLUMN`` of a space other than the default: a :class:`SpaceTable` (cells by ``space.key``)."""
    import csv

    from gcnas.search.space_table import SpaceTable

    if not spec.startswith("table:") or spec.count(":") < 2:
        raise InvalidInputError(f"space {space.name!r} reads its tables as table:CSV:COLUMN, got {spec!r}")
    path, column = spec[len("table:"):].rsplit(":", 1)
    if not Path(path).expanduser().exists():
        raise InvalidInputError(f"benchmark table {path!r} (from {spec!r}) not found")
    with Path(path).expanduser().open(newline="") as handle:
        header = next(csv.reader(handle), [])
    arch_column = next((c for c in ARCH_COLUMNS if c in header), None)
    if arch_column is None:
        raise InvalidInputError(f"benchmark table {path!r} has none of the columns {', '.join(ARCH_COLUMNS)} "
                                f"holding its {space.name} cells")
    table = SpaceTable(Path(path).expanduser(), space, arch_column=arch_column)
    ranges = ranges or {}
    return TableObjective(name or column, maximize=maximize, table=table, column=column, cheap=cheap,
                          value_range=ranges.get(name or column, ranges.get(column)))


def _table(spec: str, name: str | None, maximize: bool, cheap: bool,
           ranges: Mapping[str, tuple[float, float]] | None = None, space: Any = None) -> TableObjective:
    resolved = resolve_space(space)
    if resolved.name != DEFAULT_SPACE:
        return _space_table(spec, resolved, name, maximize, cheap, ranges)
    try:
        source, column = split_column_spec(spec)
    except InvalidInputError as error:
        raise InvalidInputError(f"table spec must be one of {', '.join(COLUMN_SPECS)}: {error}") from None
    path = source[len("table:"):] if source.startswith("table:") else None
    if path is not None and not Path(path).expanduser().exists():
        raise InvalidInputError(f"benchmark table {path!r} (from {spec!r}) not found")
    table, column = open_column(spec)
    ranges = ranges or {}
    value_range = ranges.get(name or column, ranges.get(column))
    return TableObjective(name or column, maximize=maximize, table=table, column=column, cheap=cheap,
                          value_range=value_range)


def objective_from_spec(spec: str, *, name: str | None = None, store: RunStore | None = None,
                        maximize: bool = True, column: str = "accuracy", cheap: bool = False,
                        trust_pickle: bool = False, ranges: Mapping[str, tuple[float, float]] | None = None,
                        space: Any = None) -> Objective:
    """An objective from a spec string.

    Args:
        spec: A benchmark table column (``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN``,
            ``nb201:latency:DEVICE``, ``natsbench:PATH:DATASET:METRIC[:HP]``), ``lut`` or
            ``lut:COLUMN`` (the run's lookup table), ``predictor`` or ``predictor:PATH`` (a
            saved predictor, default ``RUN/predictor.pt``).
        name: The objective's name (default: the column).
        store: The run store (for ``lut`` and ``predictor``).
        maximize: Direction.
        column: Default LUT column.
        cheap: Mark the objective free to look up for every candidate (a cost table).
        ranges: ``{name or column: (low, high)}``: the values a table column may hold, where
            its metric's range (:mod:`gcnas.search.checks`) is not the right one.
        trust_pickle: ``predictor``: also read a predictor file that is a full pickle (see
            :func:`gcnas.predictors.load_predictor`; only for a file from a trusted source).
        space: The searched space or its name (default NAS-Bench-201). In another space a
            table is ``table:CSV:COLUMN`` whose ``arch`` (or ``genotype``) column holds cells
            in the space's notation (:class:`~gcnas.search.space_table.SpaceTable`).

    Returns:
        The objective.

    Example:
        >>> objective_from_spec("table:nb201_cifar10_200ep.csv:valid_acc", name="accuracy")
        >>> objective_from_spec("nb201:cifar10:valid_acc", name="accuracy")     # packaged, no download
        >>> objective_from_spec("table:nb301_sample_cifar10.csv:val_accuracy", space="darts")
    """
    if is_column_spec(spec) or (resolve_space(space).name != DEFAULT_SPACE and spec.startswith("table:")):
        return _table(spec, name, maximize, cheap, ranges, space)
    kind, _, arg = spec.partition(":")
    if kind == "lut":
        if store is None:
            raise InvalidInputError("a lut objective needs a run (--run DIR)")
        return LUTObjective(name or arg or column, maximize=maximize, store=store, column=arg or column,
                            cheap=cheap)
    if kind == "predictor":
        if store is None and not arg:
            raise InvalidInputError("a predictor objective needs predictor:PATH or a run (--run DIR)")
        path = Path(arg) if arg else store.run_dir / "predictor.pt"
        if not path.exists():
            raise InvalidInputError(f"predictor {str(path)!r} not found; run `gcnas predictor fit` first")
        from gcnas.predictors import load_predictor

        return PredictorObjective(name or "accuracy", maximize=maximize,
                                  predictor=load_predictor(path, trust_pickle=trust_pickle), cheap=cheap)
    raise InvalidInputError(f"unknown objective source {spec!r}; use {', '.join(COLUMN_SPECS)}, lut[:COLUMN] "
                            "or predictor[:PATH]")


def cost_objective(short: str, *, latency: str | None = None, energy: str | None = None,
                   store: RunStore | None = None, ranges: Mapping[str, tuple[float, float]] | None = None,
                   **kwargs: Any) -> Objective:
    """A cost objective (minimised) by its short name: ``latency``, ``energy``, ``params``, ``flops``.

    Table columns (every form of :mod:`gcnas.data.table_specs`, and the bare ``CSV:COLUMN``
    of a latency or energy CSV) and ``lut`` read a table: a cell the table lacks is NaN, so
    a search over a table that covers only some cells keeps to those. Any other
    latency/energy spec is passed unchanged to ``gcnas.hardware.cost_table``
    (``measured``, ``hwnb:PICKLE:DEVICE``, ``model``). Costs are ``cheap``: searchers may
    look them up. ``ranges`` as for :func:`objective_from_spec` (table columns only).
    """
    if short not in COST_NAMES:
        raise InvalidInputError(f"unknown objective {short!r}; choose accuracy, {', '.join(COST_NAMES)}")
    name = COST_NAMES[short]
    source = {"latency": latency, "energy": energy}.get(short)
    if source is not None and ":" in source and source.split(":")[0] not in _HARDWARE_KINDS \
            and not is_column_spec(source):
        source = f"table:{source}"  # a bare CSV:COLUMN is a table column too
    if source is not None and (is_column_spec(source) or source.split(":")[0] == "lut"):
        return objective_from_spec(source, name=name, store=store, maximize=False, column=name, cheap=True,
                                   ranges=ranges)
    return CostObjective(name, latency=latency, energy=energy, store=store, **kwargs)
