"""What a search optimises: objectives (accuracy, costs), constraints and report columns.

An :class:`Objective` scores a batch of architectures, one float each; NaN (or an
exception) marks a failed evaluation, which the run records and skips. ``maximize``
says the direction (accuracy up, latency down). Sources: a benchmark table column,
the run's lookup table, a fitted predictor, the supernet with inherited weights, the
hardware cost module, or any Python callable (one that really trains, for example).
"""

from __future__ import annotations

import hashlib
import json
import math
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from gcnas.data.benchmark import BenchmarkTable
from gcnas.data.store import DB_NAME, RunStore
from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.search.checks import check_column

Arch = Any
"""A cell of the searched space."""

__all__ = [
    "Objective",
    "TableObjective",
    "LUTObjective",
    "PredictorObjective",
    "SupernetObjective",
    "CostObjective",
    "CallableObjective",
    "ToldObjective",
    "Constraint",
    "file_checksum",
]


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits): what a study's settings record of a
    source file, so that a study resumed over a changed file is refused."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _values_checksum(values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _table_identity(table: BenchmarkTable) -> dict[str, Any]:
    path = getattr(table, "path", None)
    if path is not None and Path(path).is_file():
        return {"path": str(Path(path).resolve()), "sha256": file_checksum(path)}
    # An in-memory table: its contents are what defines it.
    cells = table.key_strings() if hasattr(table, "key_strings") else [a.code for a in table.archs]
    return {"path": None, "sha256": _values_checksum([cells,
                                                      {c: list(map(float, table.column(c))) for c in table.columns}])}


