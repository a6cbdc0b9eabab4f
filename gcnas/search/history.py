"""The outcome of a search: trials in order, incumbent and Pareto front per step."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from gcnas.data.store import RunStore, Trial, legacy_study_file
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.search.base import resolve_space
from gcnas.search.pareto import hypervolume_curve, pareto_mask

if TYPE_CHECKING:
    from gcnas.data.benchmark import BenchmarkTable

__all__ = ["SearchResult", "study_config_name"]

_FIXED = ("trial", "status", "code", "arch", "index")
_TIMINGS = ("feasible", "ask_seconds", "eval_seconds")


def study_config_name(study: str) -> str:
    """File name (in the run directory) where schema-1 stores kept a study's settings.

    Only the migration to schema 2 reads it: the settings now live in the store
    (:meth:`RunStore.study_settings`), so deleting files never unsets them.
    """
    return legacy_study_file(study)


def _study_config(store: RunStore, study: str) -> dict[str, Any]:
    """The settings :func:`run_search` recorded for ``study``, checked for the objectives' directions."""
    config = store.study_settings(study)  # CorruptFileError when the row is not JSON
    if config is None:
        raise DataNotFoundError(f"search study {study!r} in {store.run_dir} has trials but no recorded settings "
                                "(which objectives were maximised): its run was written by gcnas before the store "
                                f"kept them and its {study_config_name(study)} is gone; rerun the same "
                                "`gcnas search run` to record them")
    names = config.get("objectives")
    maximize = config.get("maximize")
    if (not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names)
            or not isinstance(maximize, list) or len(maximize) != len(names)
            or not all(isinstance(m, bool) for m in maximize)):
        raise CorruptFileError(f"run store {str(store.path)!r}: the settings of study {study!r} do not list its "
                               "objectives and whether each is maximised (\"objectives\": [names], \"maximize\": "
                               "[true/false each]); delete them (sqlite3 "
                               f"{store.path} \"DELETE FROM studies WHERE study='{study}'\") and rerun the same "
                               "`gcnas search run` to record them again")
    return config


