"""The lookup table: a predicted accuracy and every hardware cost for each architecture.

:meth:`LookupTable.build` lists the run's space (``space.enumerate()``: the 15,625
NAS-Bench-201 cells) or, for a space that cannot be listed (DARTS: ``space.size()`` is
None), draws a pool of ``pool`` distinct canonical cells; it predicts once per class
(``space.key``: 6,466 for NB201), broadcasts the prediction to the class members, joins
the costs (:func:`gcnas.hardware.cost_table`: params and FLOPs from the space's own ``costs``,
the latency tables and the energy model where they cover the space, the IMC crossbar model and
the measurements of ``gcnas hw measure`` for any space), and writes the run store's ``lut``
table (SQLite, an index on every column). :meth:`LookupTable.query` answers "the best architectures
under these bounds" with one indexed SQL query: sorted by predicted accuracy, or the
Pareto front of accuracy against one cost.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gcnas.data.store import RunStore, class_representatives
from gcnas.exceptions import InfeasibleError, InvalidInputError
from gcnas.progress import progress as show_progress

if TYPE_CHECKING:
    from gcnas.predictors.base import Predictor

__all__ = ["LookupTable", "COST_BOUNDS", "PREDICTOR_FILE", "predictor_path", "predictor_stage", "hardware_covers",
           "train_cells"]

HARDWARE_SPACES: tuple[str, ...] = ("nb201",)
"""Spaces whose cells :func:`gcnas.hardware.cost_table` costs (latency tables, the energy model,
measurements); the lookup table of another space takes params and FLOPs from ``space.costs``."""


def hardware_covers(space) -> bool:
    """Whether :mod:`gcnas.hardware` (latency tables, the energy model, measurements) knows ``space``'s cells."""
    return space.name in HARDWARE_SPACES

PREDICTOR_FILE = "predictor.pt"


def predictor_path(run_dir: str | os.PathLike, name: str | None = None) -> Path:
    """Where a run keeps a fitted predictor: ``RUN/predictor.pt`` (the accuracy predictor,
    unnamed) or ``RUN/predictors/<name>.pt`` (named: an accuracy and a latency predictor
    can live side by side).

    Raises:
        InvalidInputError: A name that is not a plain file name.
    """
    if name is None or name == "":
        return Path(run_dir) / PREDICTOR_FILE
    if not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise InvalidInputError(f"predictor name {name!r} must be letters, digits, '-', '_' or '.' "
                                "(it names RUN/predictors/<name>.pt)")
    return Path(run_dir) / "predictors" / f"{name}.pt"


def predictor_stage(name: str | None = None) -> str:
    """The run-store stage recording a predictor's fit (its source and training cells)."""
    return "predictor" if not name else f"predictor:{name}"
COST_BOUNDS: dict[str, str] = {
    "max_latency_ms": "latency_ms",
    "max_energy_mj": "energy_mj",
    "max_params_m": "params_m",
    "max_flops_m": "flops_m",
}
"""Keyword of :meth:`LookupTable.query` -> the lookup-table column it bounds."""