@dataclass
class Objective:
    """Base class: a named score of architectures; subclasses implement ``_evaluate``.

    Args:
        name: Name stored with every trial (``valid_acc``, ``latency_ms`` ...).
        maximize: True when larger is better.
        cheap: True when the value is free to look up for every candidate before the
            search (a latency table, a FLOP count): a searcher may then read it from
            :meth:`known_values` instead of modelling it. Accuracy is never cheap; a
            cost usually is.
        value_range: ``(low, high)``, the values accepted (bounds included; keyword only).
            ``None``: the range of the metric its name says (:mod:`gcnas.search.checks`:
            an accuracy [0, 100], a cost > 0, anything else any finite value). Checked on
            a table column when it is read, and on every value a user objective returns.
    """

    name: str
    maximize: bool = True
    cheap: bool = False
    value_range: tuple[float, float] | None = field(default=None, kw_only=True)

    user_values: ClassVar[bool] = False
    """True where the values come from the user's code (a callable, a told value): each one
    returned is checked against the metric's range (:func:`gcnas.search.checks.value_problem`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError(f"an objective needs a non-empty name, got {self.name!r}")
        if self.value_range is not None:
            try:
                low, high = (float(v) for v in self.value_range)
            except (TypeError, ValueError):
                raise InvalidInputError(f"value_range of {self.name!r} must be (low, high), "
                                        f"got {self.value_range!r}") from None
            if math.isnan(low) or math.isnan(high) or low > high:
                raise InvalidInputError(f"value_range of {self.name!r} must be (low, high) with low <= high, "
                                        f"got {self.value_range!r}")
            self.value_range = (low, high)

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        """``(n,)`` float values, NaN where the evaluation failed."""
        values = np.asarray(self._evaluate(list(archs)), dtype=np.float64).reshape(-1)
        if len(values) != len(archs):
            raise InvalidInputError(f"objective {self.name!r} returned {len(values)} values for {len(archs)} archs")
        return values

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        raise NotImplementedError

    def known_values(self, archs: Sequence[Arch]) -> np.ndarray | None:
        """Values that can be looked up for every candidate (tables, costs), else None.

        Always used to check, before a search, that some candidate can meet a
        constraint (``InfeasibleError`` otherwise). Only the values of objectives marked
        ``cheap`` reach the searcher: as known values, and by pruning the candidates that
        violate a constraint on them. Accuracy never does, even when it comes from a
        table; a constraint on it is checked on each evaluated trial.
        """
        return None

    def identity(self) -> dict[str, Any]:
        """What defines this objective's values, as JSON: kind, name, direction and the
        source (file path and checksum, column, settings). A study records it, and a
        resumed study whose objective differs from the recorded one is refused."""
        return {"kind": type(self).__name__, "name": self.name, "maximize": bool(self.maximize),
                "cheap": bool(self.cheap)}

    def signed(self, values: np.ndarray) -> np.ndarray:
        """Values in the maximisation convention (costs negated)."""
        values = np.asarray(values, dtype=np.float64)
        return values if self.maximize else -values

    # A parallel search pickles its objectives to the worker processes. Attributes named
    # with a leading underscore are caches rebuilt on first use (a code -> value dict, a
    # loaded model), so they stay behind; a run store travels as its directory and is
    # opened again in the worker (read there; only the head process writes trials).

    def __getstate__(self) -> dict[str, Any]:
        return {key: _StoreAt(str(value.run_dir)) if isinstance(value, RunStore) else value
                for key, value in self.__dict__.items() if not key.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({key: value.open() if isinstance(value, _StoreAt) else value
                              for key, value in state.items()})


@dataclass(frozen=True)
class _StoreAt:
    """A run store as an objective is pickled: its directory, opened again on unpickling."""

    run_dir: str

    def open(self) -> RunStore:
        if not (Path(self.run_dir) / DB_NAME).is_file():
            raise DataNotFoundError(f"run store {self.run_dir!r} is not on this worker ({socket.gethostname()}); "
                                    "an objective that reads the run (lut, measured latency) must be evaluated "
                                    "on the machine that holds the run directory")
        return RunStore(self.run_dir)


@dataclass
class TableObjective(Objective):
    """A column of a benchmark table (``table:CSV:COLUMN``): searching on published results.

    ``table`` is NAS-Bench-201's :class:`~gcnas.data.BenchmarkTable` or, for any space,
    a :class:`~gcnas.search.space_table.SpaceTable` (cells found by ``space.key``).

    The column is checked when the objective is built: every value must be finite and in
    the objective's range (``value_range``, or its metric's: :mod:`gcnas.search.checks`);
    ``InvalidInputError`` names the first bad row. Empty cells are no value: those rows are
    left out of a search (:func:`gcnas.search.checks.rows_left_out` counts them).

    Example:
        >>> acc = TableObjective("valid_acc", table=BenchmarkTable("nb201_cifar10_200ep.csv"))
        >>> acc([get_space("nb201").sample(0)])
        >>> TableObjective("score", table=t, column="acc01", value_range=(0, 1))   # another range
        >>> nb301 = SpaceTable("nb301_sample_cifar10.csv", space="darts", arch_column="genotype")
        >>> TableObjective("val_accuracy", table=nb301)
    """

    table: BenchmarkTable | Any = None
    column: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.table is None:
            raise InvalidInputError(f"TableObjective {self.name!r} needs a table")
        self.column = self.column or self.name
        if self.column not in self.table.columns:
            raise InvalidInputError(f"table {self.table!r} has no column {self.column!r}; "
                                    f"it has {', '.join(self.table.columns)}")
        check_column(self, self.table, self.column)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "column": self.column, "table": _table_identity(self.table)}

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        return np.asarray(self.table.values(archs, self.column, missing=np.nan), dtype=np.float64)

    def known_values(self, archs: Sequence[Arch]) -> np.ndarray | None:
        return self._evaluate(list(archs))


@dataclass
class LUTObjective(Objective):
    """A column of the run's lookup table (``gcnas lut build``), e.g. predicted accuracy.

    ``confidence`` > 0 on a cost that the table predicts for some cells (``lut build --latency
    predictor:NAME``) gives each predicted cell's upper end at that confidence instead of its
    point value (measured cells: their value; :mod:`gcnas.predictors.lut_bounds`): the value a
    bound is checked against.

    Example:
        >>> upper = LUTObjective("latency_ms_upper", False, cheap=True, store=store, column="latency_ms",
        ...                      confidence=0.9)
        >>> Constraint(upper, upper=8.0)     # every proposal under 8 ms at 90% confidence
    """

    store: RunStore | None = None
    column: str | None = None
    confidence: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        from gcnas.predictors.intervals import check_confidence

        self.confidence = check_confidence(self.confidence)
        if self.store is None:
            raise InvalidInputError(f"LUTObjective {self.name!r} needs a run store")
        self.column = self.column or self.name
        columns = self.store.lut_columns()
        if not columns:
            raise InvalidInputError(f"run {self.store.run_dir} has no lookup table; run `gcnas lut build` first")
        if self.column not in columns:
            raise InvalidInputError(f"the lookup table of {self.store.run_dir} has no column {self.column!r}; "
                                    f"it has {', '.join(columns)}")

    def identity(self) -> dict[str, Any]:
        identity = {**super().identity(), "column": self.column, "run": str(Path(self.store.run_dir).resolve()),
                    "lut": _values_checksum(self.store.lut_meta())}
        return {**identity, "confidence": self.confidence} if self.confidence else identity

    def widens(self) -> bool:
        """True when ``confidence`` changes the values: the column is predicted for some cells."""
        from gcnas.predictors import LookupTable
        from gcnas.predictors.lut_bounds import calibrated_bounds

        return bool(calibrated_bounds(LookupTable(self.store), {self.column: math.inf}, self.confidence))

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        values = self.store.lut_values(archs, self.column)
        if self.confidence:
            from gcnas.predictors import LookupTable
            from gcnas.predictors.lut_bounds import upper_ends

            values = upper_ends(LookupTable(self.store), archs, self.column, values, self.confidence)
        return values

    def known_values(self, archs: Sequence[Arch]) -> np.ndarray | None:
        return self._evaluate(list(archs))


@dataclass
class PredictorObjective(Objective):
    """The prediction of a fitted predictor (``gcnas.predictors``), e.g. the GCN's."""

    predictor: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.predictor is None or not hasattr(self.predictor, "predict"):
            raise InvalidInputError(f"PredictorObjective {self.name!r} needs a fitted predictor, "
                                    f"got {self.predictor!r}")

    def identity(self) -> dict[str, Any]:
        predictor = self.predictor
        params = predictor.get_params() if hasattr(predictor, "get_params") else repr(predictor)
        fitted = {k: getattr(predictor, k, None) for k in ("n_train_", "y_mean_", "y_scale_")}
        return {**super().identity(), "predictor": type(predictor).__name__,
                "params": _values_checksum(params), "fitted": _values_checksum(fitted)}

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        return np.asarray(self.predictor.predict(archs), dtype=np.float64)


