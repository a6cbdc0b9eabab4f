"""Helpers of the predictor benchmarks: reference data paths, resumable JSON results, summaries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

SHARED = Path(os.environ.get("GCNAS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        raise SystemExit(f"reference data {relative} not found under {SHARED} (set GCNAS_SHARED_DATA)")
    return path


class Results:
    """Finished measurements in a JSON file, so an interrupted benchmark resumes."""

    def __init__(self, path: str | os.PathLike, compute: bool = True) -> None:
        self.path = Path(path)
        self.compute = compute
        self.rows: list[dict[str, Any]] = json.loads(self.path.read_text()) if self.path.exists() else []

    def get(self, key: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
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


def mean_std(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f} (n={len(values)})"