class LookupTable:
    """The run store's lookup table: build it once, query it in milliseconds.

    Args:
        store: A :class:`~gcnas.data.RunStore` or a run directory.

    Example:
        >>> LookupTable.build(store, predictor, latency="nb201_latency_ms.csv:pixel3")
        >>> LookupTable(store).query(max_latency_ms=5, max_params_m=0.8, top=3)
        [{'rank': 1, 'arch': '|nor_conv_3x3~0|+|...', 'accuracy': 93.1, ...}, ...]
    """

    def __init__(self, store: RunStore | str | os.PathLike) -> None:
        self.store = store if isinstance(store, RunStore) else RunStore(store)

    # -- build -------------------------------------------------------------------------

    @classmethod
    def build(cls, store: RunStore | str | os.PathLike, predictor: Predictor | None = None, *,
              latency: str | None = None, energy: str | None = "model", dataset: str = "cifar10",
              trust_pickle: bool = False, progress: bool = False, pool: int | None = None,
              seed: int = 0) -> LookupTable:
        """Predict every architecture (or a pool), join its costs and write the ``lut`` table.

        Args:
            store: The run store (or run directory); its space is the table's.
            predictor: A fitted predictor; ``None`` loads ``run_dir/predictor.pt``.
            latency: Latency source for :func:`gcnas.hardware.cost_table` (``"CSV:COLUMN"``,
                ``"nb201:latency:DEVICE"``, ``"measured"``, ``"hwnb:PICKLE:DEVICE"``, ``"imc"``), or
                ``"predictor:NAME"`` (the run's predictor ``NAME``, fitted with ``--target
                latency``: its training values where measured, its predictions elsewhere), or
                ``None`` for no latency column. A table may cover only some cells: the
                others are stored as missing (NULL; a bound on the column excludes them) and
                counted in the stage record (``missing``). The column ``latency_measured``
                says per cell whether the latency was measured (1) or predicted (0); the IMC
                crossbar model (``"imc"``) estimates every cell and adds no such column. A space
                that the hardware tables do not cover (:func:`hardware_covers`) takes ``"imc"``,
                ``"measured"`` and ``"predictor:NAME"`` only.
            energy: Energy source (``"model"``, ``"CSV:COLUMN"``, ``"hwnb:PICKLE:DEVICE"``, ``"imc"``) or ``None``;
                ``"imc"`` or ``"measured"`` for a space the hardware tables do not cover.
            dataset: Dataset the costs refer to.
            trust_pickle: Also read predictor files that are full pickles (saved by gcnas 0.1;
                loading one runs its code: only from a trusted source), see
                :func:`~gcnas.predictors.load_predictor`.
            progress: Show its three steps (predict, costs, write; :func:`gcnas.progress.progress`).
            pool: Build the table over this many distinct canonical cells drawn with ``seed``
                (:func:`~gcnas.supernet.score.sample_distinct`) instead of the whole space;
                required for a space that cannot be listed.
            seed: Seed of the pool.

        Returns:
            The lookup table over the store.

        Raises:
            InvalidInputError: No ``pool`` for a space that cannot be listed; a latency or
                energy source for a space the hardware module does not cost.
        """
        table = cls(store)
        started = time.perf_counter()
        fused = False
        if predictor is None:
            from gcnas.predictors.base import load_predictor  # (scikit-learn: only building needs it, not a query)

            predictor = load_predictor(table.store.run_dir / PREDICTOR_FILE, trust_pickle=trust_pickle)
            fused = bool((table.store.stage("predictor") or {}).get("fused"))
        space = table.store.space
        archs = _table_archs(space, pool, seed)
        canonical = class_representatives(space, archs)  # NB201 listed in code order: the canonical codes
        classes, members = np.unique(canonical, return_inverse=True)
        bar = show_progress(total=3, desc="lut build", unit="step", enabled=progress)
        bar.set_postfix(doing=f"predicting {len(classes)} isomorphism classes")
        mean, std = predictor.predict([archs[c] for c in classes], return_std=True)
        bar.set_postfix(doing=f"costs (latency {latency or 'none'}, energy {energy or 'none'})")
        bar.update()
        guarded = 0
        if fused:  # the collapse guard of the fused ranking: no live convolution, lowest accuracy
            from gcnas.predictors.fused import is_parameter_free

            free = is_parameter_free([archs[c] for c in classes])
            mean = np.where(free, mean.min(), mean)
            guarded = int(free[members].sum())
        columns: dict[str, np.ndarray] = {"accuracy": mean[members], "accuracy_std": std[members]}
        predicted_latency = isinstance(latency, str) and latency.startswith("predictor:")
        for name, values in _costs(space, archs, latency=None if predicted_latency else latency, energy=energy,
                                   store=table.store, dataset=dataset).items():
            columns[name] = np.asarray(values, dtype=np.float64)
        calibration: dict[str, Any] = {}
        if predicted_latency:
            columns["latency_ms"], columns["latency_measured"], latency_calibration, folds = _predicted_latency(
                table.store, archs, latency[len("predictor:"):], trust_pickle=trust_pickle)
            if latency_calibration is not None:
                calibration["latency_ms"] = latency_calibration
                columns.update({f"latency_ms_fold{k}": values for k, values in enumerate(folds)})
        elif "latency_ms" in columns and latency != "imc":  # (the crossbar model estimates: no cell is measured)
            columns["latency_measured"] = np.isfinite(columns["latency_ms"]).astype(np.float64)
        missing = {name: int(np.isnan(columns[name]).sum()) for name in ("latency_ms", "energy_mj")
                   if name in columns and np.isnan(columns[name]).any()}
        meta = {"predictor": predictor.name, "predictor_params": predictor.get_params(),
                "n_train": getattr(predictor, "n_train_", None), "latency": latency, "energy": energy,
                "dataset": dataset, "classes": int(len(classes)), "missing": missing, "built": time.time(),
                "fused": fused, "collapse_guarded": guarded, "calibration": calibration,
                "space": table.store.space_name, "pool": pool, "pool_seed": seed if pool is not None else None}
        bar.set_postfix(doing=f"writing {len(archs)} rows")
        bar.update()
        table.store.write_lut(archs, columns, meta=meta)
        for name in columns:
            if name not in ("accuracy_std", "latency_measured") and "_fold" not in name:
                table.store.cover_lut(name)
        seconds = time.perf_counter() - started
        table.store.finish_stage("lut", {**meta, "rows": len(archs), "columns": list(columns)}, seconds)
        bar.set_postfix(rows=len(archs))
        bar.update()
        bar.close()
        return table

    # -- query -------------------------------------------------------------------------

    @property
    def columns(self) -> list[str]:
        """The value columns of the table (``accuracy``, ``accuracy_std``, costs...)."""
        return self.store.lut_columns()

    def predictions(self, *, distinct: bool = True) -> tuple[list, np.ndarray]:
        """Every row's architecture and predicted accuracy, in the table's order (NB201: code order).

        Args:
            distinct: One row per isomorphism class (its representative; the members share
                the prediction), else every architecture.

        Returns:
            ``(archs, accuracy)``: the architectures and their ``(n,)`` float64 predictions
            (NaN where none was stored).

        Raises:
            InvalidInputError: no table was built.

        Example:
            >>> archs, predicted = LookupTable(store).predictions()
            >>> truth.judge(archs, predicted)
        """
        if not self.columns:
            raise InvalidInputError(f"run {str(self.store.run_dir)!r} has no lookup table; "
                                    "build it with `gcnas lut build` (LookupTable.build)")
        rows = self.store.select_lut(order_by=None, distinct_canonical=distinct)
        rows.sort(key=lambda r: r["position"])
        accuracy = np.array([np.nan if r.get("accuracy") is None else r["accuracy"] for r in rows], dtype=np.float64)
        return [self.store.space.parse(r["arch"]) for r in rows], accuracy

    def query(self, *, max_latency_ms: float | None = None, max_energy_mj: float | None = None,
              max_params_m: float | None = None, max_flops_m: float | None = None,
              sort: str = "accuracy", pareto_cost: str = "latency_ms", top: int | None = 10,
              distinct: bool = True, confidence: float = 0.9, selection: str = "fdr") -> list[dict[str, Any]]:
        """The best architectures under upper bounds on their costs.

        Args:
            max_latency_ms: Largest admitted ``latency_ms`` (``None`` = unbounded).
            max_energy_mj: Largest admitted ``energy_mj``.
            max_params_m: Largest admitted ``params_m``.
            max_flops_m: Largest admitted ``flops_m``.
            sort: ``"accuracy"`` (highest predicted accuracy first) or ``"pareto"`` (the
                front of accuracy against ``pareto_cost``, cheapest first).
            pareto_cost: The cost column of the Pareto front.
            top: Most rows returned (``None`` = all). A Pareto front longer than ``top``
                is thinned to ``top`` points spread evenly along it, both ends kept.
            distinct: One architecture per isomorphism class (they share a prediction).
            confidence: A bound on a cost that is predicted for some cells (``lut build
                --latency predictor:NAME``) is applied to each cell's upper end at this
                confidence, calibrated on the measured rows (:mod:`gcnas.predictors.lut_bounds`);
                measured cells count with their value. Rows then carry ``latency_ms_low``,
                ``latency_ms_high`` and ``latency_ms_p_over``. 0 compares the point estimate
                (the behaviour before intervals).
            selection: With ``confidence``: ``"fdr"`` (default) admits predicted cells so that
                the expected share of predicted picks over a bound is at most ``1 - confidence``;
                ``"each"`` admits every predicted cell whose own upper end meets the bounds,
                which, picked from many, break it more often (see
                :func:`~gcnas.predictors.lut_bounds.confident_rows`).

        Returns:
            Rows as dicts: ``rank``, ``position``, ``arch``, ``key``, ``canonical`` and every column.

        Raises:
            InvalidInputError: the table lacks a bounded column (the message lists the
                columns it has), or no table was built.
            InfeasibleError: no architecture meets the bounds; the message names the bound
                that excludes everything and the smallest value that would admit one.
        """
        bounds = {"max_latency_ms": max_latency_ms, "max_energy_mj": max_energy_mj,
                  "max_params_m": max_params_m, "max_flops_m": max_flops_m}
        maxima = {COST_BOUNDS[k]: float(v) for k, v in bounds.items() if v is not None}
        self._check_columns(maxima, sort, pareto_cost, top)
        from gcnas.predictors.lut_bounds import calibrated_bounds, confident_rows

        if calibrated_bounds(self, maxima, confidence):
            rows = confident_rows(self, maxima, confidence, sort=sort, pareto_cost=pareto_cost, top=top,
                                  distinct=distinct, selection=selection)
        elif sort == "accuracy":
            rows = self._best(maxima, top, distinct)
        else:
            rows = self.store.pareto_lut("accuracy", pareto_cost, maxima=maxima)
            rows = _thin(rows, top)
        if not rows:
            raise self._infeasible(maxima, confidence)
        return [{"rank": i, **row} for i, row in enumerate(rows, start=1)]

    def measure_next(self, *, max_latency_ms: float | None = None, max_energy_mj: float | None = None,
                     max_params_m: float | None = None, max_flops_m: float | None = None, confidence: float = 0.9,
                     top: int = 10, num: int = 10, distinct: bool = True,
                     selection: str = "fdr") -> list[dict[str, Any]]:
        """The unmeasured cells whose measurement would change the top-``top`` answer most
        (:func:`gcnas.predictors.lut_bounds.measure_next`; bounds as in :meth:`query`).

        Example:
            >>> for row in LookupTable(store).measure_next(max_latency_ms=8, num=10):
            ...     print(row["arch"])   # measure these on the device, refit, rebuild, query again
        """
        from gcnas.predictors.lut_bounds import measure_next

        bounds = {"max_latency_ms": max_latency_ms, "max_energy_mj": max_energy_mj,
                  "max_params_m": max_params_m, "max_flops_m": max_flops_m}
        maxima = {COST_BOUNDS[k]: float(v) for k, v in bounds.items() if v is not None}
        self._check_columns(maxima, "accuracy", "latency_ms", top)
        return measure_next(self, maxima, confidence=confidence, top=top, num=num, distinct=distinct,
                            selection=selection)

    def _check_columns(self, maxima: dict[str, float], sort: str, pareto_cost: str, top: int | None) -> None:
        have = self.columns
        if not have:
            raise InvalidInputError(f"run {str(self.store.run_dir)!r} has no lookup table; "
                                    "build it with `gcnas lut build` (LookupTable.build)")
        if sort not in ("accuracy", "pareto"):
            raise InvalidInputError(f"sort must be 'accuracy' or 'pareto', got {sort!r}")
        if top is not None and top < 1:
            raise InvalidInputError(f"top must be a positive number of rows, got {top}")
        asked = list(maxima) + ([pareto_cost] if sort == "pareto" else [])
        for column in asked:
            if column not in have:
                costs = [c for c in have if c not in ("accuracy", "accuracy_std")]
                raise InvalidInputError(
                    f"the lookup table has no {column!r} column, so it cannot be bounded or traded off; "
                    f"it has costs: {', '.join(costs) or '(none)'}. Rebuild it with that cost "
                    "(e.g. `gcnas lut build --latency CSV:COLUMN`)")

    def _best(self, maxima: dict[str, float], top: int | None, distinct: bool) -> list[dict[str, Any]]:
        if not distinct:
            return self.store.ranked_lut("accuracy", maxima=maxima, limit=top)
        # One row per class: the best-ranked member that meets the bounds (the class
        # representative itself may not). Fetch a few rows per wanted one, more if needed.
        limit = None if top is None else 4 * top
        while True:
            rows = self.store.ranked_lut("accuracy", maxima=maxima, limit=limit)
            seen: set[str] = set()
            unique = [r for r in rows if r["key"] not in seen and not seen.add(r["key"])]
            if limit is None or len(rows) < limit or len(unique) >= top:
                return unique[:top]
            limit *= 4

    def _infeasible(self, maxima: dict[str, float], confidence: float = 0.0) -> InfeasibleError:
        from gcnas.predictors.lut_bounds import calibrated_bounds

        reasons = []
        calibrated = calibrated_bounds(self, maxima, confidence)
        if calibrated:
            reasons.append(f"{', '.join(calibrated)} compared at the upper end of {confidence:g} confidence for "
                           "predicted cells (measure more of the cells near the bound, or lower --confidence)")
        for column, bound in maxima.items():
            others = {c: b for c, b in maxima.items() if c != column}
            smallest = self.store.lut_min(column, maxima=others)
            alone = self.store.lut_min(column)
            if alone is not None and alone > bound:
                reasons.append(f"{column} <= {bound:g} excludes every architecture (the smallest "
                               f"{column} in the table is {alone:g})")
            elif smallest is not None and smallest > bound:
                reasons.append(f"{column} <= {bound:g} excludes every architecture meeting the other "
                               f"bounds; {column} <= {smallest:g} would admit one")
        if not reasons:
            reasons.append("the other bounds, taken together, exclude every architecture")
        error = InfeasibleError("no architecture meets the constraints: " + "; ".join(reasons))
        error.bounds = maxima
        return error


