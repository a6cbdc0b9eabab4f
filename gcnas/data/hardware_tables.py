"""Published latency and energy tables of NAS-Bench-201, each read in its own format.

- :class:`LatencyTable`: a benchmark CSV ``index,arch,<device columns>`` (milliseconds;
  the same format holds energies in mJ), e.g. ``shared/data/nb201/nb201_latency_ms.csv``
  (HELP / HW-NAS-Bench figures) or the packaged ``nb201:latency``. A user's own file may
  have only ``arch`` or only ``index`` and any subset of the cells.
- :class:`HELPLatency`: HELP's folder ``latency/<device>.pt`` (one list of latencies in
  ms per device, ordered by official index) plus ``str_arch2idx.pt`` (arch string ->
  index).
- :class:`BRPLatency`: a BRP-NAS / Eagle pickle ``{(6 op ids): seconds}``; the op ids are
  in NATS-Bench string order with ``none=0 .. avg_pool_3x3=4``, i.e. ``NB201.to_decisions(cell)``.
- :class:`HWNASBench`: the official ``HW-NAS-Bench-v1_0.pickle``, read as
  ``d["nasbench201"][dataset][metric][index]``; latencies in ms, energies in mJ.

Every reader answers ``values(archs, ...) -> (n,) float64`` and raises
:class:`~gcnas.exceptions.DataNotFoundError` naming the architectures it lacks: absent
data is never returned as zero, nor as NaN unless the caller asks for it
(``LatencyTable.cost(..., missing=np.nan)``, for tables that cover only some cells). The ``write_*`` functions write the same formats
(fixtures for tests, conversions).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from gcnas.data.benchmark import BenchmarkTable
from gcnas.data.store import atomic_write
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.data.benchmark import NB201, NB201_CELLS
from gcnas.spaces import decision_index, from_decision_index

__all__ = [
    "HWNB_DATASETS",
    "HWNB_METRICS",
    "BRPLatency",
    "HELPLatency",
    "HWNASBench",
    "LatencyTable",
    "table_costs",
    "write_brp_latency",
    "write_help_latency",
    "write_hwnasbench",
]

HWNB_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
"""The dataset keys of the HW-NAS-Bench pickle (exact spelling)."""

HWNB_METRICS: dict[str, tuple[str, ...]] = {
    "latency": ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga"),
    "energy": ("edgegpu", "eyeriss", "fpga"),
}
"""HW-NAS-Bench devices per quantity; the metric key is ``f"{device}_{quantity}"``."""


def _missing_error(where: str, codes: np.ndarray, hint: str) -> DataNotFoundError:
    examples = [str(from_decision_index(NB201, int(c))) for c in codes[:3]]
    return DataNotFoundError(f"{len(codes)} architecture(s) have no value in {where}, e.g. {examples}; {hint}")


class _CodeTable:
    """Values stored by intrinsic arch code, NaN where absent; shared lookup logic."""

    where: str

    def _lookup(self, values: np.ndarray, archs: Iterable[Any], hint: str) -> np.ndarray:
        codes = np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64)
        out = values[codes]
        missing = np.isnan(out)
        if missing.any():
            raise _missing_error(self.where, codes[missing], hint)
        return out


def _by_code(archs: Sequence[Any], values: Sequence[float], where: str) -> np.ndarray:
    table = np.full(NB201_CELLS, np.nan)
    for arch, value in zip(archs, values):
        try:
            table[decision_index(NB201, arch)] = float(value)
        except (TypeError, ValueError):
            raise CorruptFileError(f"{where}: value {value!r} of {arch} is not a number") from None
    return table


# -- CSV ---------------------------------------------------------------------------------


class LatencyTable(BenchmarkTable):
    """Latency per device (ms) from the benchmark CSV format ``index,arch,<devices>``.

    The same format serves energy per device (mJ): :meth:`cost` reads any column. The
    file may have only one key column and any subset of the cells (see
    :class:`BenchmarkTable`); a cell without a value is missing, never zero.

    Args:
        path: The CSV file; each metric column is one device.
        index_table: Maps the official order for a file with only ``index`` or ``arch``.

    Example:
        >>> table = LatencyTable("../shared/data/nb201/nb201_latency_ms.csv")
        >>> table.devices
        ['gold_6240', '1080ti_1', 'pixel3', 'fpga', 'eyeriss']
        >>> table.latency(table.archs[:3], "pixel3")      # (3,) ms
        >>> LatencyTable("mydevice.csv").latency(archs, "mydevice", missing=np.nan)  # NaN: not measured
    """

    @property
    def devices(self) -> list[str]:
        """The device columns."""
        return self.columns

    def latency(self, archs: Sequence[Any], device: str, *, missing: float | None = None) -> np.ndarray:
        """Latency in ms of ``archs`` on ``device`` (see :meth:`cost`)."""
        return self.cost(archs, device, missing=missing)

    def cost(self, archs: Sequence[Any], column: str, *, missing: float | None = None) -> np.ndarray:
        """One device column (latency ms, energy mJ) for many architectures (:func:`table_costs`)."""
        return table_costs(self, archs, column, missing=missing)


def table_costs(table: BenchmarkTable, archs: Sequence[Any], column: str, *,
                missing: float | None = None) -> np.ndarray:
    """One cost column of any benchmark table; a cell without a value is missing, never zero.

    Args:
        table: The table (it may cover any subset of the cells).
        archs: Architectures.
        column: The device column (latency ms, energy mJ).
        missing: Value for a cell the table lacks (no row, or an empty cell); ``None``: raise.

    Returns:
        ``(n,)`` float64 in the order of ``archs``.

    Raises:
        InvalidInputError: ``column`` is not a column of the table.
        DataNotFoundError: Some cell has no value (when ``missing`` is None); the message
            counts them, names a few and says how many cells the table covers.

    Example:
        >>> table_costs(BenchmarkTable("mydevice.csv"), archs, "mydevice", missing=np.nan)
    """
    where = table.path or "(in memory)"
    if column not in table.columns:
        raise InvalidInputError(f"unknown device {column!r} in table {where}; "
                                f"devices: {', '.join(table.columns) or '(none)'}")
    archs = list(archs)
    values = table.values(archs, column, missing=np.nan)
    absent = np.isnan(values)
    if absent.any():
        if missing is None:
            codes = np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64, count=len(archs))
            covered = int(np.isfinite(table.column(column)).sum())
            raise _missing_error(f"{where} column {column!r}", codes[absent],
                                 f"the table does not cover them (it has a value for {covered} of {NB201_CELLS} "
                                 "cells; empty cells count as missing). `gcnas lut build` and `gcnas search run` "
                                 "accept such a table and keep to the cells it covers")
        values[absent] = missing
    return values


# -- HELP --------------------------------------------------------------------------------


class HELPLatency(_CodeTable):
    """HELP's NAS-Bench-201 latency folder (``latency/<device>.pt``, ms, by official index).

    Args:
        root: The folder holding ``latency/`` (HELP's ``data/nasbench201``).
        index_table: Maps official index -> architecture when the folder has no
            ``str_arch2idx.pt`` (any :class:`BenchmarkTable` of the space).

    Example:
        >>> help_data = HELPLatency("HELP/data/nasbench201")
        >>> help_data.devices[:3]
        >>> help_data.latency(archs, "gold_6240")
    """

    def __init__(self, root: str | os.PathLike, index_table: BenchmarkTable | None = None) -> None:
        import torch

        self.root = Path(root)
        latency_dir = self.root / "latency"
        if not latency_dir.is_dir():
            raise DataNotFoundError(f"HELP folder {str(self.root)!r} has no latency/ subfolder; pass "
                                    "HELP's data/nasbench201 folder (latency/<device>.pt files)")
        self.where = str(latency_dir)
        self._files = {p.stem: p for p in sorted(latency_dir.glob("*.pt"))}
        if not self._files:
            raise DataNotFoundError(f"{latency_dir} holds no <device>.pt files")
        mapping_file = self.root / "str_arch2idx.pt"
        if mapping_file.is_file():
            mapping = _torch_load(mapping_file, torch)
            if not isinstance(mapping, Mapping):
                raise CorruptFileError(f"{mapping_file}: expected a dict arch string -> index, "
                                       f"got {type(mapping).__name__}")
            self._archs = [None] * NB201_CELLS
            for text, index in mapping.items():
                try:
                    self._archs[int(index)] = NB201.parse(str(text))
                except (ValueError, IndexError) as error:
                    raise CorruptFileError(f"{mapping_file}: {error}. Is this HELP's NAS-Bench-201 "
                                           "folder (not FBNet or OFA)?") from None
        elif index_table is not None:
            self._archs = [None] * NB201_CELLS
            for index, arch in zip(index_table.indices, index_table.archs):
                self._archs[int(index)] = arch
        else:
            raise DataNotFoundError(f"{self.root} has no str_arch2idx.pt to map official indices to "
                                    "architectures; pass index_table= (a BenchmarkTable of the space)")
        self._cache: dict[str, np.ndarray] = {}

    @property
    def devices(self) -> list[str]:
        """Devices with a ``latency/<device>.pt`` file."""
        return list(self._files)

    def _device_values(self, device: str) -> np.ndarray:
        if device not in self._files:
            raise InvalidInputError(f"unknown HELP device {device!r}; devices in {self.where}: "
                                    f"{', '.join(self.devices)}")
        if device not in self._cache:
            import torch

            values = _torch_load(self._files[device], torch)
            try:
                values = [float(v) for v in values]
            except (TypeError, ValueError):
                raise CorruptFileError(f"{self._files[device]}: expected a list of latencies") from None
            if len(values) > NB201_CELLS:
                raise CorruptFileError(f"{self._files[device]} lists {len(values)} latencies, more than the "
                                       f"{NB201_CELLS} architectures of NAS-Bench-201 (a file of another space?)")
            # indices the mapping does not know stay absent (reported as missing when asked for)
            known = [(a, v) for a, v in zip(self._archs, values) if a is not None]
            archs, kept = [a for a, _ in known], [v for _, v in known]
            self._cache[device] = _by_code(archs, kept, str(self._files[device]))
        return self._cache[device]

    def latency(self, archs: Sequence[Any], device: str) -> np.ndarray:
        """Latency in ms of ``archs`` on a HELP device."""
        return self._lookup(self._device_values(device), archs,
                            f"{self._files.get(device)} lists fewer architectures")


def write_help_latency(root: str | os.PathLike, index_archs: Sequence[Any],
                       latencies: Mapping[str, Sequence[float]]) -> Path:
    """Write HELP's format: ``latency/<device>.pt`` lists and ``str_arch2idx.pt``.

    Args:
        root: Folder to create.
        index_archs: Architecture at each official index ``0..n-1``.
        latencies: Device -> one latency (ms) per index.

    Returns:
        ``root``.
    """
    import torch

    root = Path(root)
    (root / "latency").mkdir(parents=True, exist_ok=True)
    torch.save({str(a): i for i, a in enumerate(index_archs)}, root / "str_arch2idx.pt")
    for device, values in latencies.items():
        torch.save([float(v) for v in values], root / "latency" / f"{device}.pt")
    return root


def _torch_load(path: Path, torch: Any) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise CorruptFileError(f"{path} cannot be read with torch.load: {error}") from None


# -- BRP-NAS / Eagle ---------------------------------------------------------------------


class BRPLatency(_CodeTable):
    """A BRP-NAS / Eagle latency pickle ``{(6 op ids): seconds}``, returned in ms.

    Args:
        path: e.g. ``desktop-cpu-core-i7-7820x-fp32.pickle``.

    Example:
        >>> table = BRPLatency("desktop-cpu-core-i7-7820x-fp32.pickle")
        >>> table.latency(archs)      # ms
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        data = _read_pickle(self.path, "BRP-NAS / Eagle latency pickle")
        if not isinstance(data, Mapping):
            raise CorruptFileError(f"{self.path}: expected a dict {{(6 op ids): seconds}}, "
                                   f"got {type(data).__name__}")
        archs, values = [], []
        for key, seconds in data.items():
            try:
                archs.append(NB201.from_decisions(list(key)))
            except (TypeError, ValueError) as error:
                raise CorruptFileError(f"{self.path}: key {key!r} is not a NAS-Bench-201 arch vector "
                                       f"({error}); is this a pickle of another search space?") from None
            values.append(seconds)
        self._values = _by_code(archs, values, self.where) * 1e3

    def __len__(self) -> int:
        return int((~np.isnan(self._values)).sum())

    def latency(self, archs: Sequence[Any]) -> np.ndarray:
        """Latency in ms (the pickle stores seconds)."""
        return self._lookup(self._values, archs, "the pickle does not list them")


def write_brp_latency(path: str | os.PathLike, archs: Sequence[Any], latency_ms: Sequence[float]) -> Path:
    """Write the BRP-NAS / Eagle format ``{arch.ops: seconds}``."""

    data = {tuple(NB201.to_decisions(a)): float(v) / 1e3 for a, v in zip(archs, latency_ms)}
    return atomic_write(path, pickle.dumps(data))


def _read_pickle(path: Path, what: str) -> Any:
    if not path.is_file():
        raise DataNotFoundError(f"{what} {str(path)!r} does not exist")
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)  # trusted: HW-NAS-Bench / BRP-NAS ship only as pickles (README, Security)
    except Exception as error:  # unpickling raises many types for a damaged file
        raise CorruptFileError(f"{path} is not a readable {what}: {type(error).__name__}: {error}") from None


