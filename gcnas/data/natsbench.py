"""NATS-Bench (topology space) read through the official ``nats_bench`` API.

The fast-mode archive ``NATS-tss-v1_0-3ffb9-simple/`` is a directory holding
``meta.pickle.pbz2`` (``{"meta_archs": [arch strings in official index order],
"total_archs", "arch2infos": None, "evaluated_indexes"}``) and one file
``{index:06d}.pickle.pbz2`` per architecture: ``{"12": ArchResults.state_dict(),
"200": ...}`` (bz2-compressed pickles). :class:`NATSBench` opens it with
``nats_bench.create(path, "tss", fast_mode=True)`` and offers the lookups of
:class:`~gcnas.data.benchmark.BenchmarkTable` (arch <-> official index, ``value``,
``values``) plus ``to_table`` so everything downstream can use a ``BenchmarkTable``.

Which split each metric reads (the NATS-Bench convention, as ``find_best`` remaps it):

==================  ===================================  ==================
dataset             ``valid_*``                          ``test_*``
==================  ===================================  ==================
``cifar10-valid``   ``x-valid`` (half of CIFAR-10 train)  ``ori-test``
``cifar10``         cifar10-valid's ``x-valid``           ``ori-test``
``cifar100``        ``x-valid``                          ``x-test``
``ImageNet16-120``  ``x-valid``                          ``x-test``
==================  ===================================  ==================

Figures are the mean over the trials (seeds) after the last epoch of ``hp`` (12 or
200 epochs). ``params_m`` / ``flops_m`` are millions, ``latency_ms`` milliseconds
(NATS-Bench stores seconds; NaN where the archive has no latency).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from gcnas.data.benchmark import ArchLike, BenchmarkTable, _checked_index
from gcnas.exceptions import CorruptFileError, DataNotFoundError, GcnasWarning, InvalidInputError, NotInTableError
from gcnas.data.benchmark import NB201, NB201_CELLS, _is_cell
from gcnas.spaces import decision_index

__all__ = ["NATSBench", "ARCHIVE_NAME", "DATASETS", "HPS", "METRICS", "default_archive_path", "default_cache_dir"]

ARCHIVE_NAME = "NATS-tss-v1_0-3ffb9-simple"
"""The directory name of the official fast-mode topology archive."""

DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
HPS: tuple[str, ...] = ("12", "200")
METRICS: tuple[str, ...] = ("valid_acc", "test_acc", "valid_loss", "test_loss", "train_acc",
                            "train_loss", "params_m", "flops_m", "latency_ms")
_EXT = ".pickle.pbz2"
_LOAD_ERRORS = (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError, TypeError,
                AttributeError, IndexError, AssertionError, ImportError,
                OverflowError, MemoryError)  # (a damaged pickle may declare a string of absurd size)


def default_archive_path() -> Path:
    """Where NATS-Bench looks by default: ``$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple``.

    ``$TORCH_HOME`` defaults to ``~/.torch`` (the rule of ``nats_bench``).
    """
    home = os.environ.get("TORCH_HOME") or os.path.join(os.path.expanduser("~"), ".torch")
    return Path(home) / ARCHIVE_NAME


def default_cache_dir() -> Path:
    """Where :meth:`NATSBench.cached_table` keeps its tables: ``$GCNAS_CACHE_DIR/natsbench``,
    else ``~/.cache/gcnas/natsbench``."""
    base = os.environ.get("GCNAS_CACHE_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "gcnas") / "natsbench"


class NATSBench:
    """The NATS-Bench topology benchmark (15,625 cells), with ``BenchmarkTable`` lookups.

    Args:
        path: The ``NATS-tss-v1_0-3ffb9-simple`` directory, or a directory holding it.
            ``None``: :func:`default_archive_path` (``$TORCH_HOME``, default ``~/.torch``).
        dataset: Default dataset of ``value``/``values``/``to_table``, one of
            :data:`DATASETS` (case-insensitive).
        hp: Default training length, ``"12"`` or ``"200"`` epochs.

    Example:
        >>> bench = NATSBench("~/.torch/NATS-tss-v1_0-3ffb9-simple", dataset="cifar10")
        >>> arch = bench.arch(0)                     # official index -> Any
        >>> bench.value(arch, "test_acc")            # 200-epoch CIFAR-10 test accuracy, %
        >>> bench.values(archs, "valid_acc", dataset="cifar100", hp="12")   # (n,) float64
        >>> table = bench.to_table("cifar10", "200", ["valid_acc", "test_acc"])
    """

    def __init__(self, path: str | os.PathLike | None = None, *, dataset: str = "cifar10",
                 hp: str | int = "200") -> None:
        self.path = _archive_dir(path)
        self.dataset = _check_dataset(dataset)
        self.hp = _check_hp(hp)
        meta = self.path / f"meta{_EXT}"
        try:
            import nats_bench

            self.api = nats_bench.create(str(self.path), "tss", fast_mode=True, verbose=False)
        except _LOAD_ERRORS as error:
            raise CorruptFileError(f"NATS-Bench archive file {str(meta)!r} cannot be read "
                                   f"({type(error).__name__}: {error}); re-extract {ARCHIVE_NAME}") from None
        self._set_meta(self.api.meta_archs, meta)
        self._records: dict[tuple[int, str], dict[str, dict[str, float]]] = {}

    def _set_meta(self, meta_archs: Any, meta: Path) -> None:
        if not isinstance(meta_archs, (list, tuple)) or not 0 < len(meta_archs) <= NB201_CELLS:
            raise CorruptFileError(f"{meta}: 'meta_archs' must list up to {NB201_CELLS} arch strings")
        archs = []
        for index, text in enumerate(meta_archs):
            try:
                archs.append(NB201.parse(text))
            except ValueError as error:
                raise CorruptFileError(f"{meta}: meta_archs[{index}]: {error}") from None
        codes = np.fromiter((decision_index(NB201, a) for a in archs), dtype=np.int64, count=len(archs))
        self._archs = archs
        self._index_of_code = np.full(NB201_CELLS, -1, dtype=np.int64)
        self._index_of_code[codes] = np.arange(len(archs))
        if (self._index_of_code >= 0).sum() != len(archs):
            raise CorruptFileError(f"{meta}: meta_archs lists an architecture twice")

    # -- BenchmarkTable-like lookups ------------------------------------------------------

    def __len__(self) -> int:
        return len(self._archs)

    def __repr__(self) -> str:
        return f"NATSBench({str(self.path)!r}, archs={len(self)}, dataset={self.dataset!r}, hp={self.hp!r})"

    def __contains__(self, item: object) -> bool:
        try:
            self.index(item)  # type: ignore[arg-type]
        except (KeyError, ValueError):
            return False
        return True

    @property
    def columns(self) -> list[str]:
        """The metric names :meth:`value` accepts (:data:`METRICS`)."""
        return list(METRICS)

    @property
    def archs(self) -> list[Any]:
        """Every architecture in official index order."""
        return list(self._archs)

    def arch(self, index: int) -> Any:
        """The architecture at an official index."""
        index = _checked_index(index)
        if index >= len(self._archs):
            raise InvalidInputError(f"index {index} is out of range 0..{len(self._archs) - 1}")
        return self._archs[index]

    def index(self, arch: ArchLike) -> int:
        """The official index of an architecture (a cell, its string, or index)."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            self.arch(arch)
            return int(arch)
        if isinstance(arch, str):
            arch = NB201.parse(arch)
        if not _is_cell(arch):
            raise InvalidInputError(f"expected an Arch (a NAS-Bench-201 cell), arch string or index, got {arch!r}")
        index = int(self._index_of_code[decision_index(NB201, arch)])
        if index < 0:
            raise NotInTableError(f"{arch} is not in {self.path / f'meta{_EXT}'}")
        return index

    def available_indices(self) -> np.ndarray:
        """Official indices whose results file is present (all of them in the real archive)."""
        found = [int(name[:6]) for name in os.listdir(self.path)
                 if name.endswith(_EXT) and name[:6].isdigit() and len(name) == 6 + len(_EXT)]
        return np.array(sorted(i for i in found if i < len(self._archs)), dtype=np.int64)

    def value(self, arch: ArchLike, metric: str, *, dataset: str | None = None,
              hp: str | int | None = None) -> float:
        """One figure; ``arch`` is a cell, its string, or an official index.

        Args:
            arch: The architecture.
            metric: One of :data:`METRICS`.
            dataset: Overrides the default dataset.
            hp: Overrides the default training length (``"12"`` / ``"200"``).

        Returns:
            The figure (mean over the trials).
        """
        _check_metric(metric)
        return self.record(arch, dataset=dataset, hp=hp)[metric]

    def values(self, archs: Iterable[ArchLike], metric: str, *, dataset: str | None = None,
               hp: str | int | None = None) -> np.ndarray:
        """Vectorised :meth:`value`: ``(n,)`` float64 in the order of ``archs``."""
        _check_metric(metric)
        return np.array([self.record(a, dataset=dataset, hp=hp)[metric] for a in archs], dtype=np.float64)

    def record(self, arch: ArchLike, *, dataset: str | None = None,
               hp: str | int | None = None) -> dict[str, float]:
        """Every metric of one architecture on one dataset: ``{metric: value}``."""
        dataset = self.dataset if dataset is None else _check_dataset(dataset)
        hp = self.hp if hp is None else _check_hp(hp)
        index = self.index(arch)
        records = self._load(index, hp)
        if dataset not in records:
            raise CorruptFileError(f"{self._file(index)} has no {dataset} results at hp={hp} "
                                   f"(it has {', '.join(records) or 'none'})")
        return dict(records[dataset])

    def to_table(self, dataset: str | None = None, hp: str | int | None = None,
                 metrics: Sequence[str] | None = None, *, archs: Iterable[ArchLike] | None = None,
                 progress: bool = True) -> BenchmarkTable:
        """The figures as a :class:`BenchmarkTable` (``index``, ``arch``, one column per metric).

        Args:
            dataset: One of :data:`DATASETS` (default: the instance's).
            hp: ``"12"`` or ``"200"`` (default: the instance's).
            metrics: Columns to include (default: all of :data:`METRICS`).
            archs: Rows to include (default: every index with a results file).
            progress: Show progress (reading 15,625 files takes minutes).

        Returns:
            The table, rows in official index order when ``archs`` is ``None``.
        """
        from gcnas.progress import progress as show_progress

        metrics = list(METRICS if metrics is None else metrics)
        for metric in metrics:
            _check_metric(metric)
        indices = (self.available_indices() if archs is None
                   else np.array([self.index(a) for a in archs], dtype=np.int64))
        columns = {metric: np.empty(len(indices)) for metric in metrics}
        for row, index in enumerate(show_progress(indices, desc="NATS-Bench", unit="arch", enabled=progress)):
            record = self.record(int(index), dataset=dataset, hp=hp)
            for metric in metrics:
                columns[metric][row] = record[metric]
        return BenchmarkTable.from_columns(indices, [self._archs[i] for i in indices], columns)

    def cached_table(self, dataset: str | None = None, hp: str | int | None = None, *,
                     cache_dir: str | os.PathLike | None = None, progress: bool = True) -> BenchmarkTable:
        """Every metric of every cell with a results file, read once and kept as a CSV.

        Reading the whole official archive takes about 20 minutes (75 ms per cell on a
        2-core CPU), so the table is written to ``cache_dir`` and read back (under a
        second) as long as the archive is unchanged: the cache file is named by a hash
        of the archive's path, the modification times of its directory and meta file,
        the number of results files, ``dataset`` and ``hp``.

        Args:
            dataset: One of :data:`DATASETS` (default: the instance's).
            hp: ``"12"`` or ``"200"`` (default: the instance's).
            cache_dir: Where to keep the table (default :func:`default_cache_dir`).
            progress: Show progress while reading the archive.

        Returns:
            A :class:`BenchmarkTable` with every :data:`METRICS` column, rows in official
            index order (its ``path`` is the cache file; ``None`` if it could not be written).

        Example:
            >>> NATSBench("~/.torch").cached_table("cifar100", "200").value(0, "test_acc")
        """
        dataset = self.dataset if dataset is None else _check_dataset(dataset)
        hp = self.hp if hp is None else _check_hp(hp)
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        available = self.available_indices()
        meta = self.path / f"meta{_EXT}"
        key = "|".join(str(part) for part in (
            1, self.path.resolve(), os.stat(self.path).st_mtime_ns, os.stat(meta).st_mtime_ns,
            os.stat(meta).st_size, len(available), dataset, hp))
        cache = folder / f"{ARCHIVE_NAME}-{dataset}-{hp}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.csv"
        if cache.is_file():
            try:
                table = BenchmarkTable(cache)
                if table.columns == list(METRICS):
                    return table
            except (CorruptFileError, DataNotFoundError):
                pass  # a damaged cache is rebuilt below
        table = self.to_table(dataset, hp, METRICS, progress=progress)
        tmp = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{cache.name}.", suffix=".tmp")
            os.close(handle)
            table.to_csv(tmp)
            os.replace(tmp, cache)
        except OSError as error:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            warnings.warn(f"could not cache the NATS-Bench table in {folder} ({error}); it will be read from "
                          "the archive again next time (set GCNAS_CACHE_DIR to a writable folder)", GcnasWarning,
                          stacklevel=2)
            return table
        return BenchmarkTable(cache)

    # -- reading one results file through the official API ------------------------------

    def _file(self, index: int) -> Path:
        return self.path / f"{index:06d}{_EXT}"

    def _load(self, index: int, hp: str) -> dict[str, dict[str, float]]:
        if (index, hp) in self._records:
            return self._records[(index, hp)]
        path = self._file(index)
        if not path.is_file():
            raise DataNotFoundError(
                f"NATS-Bench archive {str(self.path)!r} has no results file {path.name} for index "
                f"{index} ({self._archs[index]}); the archive is incomplete: re-extract {ARCHIVE_NAME}")
        try:
            self.api.reload(str(self.path), index)
            results = self.api.arch2infos_dict[index]
            for key in results:
                self._records[(index, key)] = {
                    name: _metrics(self.api, index, name, key) for name in results[key].get_dataset_names()}
        except _LOAD_ERRORS as error:
            raise CorruptFileError(f"{path} is not a NATS-Bench results file "
                                   f"({type(error).__name__}: {error})") from None
        finally:  # keep only the small figures: the full results take ~2 MiB per arch in memory
            self.api.arch2infos_dict.pop(index, None)
            self.api.evaluated_indexes.discard(index)
        if (index, hp) not in self._records:
            raise CorruptFileError(f"{path} has no results for hp={hp}; it has "
                                   f"{sorted(k for i, k in self._records if i == index)}")
        return self._records[(index, hp)]