@dataclass
class SupernetObjective(Objective):
    """Accuracy of the sub-network with inherited supernet weights (``score_subnet``)."""

    supernet: Any = None
    data: Any = None
    options: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "options": _values_checksum(self.options)}

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        from gcnas.supernet import ScoringBatches, score_subnet

        if getattr(self, "_batches", None) is None:  # normalised once, reused for every evaluation
            net = getattr(self.supernet, "supernet", self.supernet)
            self._batches = ScoringBatches(self.data, **{"device": next(net.parameters()).device, **self.options})
        return np.array([score_subnet(self.supernet, arch, batches=self._batches)[0] for arch in archs])


@dataclass
class CostObjective(Objective):
    """A hardware cost from ``gcnas.hardware.cost_table`` (minimised, cheap by default).

    Args:
        name: ``params_m``, ``flops_m``, ``latency_ms`` or ``energy_mj``.
        latency: Latency source spec (``CSV:COLUMN``, ``measured``, ``hwnb:PICKLE:DEVICE``).
        energy: Energy source spec (``model`` or ``hwnb:PICKLE:DEVICE``).
        store: Run store (for measured latency).
        dataset: Dataset the costs are for.
        space: The cells' space (a space or its name); ``None``: the store's, else NAS-Bench-201.
    """

    maximize: bool = False
    cheap: bool = True
    latency: str | None = None
    energy: str | None = None
    store: RunStore | None = None
    dataset: str = "cifar10"
    space: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.name == "latency_ms" and self.latency is None:
            raise InvalidInputError("the latency_ms objective needs a latency source (--latency-from)")
        if self.name == "energy_mj" and self.energy is None:
            self.energy = "model"
        if self.name not in ("params_m", "flops_m", "latency_ms", "energy_mj"):
            raise InvalidInputError(f"unknown cost {self.name!r}; choose params_m, flops_m, latency_ms or energy_mj")

    def identity(self) -> dict[str, Any]:
        identity = {**super().identity(), "latency": self.latency, "energy": self.energy, "dataset": self.dataset}
        for key in ("latency", "energy"):
            source = getattr(self, key)
            files = [part for part in source.split(":") if Path(part).is_file()] if isinstance(source, str) else []
            if files:
                identity[f"{key}_sha256"] = file_checksum(files[0])
        return identity

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        from gcnas.hardware import cost_table

        kwargs: dict[str, Any] = {"store": self.store, "dataset": self.dataset}
        space = self.space if self.space is not None else getattr(self.store, "space", None)
        if space is not None:
            kwargs["space"] = space
        if self.name == "latency_ms":
            kwargs["latency"] = self.latency
        if self.name == "energy_mj":
            kwargs["energy"] = self.energy
        return np.asarray(cost_table(archs, **kwargs)[self.name], dtype=np.float64)

    def known_values(self, archs: Sequence[Arch]) -> np.ndarray | None:
        return self._evaluate(list(archs))