@dataclass
class SearchResult:
    """Every trial of one study, with the objectives' directions.

    Attributes:
        study: Study name in the run store.
        objectives: Objective names, the first one primary.
        maximize: Direction of each objective.
        trials: Trials in evaluation order (failed ones included).
        config: The study's settings (method, seed, constraints ...).
    """

    study: str
    objectives: list[str]
    maximize: list[bool]
    trials: list[Trial]
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, store: RunStore, study: str) -> SearchResult:
        """The study ``study`` of a run store (written by :func:`run_search`).

        Args:
            store: The run store.
            study: Study name.

        Returns:
            The study's result.

        Raises:
            InvalidInputError: The run has no such study.
            DataNotFoundError: The store has no settings for the study (a schema-1 run
                whose settings file was lost before the store was upgraded).
            CorruptFileError: The recorded settings cannot be read, or do not say which
                objectives were maximised (never guessed: a guess flips Pareto fronts).
        """
        trials = store.trials(study)
        if not trials:
            known = ", ".join(store.studies()) or "none"
            raise InvalidInputError(f"run {store.run_dir} has no search study {study!r} (studies: {known})")
        config = _study_config(store, study)
        return cls(study, list(config["objectives"]), [bool(m) for m in config["maximize"]], trials, config)

    def __len__(self) -> int:
        return len(self.trials)

    @property
    def ok(self) -> np.ndarray:
        """``(n,)`` successful trials."""
        return np.array([t.status == "ok" for t in self.trials], dtype=bool)

    @property
    def feasible(self) -> np.ndarray:
        """``(n,)`` successful trials meeting every constraint."""
        return np.array([t.status == "ok" and t.report.get("feasible", True) for t in self.trials], dtype=bool)

    def values(self, column: str) -> np.ndarray:
        """``(n,)`` an objective or report column of every trial (NaN where absent).

        Raises:
            InvalidInputError: No trial of the study has the column (a misspelt name).
        """
        known = set(self.objectives).union(*(set(t.objectives) | set(t.report) for t in self.trials))
        if self.trials and column not in known:
            raise InvalidInputError(f"study {self.study!r} has no column {column!r}; it has: "
                                    f"{', '.join(sorted(known))}")
        out = np.full(len(self.trials), np.nan)
        for i, t in enumerate(self.trials):
            value = t.objectives.get(column, t.report.get(column))
            if isinstance(value, (int, float)) and value is not None:
                out[i] = float(value)
        return out

    def signed(self) -> np.ndarray:
        """``(n, m)`` objectives in the maximisation convention."""
        Y = np.column_stack([self.values(n) for n in self.objectives])
        return Y * np.where(self.maximize, 1.0, -1.0)

    def incumbent_index(self) -> np.ndarray:
        """``(n,)`` index of the best feasible trial so far by the primary objective (-1: none yet)."""
        y = self.signed()[:, 0]
        y = np.where(self.feasible & np.isfinite(y), y, -np.inf)
        best, out, idx = -np.inf, np.full(len(y), -1), -1
        for t, value in enumerate(y):
            if value > best:
                best, idx = value, t
            out[t] = idx
        return out

    def best_so_far(self, column: str | None = None) -> np.ndarray:
        """``(n,)`` the incumbent's ``column`` after each trial (default: the primary objective).

        With ``column="test_acc"`` (a report column) this is the literature's curve:
        select on validation accuracy, report the selected architecture's test accuracy.
        """
        values = self.values(column or self.objectives[0])
        idx = self.incumbent_index()
        return np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)

    def pareto_front(self) -> list[Trial]:
        """The feasible, non-dominated trials."""
        Y = self.signed()
        keep = self.feasible & np.isfinite(Y).all(axis=1)
        mask = np.zeros(len(Y), dtype=bool)
        mask[keep] = pareto_mask(Y[keep])
        return [t for t, m in zip(self.trials, mask) if m]

    def hypervolume_curve(self, ref_point: Sequence[float]) -> np.ndarray:
        """``(n,)`` hypervolume after each trial; ``ref_point`` in the objectives' own units."""
        ref = np.asarray(ref_point, dtype=np.float64) * np.where(self.maximize, 1.0, -1.0)
        return hypervolume_curve(self.signed(), ref, self.feasible)

    def steps(self, columns: Sequence[str] = (), ref_point: Sequence[float] | None = None) -> list[dict[str, Any]]:
        """One row per trial: the trial, its arch and objectives, the incumbent, the hypervolume."""
        idx = self.incumbent_index()
        hv = self.hypervolume_curve(ref_point) if ref_point is not None else None
        rows = []
        for t, trial in enumerate(self.trials):
            row: dict[str, Any] = {"trial": trial.trial, "status": trial.status, "arch": str(trial.arch),
                                   **{n: trial.objectives.get(n) for n in self.objectives}}
            best = self.trials[idx[t]] if idx[t] >= 0 else None
            row["best_" + self.objectives[0]] = best.objectives.get(self.objectives[0]) if best else None
            for column in columns:
                row["best_" + column] = (best.objectives.get(column, best.report.get(column)) if best else None)
            if hv is not None:
                row["hypervolume"] = float(hv[t])
            rows.append(row)
        return rows

    def to_records(self, table: BenchmarkTable | None = None) -> list[dict[str, Any]]:
        """Every trial as a flat record, ready for CSV, JSON or ``pandas.DataFrame(records)``.

        Every record has the same keys, in this order: ``trial``, ``status``, ``code``
        (NAS-Bench-201's integer code; None in another space), ``arch`` (``space.format``),
        ``index`` (the official index in ``table``; ``None`` without a table or
        where the table lacks the cell), one key per objective, the report columns of the
        study (``--report-from``), any other recorded column (a constraint's metric, a
        searcher's note), ``feasible``, ``ask_seconds`` (the searcher's proposal time,
        shared by the trials of one step), ``eval_seconds`` and ``error``. Missing and
        non-finite values are ``None``, so the records serialise as strict JSON. A recorded
        column whose name clashes with a fixed key is prefixed ``report_``.

        Args:
            table: A benchmark table mapping cells to official indices (optional).

        Returns:
            One dict per trial, in evaluation order.

        Example:
            >>> result = SearchResult.load(RunStore("runs/trials"), "random")   # docs/search.md
            >>> result.to_records(BenchmarkTable("nb201_cifar10_200ep.csv"))[0]
            {'trial': 0, 'status': 'ok', 'code': 13291, 'arch': '|avg_pool_3x3~0|+...', 'index': 14950,
             'accuracy': 75.328, 'test_acc': 79.8033, 'feasible': True, ...}
        """
        reported = [n for n in self.config.get("report", []) if n not in self.objectives]
        extra: list[str] = []
        for trial in self.trials:
            extra += [k for k in trial.report if k not in reported and k not in _TIMINGS and k not in extra]
        taken = set(_FIXED) | set(self.objectives) | {"error"}
        rename = {k: (f"report_{k}" if k in taken else k) for k in (*reported, *sorted(extra))}
        records = []
        space = resolve_space((self.config.get("searcher") or {}).get("space"))
        for trial in self.trials:
            index = table.index(trial.arch) if table is not None and trial.arch in table else None
            # ``code``: NAS-Bench-201's integer code, None for a space without one
            record: dict[str, Any] = {"trial": trial.trial, "status": trial.status,
                                      "code": getattr(trial.arch, "code", None), "arch": space.format(trial.arch),
                                      "index": index}
            record.update({n: _plain(trial.objectives.get(n)) for n in self.objectives})
            record.update({new: _plain(trial.report.get(old)) for old, new in rename.items()})
            record.update({k: _plain(trial.report.get(k)) for k in _TIMINGS})
            record["error"] = trial.error
            records.append(record)
        return records

    def to_csv(self, path: str | os.PathLike, table: BenchmarkTable | None = None) -> Path:
        """Write :meth:`to_records` to a CSV file (``None`` as an empty cell).

        Args:
            path: Destination file.
            table: A benchmark table for the ``index`` column (optional).

        Returns:
            The path written.
        """
        records = self.to_records(table)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else list(_FIXED))
            writer.writeheader()
            writer.writerows(records)
        return path


def _plain(value: Any) -> Any:
    """A JSON-safe scalar: NaN and infinities become ``None``, numpy scalars Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
