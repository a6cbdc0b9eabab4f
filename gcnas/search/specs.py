"""Objective specs as the command line writes them (``table:CSV:COLUMN``, ``lut``, ...).

A benchmark column is named by any form of :mod:`gcnas.data.table_specs`:
``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN`` / ``nb201:latency:DEVICE`` (packaged with
gcnas), ``natsbench:PATH:DATASET:METRIC[:HP]``. Such a table may cover only some cells: a
cell it lacks is NaN, and the search keeps to the cells that have a value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gcnas.data.store import RunStore
from gcnas.data.table_specs import COLUMN_SPECS, is_column_spec, open_column, split_column_spec
from gcnas.exceptions import InvalidInputError
from gcnas.search.objectives import CostObjective, LUTObjective, Objective, PredictorObjective, TableObjective

__all__ = ["objective_from_spec", "cost_objective", "COST_NAMES"]

COST_NAMES = {"latency": "latency_ms", "energy": "energy_mj", "params": "params_m", "flops": "flops_m"}
"""Short objective names of the CLI -> cost column names."""


_HARDWARE_KINDS = ("measured", "hwnb", "help", "brp", "model", "lut")
"""Latency / energy sources that are not a table column (``gcnas.hardware.cost_table`` reads them)."""


def _table(spec: str, name: str | None, maximize: bool, cheap: bool) -> TableObjective:
    try:
        source, column = split_column_spec(spec)
    except InvalidInputError as error:
        raise InvalidInputError(f"table spec must be one of {', '.join(COLUMN_SPECS)}: {error}") from None
    path = source[len("table:"):] if source.startswith("table:") else None
    if path is not None and not Path(path).expanduser().exists():
        raise InvalidInputError(f"benchmark table {path!r} (from {spec!r}) not found")
    table, column = open_column(spec)
    return TableObjective(name or column, maximize=maximize, table=table, column=column, cheap=cheap)


def objective_from_spec(spec: str, *, name: str | None = None, store: RunStore | None = None,
                        maximize: bool = True, column: str = "accuracy", cheap: bool = False) -> Objective:
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

    Returns:
        The objective.

    Example:
        >>> objective_from_spec("table:nb201_cifar10_200ep.csv:valid_acc", name="accuracy")
        >>> objective_from_spec("nb201:cifar10:valid_acc", name="accuracy")     # packaged, no download
    """
    if is_column_spec(spec):
        return _table(spec, name, maximize, cheap)
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

        return PredictorObjective(name or "accuracy", maximize=maximize, predictor=load_predictor(path),
                                  cheap=cheap)
    raise InvalidInputError(f"unknown objective source {spec!r}; use {', '.join(COLUMN_SPECS)}, lut[:COLUMN] "
                            "or predictor[:PATH]")


def cost_objective(short: str, *, latency: str | None = None, energy: str | None = None,
                   store: RunStore | None = None, **kwargs: Any) -> Objective:
    """A cost objective (minimised) by its short name: ``latency``, ``energy``, ``params``, ``flops``.

    Table columns (every form of :mod:`gcnas.data.table_specs`, and the bare ``CSV:COLUMN``
    of a latency or energy CSV) and ``lut`` read a table: a cell the table lacks is NaN, so
    a search over a table that covers only some cells keeps to those. Any other
    latency/energy spec is passed unchanged to ``gcnas.hardware.cost_table``
    (``measured``, ``hwnb:PICKLE:DEVICE``, ``model``). Costs are ``cheap``: searchers may
    look them up.
    """
    if short not in COST_NAMES:
        raise InvalidInputError(f"unknown objective {short!r}; choose accuracy, {', '.join(COST_NAMES)}")
    name = COST_NAMES[short]
    source = {"latency": latency, "energy": energy}.get(short)
    if source is not None and ":" in source and source.split(":")[0] not in _HARDWARE_KINDS \
            and not is_column_spec(source):
        source = f"table:{source}"  # a bare CSV:COLUMN is a table column too
    if source is not None and (is_column_spec(source) or source.split(":")[0] == "lut"):
        return objective_from_spec(source, name=name, store=store, maximize=False, column=name, cheap=True)
    return CostObjective(name, latency=latency, energy=energy, store=store, **kwargs)