@dataclass
class CallableObjective(Objective):
    """Any function ``arch -> float`` (one that trains the network, for instance).

    Example:
        >>> acc = CallableObjective("acc", fn=lambda a: train_standalone(a, epochs=1)["test_acc"])
    """

    fn: Callable[[Arch], float] | None = None
    user_values: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not callable(self.fn):
            raise InvalidInputError(f"CallableObjective {self.name!r} needs a callable, got {self.fn!r}")

    def identity(self) -> dict[str, Any]:
        fn = self.fn
        return {**super().identity(), "fn": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"}

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        return np.array([float(self.fn(arch)) for arch in archs])


@dataclass
class ToldObjective(Objective):
    """A value the user measures with their own code and tells the search
    (:meth:`gcnas.search.Study.tell`); gcnas never computes it.

    Example:
        >>> study = Study(RandomSearch(), [ToldObjective("accuracy")])
    """

    user_values: ClassVar[bool] = True

    def _evaluate(self, archs: list[Arch]) -> np.ndarray:
        raise InvalidInputError(f"{self.name!r} is told by the user (Study.tell), not computed by gcnas; "
                                "use it with Study, not run_search")


@dataclass(frozen=True)
class Constraint:
    """A bound on a metric: feasible when ``metric(arch) <= upper`` (and ``>= lower``).

    Args:
        metric: The objective computing the constrained value (it need not be optimised).
        upper: Upper bound, or None.
        lower: Lower bound, or None.
        prune: For a cheap metric (a latency table, a cost): drop the cells that break the
            bound from the candidates before the search (default), so no proposal breaks
            it. ``False`` keeps them: each proposal is checked when evaluated and recorded
            infeasible, so the searcher sees the violation (what RENA's penalty reward
            learns from, :class:`~gcnas.search.ReinforceSearch`). Ignored for an expensive
            metric, which is always checked trial by trial.

    Example:
        >>> Constraint(latency, upper=5.0)                 # cells over 5 ms are never proposed
        >>> Constraint(latency, upper=5.0, prune=False)    # proposed, recorded infeasible
    """

    metric: Objective
    upper: float | None = None
    lower: float | None = None
    prune: bool = True

    def __post_init__(self) -> None:
        if self.upper is None and self.lower is None:
            raise InvalidInputError(f"constraint on {self.metric.name!r} needs an upper or a lower bound")
        for bound in (self.upper, self.lower):
            if bound is not None and not math.isfinite(bound):
                raise InvalidInputError(f"constraint bound on {self.metric.name!r} must be finite, got {bound}")

    @property
    def name(self) -> str:
        return self.metric.name

    def slack(self, values: np.ndarray) -> np.ndarray:
        """``(n,)`` violation: <= 0 where feasible (NaN stays NaN)."""
        values = np.asarray(values, dtype=np.float64)
        parts = []
        if self.upper is not None:
            parts.append(values - self.upper)
        if self.lower is not None:
            parts.append(self.lower - values)
        return np.max(np.stack(parts), axis=0)

    def describe(self) -> str:
        bounds = []
        if self.lower is not None:
            bounds.append(f">= {self.lower:g}")
        if self.upper is not None:
            bounds.append(f"<= {self.upper:g}")
        text = f"{self.name} {' and '.join(bounds)}"
        return text if self.prune or not self.metric.cheap else f"{text} (not pruned)"