def _thin(rows: list[dict[str, Any]], top: int | None) -> list[dict[str, Any]]:
    if top is None or len(rows) <= top:
        return rows
    if top == 1:
        return rows[-1:]
    keep = np.unique(np.round(np.linspace(0, len(rows) - 1, top)).astype(int))
    return [rows[i] for i in keep]


def _table_archs(space, pool: int | None, seed: int) -> list:
    """The rows of a lookup table: the whole space in ``enumerate`` order, or a pool of ``pool`` cells."""
    if pool is None:
        if space.size() is None:
            raise InvalidInputError(f"the {space.name!r} space cannot be listed, so its lookup table is built over a "
                                    "pool of sampled cells: pass --pool N (LookupTable.build(..., pool=N))")
        return list(space.enumerate())
    from gcnas.supernet.score import sample_distinct

    return sample_distinct(space, pool, seed)


ANY_SPACE_SOURCES: tuple[str, ...] = ("imc", "measured")
"""The latency / energy source kinds that :func:`gcnas.hardware.cost_table` reads for any space: the IMC
crossbar model (it builds ``space.network``) and the measurements of ``gcnas hw measure``."""


def _any_space(spec: str | None) -> bool:
    """Whether a latency / energy spec (or none) can be read for any space (:data:`ANY_SPACE_SOURCES`)."""
    return spec is None or spec.partition(":")[0] in ANY_SPACE_SOURCES


