"""One entry point for every cost: :func:`cost_table` (many archs) and :func:`costs` (one).

Params and FLOPs are always computed. Latency and energy come from a *source spec*, a
string the CLI passes through unchanged:

=============================  ========================================================
latency spec                   meaning
=============================  ========================================================
``CSV:COLUMN``                 a latency CSV (``index,arch,<devices>``, ms), one column;
                               also ``table:CSV:COLUMN``
``nb201:latency:DEVICE``       the packaged HW-NAS-Bench latency (pixel3, fpga, eyeriss)
``natsbench:PATH:DS:latency_ms``  NATS-Bench's latency column (any column spec of
                               :mod:`gcnas.data.table_specs`)
``measured`` / ``measured:D``  measured here by ``gcnas hw measure`` (store, device D)
``hwnb:PICKLE:DEVICE``         HW-NAS-Bench pickle, ``DEVICE_latency`` (ms)
``help:DIR:DEVICE``            HELP's ``latency/<DEVICE>.pt`` folder (ms)
``brp:PICKLE``                 BRP-NAS / Eagle pickle (seconds, returned in ms)
``imc``                        the in-memory-computing crossbar model
                               (:mod:`gcnas.hardware.imc`, default ``IMCConfig``), any space
=============================  ========================================================

=============================  ========================================================
energy spec                    meaning
=============================  ========================================================
``model`` / ``model:int8``     the analytic estimate (:mod:`gcnas.hardware.energy`)
``CSV:COLUMN``                 an energy CSV (``index,arch,<devices>``, mJ), one column;
                               also ``table:CSV:COLUMN`` and every column spec
``hwnb:PICKLE:DEVICE``         HW-NAS-Bench ``DEVICE_energy`` (mJ; edgegpu, eyeriss, fpga)
``measured`` / ``measured:D``  NVML-measured energy stored by ``gcnas hw measure --energy``
``imc``                        the in-memory-computing crossbar model (µJ, returned in mJ)
=============================  ========================================================

Absent data raises :class:`~gcnas.exceptions.DataNotFoundError` naming what is missing
and how to get it; no value is ever silently zero. A table (CSV or column spec) may hold
only some cells (keyed by ``arch`` or ``index`` alone): ``cost_table(..., missing=np.nan)``
then returns NaN for the cells it lacks (the lookup table stores them as missing).
"""

from __future__ import annotations

import functools
import inspect
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from gcnas.data.hardware_tables import BRPLatency, HELPLatency, HWNASBench, LatencyTable, table_costs
from gcnas.data.store import RunStore
from gcnas.data.table_specs import is_column_spec, open_column
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.data.images import dataset_shape
from gcnas.hardware.energy import EnergyModel
from gcnas.hardware.latency import measurement_key
from gcnas.spaces import DEFAULT_SPACE, costs_many, resolve_space

__all__ = ["check_costs", "cost_table", "costs", "LATENCY_SPECS", "ENERGY_SPECS"]

SPACE = DEFAULT_SPACE
"""The default space of :func:`cost_table` (through the registry); the published tables are NAS-Bench-201's."""


def _shape(space: Any, num_classes: int, input_size: int) -> dict[str, int]:
    """The dataset's shape, as far as ``space.costs`` takes it (NB201: classes and input size)."""
    parameters = inspect.signature(space.costs).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {"num_classes": num_classes, "input_size": input_size}
    return {k: v for k, v in (("num_classes", num_classes), ("input_size", input_size)) if k in parameters}

LATENCY_SPECS = ("CSV:COLUMN", "nb201:latency:DEVICE", "measured[:DEVICE]", "hwnb:PICKLE:DEVICE", "help:DIR:DEVICE",
                 "brp:PICKLE", "imc")
ENERGY_SPECS = ("model[:fp32|int8]", "CSV:COLUMN", "hwnb:PICKLE:DEVICE", "measured[:DEVICE]", "imc")


@functools.lru_cache(maxsize=65536)
def _imc_figures(space: Any, text: str, num_classes: int, input_size: int) -> tuple[float, float]:
    """``(latency_ms, energy_uj)`` of the crossbar model on the space's default network shape at the
    dataset's classes and input size (cached per architecture: a space that lists its layers is
    costed from their shapes, any other by building and tracing its network once)."""
    from gcnas.hardware.imc import imc_costs_of

    figures = imc_costs_of(space, space.parse(text), input_size=input_size, num_classes=num_classes)
    return figures.latency_ms, figures.energy_uj


