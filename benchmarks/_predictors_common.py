"""Helpers of the predictor benchmarks: reference data paths, resumable rows, summaries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

SHARED = Path(os.environ.get("GCNAS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        raise SystemExit(f"reference data {relative} not found under {SHARED} (set GCNAS_SHARED_DATA)")
    return path


class RowCache:
    """Finished measurements of a resumable benchmark, one JSON file, so an interrupted run resumes.

    The file lives in a cache folder named by :func:`_results.cache_key` (settings and code
    version): rows measured by other code are never reused. The results file proper is
    written by :class:`_results.BenchmarkRun` from the rows a run asked for.

    Args:
        path: The JSON file of rows.
        compute: Compute rows that are missing (False: only read what is there).
    """

    def __init__(self, path: str | os.PathLike, compute: bool = True) -> None:
        self.path = Path(path)
        self.compute = compute
        self.rows: list[dict[str, Any]] = json.loads(self.path.read_text()) if self.path.exists() else []

    def get(self, key: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        """The row whose fields include ``key``; computed (and saved) if missing and allowed."""
        for row in self.rows:
            if all(row.get(k) == v for k, v in key.items()):
                return row
        if not self.compute:
            return None
        row = {**key, **compute()}
        self.rows.append(row)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.rows, indent=1))
        print(json.dumps(row), flush=True)
        return row


def summary_figures(prefix: str, rows: list[dict[str, Any]], metrics: Iterable[str]) -> dict[str, float | int | None]:
    """``{prefix}.{metric}.mean`` / ``.std`` (population) for each metric, and ``{prefix}.n``."""
    figures: dict[str, float | int | None] = {f"{prefix}.n": len(rows)}
    for metric in metrics:
        values = [float(r[metric]) for r in rows]
        figures[f"{prefix}.{metric}.mean"] = float(np.mean(values)) if values else None
        figures[f"{prefix}.{metric}.std"] = float(np.std(values)) if values else None
    return figures


def mean_std(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f} (n={len(values)})"