# -- HW-NAS-Bench ------------------------------------------------------------------------


def _dataset_key(dataset: str) -> str:
    for key in HWNB_DATASETS:
        if key.lower() == str(dataset).lower():
            return key
    raise InvalidInputError(f"unknown HW-NAS-Bench dataset {dataset!r}; choose one of {', '.join(HWNB_DATASETS)}")


class HWNASBench(_CodeTable):
    """The official HW-NAS-Bench pickle, NAS-Bench-201 part.

    Args:
        path: ``HW-NAS-Bench-v1_0.pickle``.
        index_table: Maps official index -> architecture when the pickle carries no
            ``config`` entries with ``arch_str`` (any :class:`BenchmarkTable` of the space).

    Example:
        >>> hw = HWNASBench("HW-NAS-Bench-v1_0.pickle")
        >>> hw.query(0, "cifar10")["pixel3_latency"]
        3.60585
        >>> hw.values(archs, "fpga_energy", "cifar10")     # (n,) mJ
    """

    def __init__(self, path: str | os.PathLike, index_table: BenchmarkTable | None = None) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        data = _read_pickle(self.path, "HW-NAS-Bench pickle")
        if not isinstance(data, Mapping) or not isinstance(data.get("nasbench201"), Mapping):
            keys = list(data)[:5] if isinstance(data, Mapping) else type(data).__name__
            raise CorruptFileError(f"{self.path}: expected d['nasbench201'][dataset][metric][index], "
                                   f"found top level {keys}")
        self._data = data["nasbench201"]
        self._index_table = index_table
        self._index_archs: dict[str, list[Any | None]] = {}
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    @property
    def datasets(self) -> list[str]:
        """Datasets present in the file."""
        return [d for d in HWNB_DATASETS if d in self._data]

    def metrics(self, dataset: str = "cifar10") -> list[str]:
        """Metric keys present for a dataset (``config`` excluded)."""
        return [m for m in self._section(dataset) if m != "config"]

    def _section(self, dataset: str) -> Mapping[str, Any]:
        key = _dataset_key(dataset)
        if key not in self._data:
            raise DataNotFoundError(f"{self.path} has no dataset {key!r}; it has {', '.join(self._data)}")
        return self._data[key]

    def _archs_by_index(self, dataset: str) -> list[Any | None]:
        key = _dataset_key(dataset)
        if key in self._index_archs:
            return self._index_archs[key]
        configs = self._section(dataset).get("config")
        if configs is not None:
            archs = []
            for index, config in enumerate(configs):
                text = config.get("arch_str") if isinstance(config, Mapping) else None
                try:
                    archs.append(NB201.parse(text))
                except ValueError as error:
                    raise CorruptFileError(f"{self.path}: config of index {index} ({key}): {error}. "
                                           "Is this the NAS-Bench-201 part of HW-NAS-Bench?") from None
        elif self._index_table is not None:
            archs = [None] * NB201_CELLS
            for index, arch in zip(self._index_table.indices, self._index_table.archs):
                archs[int(index)] = arch
        else:
            raise DataNotFoundError(f"{self.path} carries no 'config' entries to map official indices to "
                                    "architectures; pass index_table= (a BenchmarkTable of the space)")
        self._index_archs[key] = archs
        return archs

    def _column(self, metric: str, dataset: str) -> list[float]:
        section = self._section(dataset)
        if metric not in section or metric == "config":
            raise InvalidInputError(f"unknown HW-NAS-Bench metric {metric!r} for {_dataset_key(dataset)}; "
                                    f"metrics: {', '.join(self.metrics(dataset))}")
        return section[metric]

    def query(self, index: int, dataset: str = "cifar10") -> dict[str, float]:
        """Every metric of one official index, as the official API's ``query_by_index``."""
        section = self._section(dataset)
        out = {}
        for metric in self.metrics(dataset):
            try:
                out[metric] = float(section[metric][index])
            except (IndexError, KeyError, TypeError):
                raise DataNotFoundError(f"{self.path}: {metric} has no entry for index {index}") from None
        return out

    def values(self, archs: Sequence[Any], metric: str, dataset: str = "cifar10") -> np.ndarray:
        """One metric for many architectures (latency ms, energy mJ).

        Args:
            archs: Architectures.
            metric: e.g. ``"pixel3_latency"``, ``"fpga_energy"``.
            dataset: ``cifar10``, ``cifar100`` or ``ImageNet16-120``.

        Returns:
            ``(n,)`` float64.
        """
        key = (_dataset_key(dataset), metric)
        if key not in self._cache:
            column = self._column(metric, dataset)
            archs_by_index = self._archs_by_index(dataset)
            if len(column) > NB201_CELLS:
                raise CorruptFileError(f"{self.path}: {metric} lists {len(column)} values, more than the "
                                       f"{NB201_CELLS} architectures of NAS-Bench-201")
            # indices the mapping does not know stay absent (reported as missing when asked for)
            known = [(a, v) for a, v in zip(archs_by_index, column) if a is not None]
            self._cache[key] = _by_code([a for a, _ in known], [v for _, v in known], self.where)
        return self._lookup(self._cache[key], archs, f"{metric} ({key[0]}) does not cover them")

    def device_metric(self, device: str, quantity: str) -> str:
        """The metric key of ``device`` for ``quantity`` (``latency`` / ``energy``), checked."""
        if quantity not in HWNB_METRICS:
            raise InvalidInputError(f"unknown quantity {quantity!r}; choose latency or energy")
        if device not in HWNB_METRICS[quantity]:
            raise InvalidInputError(f"HW-NAS-Bench has no {quantity} for device {device!r}; devices with "
                                    f"{quantity}: {', '.join(HWNB_METRICS[quantity])}")
        return f"{device}_{quantity}"


def write_hwnasbench(path: str | os.PathLike, index_archs: Sequence[Any],
                     metrics: Mapping[str, Mapping[str, Sequence[float]]], *, with_config: bool = True) -> Path:
    """Write the official HW-NAS-Bench layout ``d["nasbench201"][dataset][metric][index]``.

    Args:
        path: The pickle to write.
        index_archs: Architecture at each official index ``0..n-1``.
        metrics: Dataset -> metric -> one value per index.
        with_config: Also write ``config[index]`` dicts (``arch_str``, ``C``, ``N``,
            ``num_classes``) as the official file does.

    Returns:
        ``path``.
    """

    classes = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
    data: dict[str, Any] = {"nasbench201": {}}
    for dataset, columns in metrics.items():
        key = _dataset_key(dataset)
        section = {metric: [float(v) for v in values] for metric, values in columns.items()}
        if with_config:
            section["config"] = [{"name": "infer.tiny", "C": 16, "N": 5, "arch_str": str(a),
                                  "num_classes": classes[key]} for a in index_archs]
        data["nasbench201"][key] = section
    return atomic_write(path, pickle.dumps(data))