def _metrics(api: Any, index: int, dataset: str, hp: str) -> dict[str, float]:
    info = api.get_more_info(index, dataset, hp=hp, is_random=False)
    if dataset == "cifar10":  # trained on train+valid: NATS-Bench reads "valid" from cifar10-valid
        valid = api.get_more_info(index, "cifar10-valid", hp=hp, is_random=False)
        info = {**info, "valid-accuracy": valid["valid-accuracy"], "valid-loss": valid["valid-loss"]}
    costs = api.arch2infos_dict[index][hp].get_compute_costs(dataset)
    return {
        "valid_acc": _float(info.get("valid-accuracy")),
        "test_acc": _float(info.get("test-accuracy")),
        "valid_loss": _float(info.get("valid-loss")),
        "test_loss": _float(info.get("test-loss")),
        "train_acc": _float(info["train-accuracy"]),
        "train_loss": _float(info["train-loss"]),
        "params_m": _float(costs["params"]),
        "flops_m": _float(costs["flops"]),
        "latency_ms": _float(costs["latency"]) * 1000.0,
    }


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _archive_dir(path: str | os.PathLike | None) -> Path:
    default = default_archive_path()
    where = default if path is None else Path(path).expanduser()
    how = (f"NATS-Bench (fast mode) expects the directory {ARCHIVE_NAME} under $TORCH_HOME "
           f"(default ~/.torch; here {default.parent}). Download {ARCHIVE_NAME}.tar from the "
           "NATS-Bench README (github.com/D-X-Y/NATS-Bench), extract it there with "
           f"'tar xf {ARCHIVE_NAME}.tar -C {default.parent}', or pass its path")
    if where.is_file():
        raise InvalidInputError(f"{str(where)!r} is a file; gcnas reads the extracted fast-mode "
                                f"directory {ARCHIVE_NAME}/ (meta{_EXT} + 000000{_EXT} ...). {how}")
    if where.is_dir() and not (where / f"meta{_EXT}").is_file() and (where / ARCHIVE_NAME).is_dir():
        where = where / ARCHIVE_NAME
    if not (where / f"meta{_EXT}").is_file():
        raise DataNotFoundError(f"NATS-Bench archive not found: {str(where / f'meta{_EXT}')!r} does "
                                f"not exist. {how}")
    return where


def _check_dataset(dataset: str) -> str:
    lookup = {name.lower(): name for name in DATASETS}
    if not isinstance(dataset, str) or dataset.lower() not in lookup:
        raise InvalidInputError(f"unknown NATS-Bench dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    return lookup[dataset.lower()]


def _check_hp(hp: str | int) -> str:
    text = str(hp) if isinstance(hp, (str, int)) and not isinstance(hp, bool) else None
    if text not in HPS:
        raise InvalidInputError(f"unknown NATS-Bench hp {hp!r} (training epochs); valid: {', '.join(HPS)}")
    return text


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InvalidInputError(f"unknown NATS-Bench metric {metric!r}; valid: {', '.join(METRICS)}")