def _costs(space, archs: list, *, latency: str | None, energy: str | None, store: RunStore,
           dataset: str) -> dict[str, np.ndarray]:
    """The cost columns of ``archs`` from :func:`gcnas.hardware.cost_table`: every source where the hardware
    module covers the space; else params and FLOPs from ``space.costs`` and only the sources of
    :data:`ANY_SPACE_SOURCES` (refusing a latency table or the energy model, which are NAS-Bench-201's)."""
    given = [f"--{name} {spec}" for name, spec in (("latency", latency), ("energy", energy)) if not _any_space(spec)]
    if given and not hardware_covers(space):
        raise InvalidInputError(f"{' and '.join(given)}: latency tables and the energy model cover "
                                f"{', '.join(HARDWARE_SPACES)} cells, not the {space.name!r} space; leave them out "
                                "(params_m and flops_m come from the space) or use imc (the crossbar model), "
                                "measured (`gcnas hw measure`) or, for latency, predictor:NAME")
    from gcnas.hardware import cost_table

    return cost_table(archs, latency=latency, energy=energy, store=store, dataset=dataset, missing=np.nan,
                      space=space)


def _predicted_latency(store: RunStore, archs: list, name: str,
                       trust_pickle: bool = False
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None, np.ndarray | None]:
    """Latency of every cell from the run's predictor ``name``: the values it was fitted to
    (measured) where it has them, its predictions elsewhere; a 1/0 measured flag; and, for a
    calibrated predictor (:class:`~gcnas.predictors.ConformalPredictor`), its calibration and
    each fold model's prediction ``(folds, n)`` (else ``None, None``)."""
    record = store.stage(predictor_stage(name))
    if not record or record.get("target") != "latency":
        raise InvalidInputError(f"run {store.run_dir} has no latency predictor named {name!r}; fit one with "
                                f"`gcnas predictor fit --target latency --name {name} ...`")
    from gcnas.predictors.base import load_predictor

    model = load_predictor(predictor_path(store.run_dir, name), trust_pickle=trust_pickle)
    folds = model.fold_predictions(archs) if hasattr(model, "fold_predictions") else None
    if folds is None:
        latency = np.asarray(model.predict(archs), dtype=np.float64)
    else:  # the point prediction from the fold predictions, as ConformalPredictor.predict makes it
        latency = np.exp(np.log(folds).mean(0)) if model.log_target else folds.mean(0)
    measured = np.zeros(len(archs))
    where = {store.space.format(a): i for i, a in enumerate(archs)}
    for text, value in zip(train_cells(store, record), record["train_values"]):
        if text in where:  # (a cell outside a pool has no row)
            latency[where[text]], measured[where[text]] = value, 1.0
    calibration = model.calibration() if folds is not None else None
    return np.maximum(latency, 1e-6), measured, calibration, folds


def train_cells(store: RunStore, record: dict[str, Any]) -> list[str]:
    """The training cells of a predictor's stage record, as text (``space.format``).

    Records write them as ``train_archs``; those of gcnas before schema 3 as NAS-Bench-201
    ``train_codes``, read through the run's space.
    """
    if "train_archs" in record:
        return list(record["train_archs"])
    space = store.space
    return [space.format(space.parse(str(code))) for code in record.get("train_codes", [])]