def _imc_source(column: int, scale: float, dataset: str, space: Any) -> Callable[[Sequence[Any]], np.ndarray]:
    num_classes, size = dataset_shape(dataset)
    return lambda archs: np.array([_imc_figures(space, space.format(a), num_classes, size)[column] * scale
                                   for a in archs], dtype=np.float64)


@functools.lru_cache(maxsize=16)
def _open_cached(kind: type, path: str, stamp: int) -> object:
    return kind(path)


def _open(kind: type, path: str) -> object:
    """Read a table once per file version (re-read when the file changes)."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return kind(path)  # the reader raises its own clear "does not exist"
    return _open_cached(kind, str(Path(path).resolve()), stamp)


def _split_path(body: str, spec: str, what: str) -> tuple[str, str]:
    """``PATH:NAME`` -> (PATH, NAME), splitting at the last colon (paths may hold colons)."""
    path, sep, name = body.rpartition(":")
    if not sep or not path or not name:
        raise InvalidInputError(f"malformed {what} spec {spec!r}: expected PATH:{what.upper()}")
    return path, name


def _measured(store: RunStore | None, metric: str, spec: str, dataset: str,
              space: Any = SPACE) -> Callable[[Sequence[Any]], np.ndarray]:
    device = spec.partition(":")[2] or "cpu"
    if store is None:
        raise InvalidInputError(f"{metric} source {spec!r} reads the run store; pass store= "
                                "(the run directory where `gcnas hw measure` wrote it)")
    key = measurement_key(device, dataset=dataset)

    def read(archs: Sequence[Any]) -> np.ndarray:
        stored = store.costs(metric, key)  # (the store keys rows by architecture)
        missing = [a for a in archs if a not in stored]
        if missing:
            flag = (" --energy" if metric == "energy_mj" else "") + (
                f" --dataset {dataset}" if dataset.lower() != "cifar10" else "")
            raise DataNotFoundError(
                f"{len(missing)} of {len(archs)} architecture(s) have no measured {metric} on {key!r} in "
                f"{store.run_dir}, e.g. {[str(a) for a in missing[:2]]}; run `gcnas hw measure --run "
                f"{store.run_dir} --device {device}{flag} --all` (or --num K) first")
        return np.array([stored[a][0] for a in archs], dtype=np.float64)

    return read


def _hwnb(body: str, spec: str, quantity: str, dataset: str) -> Callable[[Sequence[Any]], np.ndarray]:
    path, device = _split_path(body, spec, "device")
    hw = _open(HWNASBench, path)
    metric = hw.device_metric(device, quantity)
    return lambda archs: hw.values(archs, metric, dataset)


def _table_source(spec: str, missing: float | None) -> Callable[[Sequence[Any]], np.ndarray]:
    """A column of a table: ``CSV:COLUMN`` (read once per file version) or a column spec."""
    if is_column_spec(spec) and not spec.startswith("table:"):
        table, column = open_column(spec)
    else:
        path, column = _split_path(spec.removeprefix("table:"), spec, "column")
        table = _open(LatencyTable, os.path.expanduser(path))
    return lambda archs: table_costs(table, archs, column, missing=missing)


def _latency_source(spec: str, store: RunStore | None, dataset: str,
                    missing: float | None = None, space: Any = SPACE) -> Callable[[Sequence[Any]], np.ndarray]:
    kind, _, body = spec.partition(":")
    if spec == "measured" or kind == "measured":
        return _measured(store, "latency_ms", spec, dataset, space)
    if kind == "hwnb":
        return _hwnb(body, spec, "latency", dataset)
    if kind == "help":
        path, device = _split_path(body, spec, "device")
        table = _open(HELPLatency, path)
        return lambda archs: table.latency(archs, device)
    if kind == "brp":
        table = _open(BRPLatency, body)
        return table.latency
    if spec == "imc":
        return _imc_source(0, 1.0, dataset, resolve_space(space))
    if ":" in spec:
        return _table_source(spec, missing)
    raise InvalidInputError(f"unknown latency source {spec!r}; use one of {', '.join(LATENCY_SPECS)}")


def _energy_source(spec: str, store: RunStore | None, dataset: str,
                   missing: float | None = None, space: Any = SPACE) -> Callable[[Sequence[Any]], np.ndarray]:
    kind, _, body = spec.partition(":")
    if kind == "model":
        model = EnergyModel.preset(body or "fp32")
        num_classes, size = dataset_shape(dataset)
        return lambda archs: model.energy_mj(archs, num_classes=num_classes, input_size=size, space=space)
    if kind == "measured":
        return _measured(store, "energy_mj", spec, dataset, space)
    if kind == "hwnb":
        return _hwnb(body, spec, "energy", dataset)
    if spec == "imc":
        return _imc_source(1, 1e-3, dataset, resolve_space(space))
    if ":" in spec:
        return _table_source(spec, missing)
    raise InvalidInputError(f"unknown energy source {spec!r}; use one of {', '.join(ENERGY_SPECS)}")


def check_costs(values: Sequence[float], name: str, spec: str, missing: float | None = None) -> np.ndarray:
    """Refuse costs that no device has: NaN, infinite or negative values (a cost may be 0).

    The one check of latency and energy values, wherever they enter: ``cost_table`` (the
    lookup table) and the targets of a latency predictor (``gcnas predictor fit``).

    Args:
        values: ``(n,)`` costs.
        name: The cost, e.g. ``latency_ms``.
        spec: Where they come from (the source spec), named in the error.
        missing: ``np.nan``: NaN marks a cell the source lacks and is let through.

    Returns:
        ``values`` as float64.

    Raises:
        CorruptFileError: A value that is not finite, or below 0.
    """
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if missing is not None and np.isnan(missing):
        bad &= ~np.isnan(values)  # the cells the table lacks, asked for as NaN
    if bad.any():
        first = float(values[np.flatnonzero(bad)[0]])
        raise CorruptFileError(f"{name} from {spec!r} holds {int(bad.sum())} non-finite or negative value(s), e.g. "
                               f"{first}; a cost is a finite number >= 0: fix or remove those values")
    return values


def cost_table(archs: Sequence[Any], *, latency: str | None = None, energy: str | None = None,
               store: RunStore | None = None, dataset: str = "cifar10",
               missing: float | None = None, space: Any = SPACE) -> dict[str, np.ndarray]:
    """Every requested cost of many architectures, one float per architecture.

    Args:
        archs: Architectures.
        latency: A latency source spec (module docstring), or ``None`` for none.
        energy: An energy source spec, or ``None`` for none.
        store: The run store, needed by ``measured`` sources.
        dataset: ``cifar10``, ``cifar100`` or ``imagenet16-120``: sets the class count
            and input size of params/FLOPs/the energy model, and the HW-NAS-Bench dataset.
        missing: Value for a cell a latency/energy *table* lacks (``np.nan``: the lookup
            table marks it missing); ``None``: raise naming the cells. Other sources
            always raise.
        space: The cells' space (a :class:`~gcnas.spaces.SearchSpace` or its name): params and
            FLOPs are ``space.costs`` (at the dataset's classes and input size where the space's
            costs take them); the published tables and the energy model are NAS-Bench-201's.

    Returns:
        ``params_m`` and ``flops_m`` always; ``latency_ms`` when ``latency`` is given;
        ``energy_mj`` when ``energy`` is given. Each ``(n,)`` float64.

    Example:
        >>> table = cost_table(archs, latency="../shared/data/nb201/nb201_latency_ms.csv:pixel3",
        ...                    energy="model")
        >>> sorted(table)
        ['energy_mj', 'flops_m', 'latency_ms', 'params_m']
    """
    archs = list(archs)
    space = resolve_space(space)
    for arch in archs:
        try:
            space.format(arch)
        except (AttributeError, TypeError, ValueError):
            raise InvalidInputError(f"cost_table needs {space.name} architectures (the space's values, e.g. Arch values "
                                    f"of nb201, not strings: read those with space.parse), got {arch!r}") from None
    num_classes, size = dataset_shape(dataset)
    counted = costs_many(space, archs, **_shape(space, num_classes, size))
    out = {"params_m": counted["params"], "flops_m": counted["flops"]}
    if latency is not None:
        out["latency_ms"] = check_costs(_latency_source(str(latency), store, dataset, missing, space)(archs), "latency_ms",
                                        latency, missing)
    if energy is not None:
        out["energy_mj"] = check_costs(_energy_source(str(energy), store, dataset, missing, space)(archs), "energy_mj",
                                       energy, missing)
    return out


def costs(arch: Any, *, latency: str | None = None, energy: str | None = None,
          store: RunStore | None = None, dataset: str = "cifar10", space: Any = SPACE) -> dict[str, float]:
    """Every requested cost of one architecture (see :func:`cost_table`).

    Example:
        >>> costs(get_space("nb201").parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        ...                                "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"), energy="model")
        {'params_m': 1.531546, 'flops_m': 220.11969, 'energy_mj': ...}
    """
    table = cost_table([arch], latency=latency, energy=energy, store=store, dataset=dataset, space=space)
    return {key: float(values[0]) for key, values in table.items()}
