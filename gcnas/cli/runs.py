"""``gcnas runs`` and ``gcnas status``: what the runs hold, read without changing anything.

Both open every run store read-only (:class:`~gcnas.data.RunStore` ``mode="ro"``): they never
create a run directory or a store, never migrate one, and read a run that another command is
writing (SQLite's WAL lets them) or a read-only copy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gcnas.cli._common import emit, format_table

if TYPE_CHECKING:
    from gcnas.data import RunStore

DEPTH = 3
"""How deep below ``DIR`` ``gcnas runs`` looks for run stores (``runs/bench/fused`` is two deep)."""

_SETTINGS_SHOWN = 6
"""Settings of a stage shown in ``gcnas status`` (its scalar values, in recorded order)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    runs = subparsers.add_parser(
        "runs", help="list the runs under DIR: stages done, samples, lookup table, studies",
        description="Lists every run directory under DIR (a folder holding gcnas.sqlite, up to three levels down) "
                    "with the pipeline stages it has finished and its search studies. Reads only: nothing is "
                    "created or changed. `gcnas status RUN` gives one run's details.")
    runs.add_argument("dir", nargs="?", default="runs", metavar="DIR", help="folder of runs (default runs)")
    runs.add_argument("--format", choices=["table", "json", "csv"], default="table",
                      help="output format: table, json, csv (default table)")
    runs.set_defaults(handler=runs_command)

    status = subparsers.add_parser(
        "status", help="one run: its stages with their settings, samples, costs, features, studies",
        description="Shows what one run holds: every finished stage with its key settings and time, the samples, "
                    "costs, cell features, embeddings and lookup table stored, and each search study with its "
                    "objectives, trial count and best values. Reads only: nothing is created or changed.")
    status.add_argument("run", nargs="?", default="runs/default", metavar="RUN",
                        help="run directory (default runs/default)")
    status.add_argument("--format", choices=["table", "json"], default="table",
                        help="output format: table or json (default table)")
    status.set_defaults(handler=status_command)


# -- gcnas runs ----------------------------------------------------------------------------

def find_runs(folder: Path, depth: int = DEPTH) -> list[Path]:
    """The run directories at or under ``folder`` (those holding ``gcnas.sqlite``), sorted.

    Args:
        folder: Where to look.
        depth: Levels below ``folder`` searched.

    Returns:
        The run directories.
    """
    from gcnas.data.store import DB_NAME

    found = [folder] if (folder / DB_NAME).is_file() else []
    level = [folder]
    for _ in range(depth):
        level = sorted(p for parent in level for p in _subfolders(parent))
        found += [p for p in level if (p / DB_NAME).is_file()]
    return sorted(found)


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:  # unreadable: nothing to list
        return []


def stages_done(store: RunStore) -> list[str]:
    """The pipeline stages a run has finished, in pipeline order, in a few words each.

    Args:
        store: The run store.

    Returns:
        E.g. ``["supernet", "samples 200", "predictor", "lut 15625", "arch2vec", "demo"]``.
    """
    names = store.stage_times()
    done = []
    if "supernet:train" in names:
        done.append("supernet")
    kinds = sorted(store.sample_kinds(), key=lambda kind: kind[0] != "supernet")  # the supernet's first
    done += [f"samples {count}" if source == "supernet" else f"samples:{source} {count}"
             for source, count, *_ in kinds]
    if any(metric == "latency_ms" and not device.endswith("-predicted") for metric, device, _ in store.cost_kinds()):
        done.append("latency measured")
    features = {name for name, _, _ in store.feature_kinds()}
    if features:
        done.append(f"features {len(features)}")
    done += [name for name in names if name == "predictor" or name.startswith("predictor:")]
    if "lut" in names or store.lut_size():
        done.append("lut")
    done += [encoder for encoder, _, _ in store.embedding_kinds()]
    if any(name.startswith("demo:") for name in names):
        done.append("demo" if "demo:retrain" in names else "demo (unfinished)")
    return done


def _run_row(folder: Path, run: Path) -> dict[str, Any]:
    from gcnas.data import RunStore
    from gcnas.exceptions import GcnasError

    name = "." if run == folder else str(run.relative_to(folder))
    try:
        with RunStore(run, mode="ro") as store:
            times = store.stage_times()
            sizes = store.study_sizes()
            return {"run": name, "space": store.space_name, "stages": ", ".join(stages_done(store)) or "-",
                    "studies": ", ".join(f"{study} ({total})" for study, (total, _) in sizes.items()) or "-",
                    "last": _when(max((f for f, _ in times.values()), default=None)), "error": None}
    except GcnasError as error:  # one damaged run does not hide the others
        return {"run": name, "space": None, "stages": "-", "studies": "-", "last": None, "error": str(error)}


def runs_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import DataNotFoundError

    folder = Path(args.dir)
    if not folder.is_dir():
        raise DataNotFoundError(f"{str(folder)!r} is not a folder; name the folder that holds your runs "
                                "(gcnas runs DIR)")
    rows = [_run_row(folder, run) for run in find_runs(folder)]
    if args.format == "json":
        emit(rows, "json")
        return 0
    if not rows:
        print(f"no runs under {str(folder)!r} (a run is a folder holding gcnas.sqlite)")
        return 0
    columns = ["run", "space", "stages", "studies", "last"] + (["error"] if any(r["error"] for r in rows) else [])
    if args.format == "table":  # `gcnas status RUN` says the whole message
        rows = [{**r, "error": _short(r["error"])} for r in rows]
    emit(rows, args.format, columns)
    return 0


def _short(text: str | None, width: int = 80) -> str | None:
    return text if text is None or len(text) <= width else text[:width - 3] + "..."


# -- gcnas status --------------------------------------------------------------------------

def _when(seconds: float | None) -> str | None:
    return None if seconds is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _settings(info: dict[str, Any]) -> str:
    """The first scalar settings of a stage record, ``key=value`` (lists, tables and timings left out)."""
    shown = []
    for key, value in info.items():
        if key in ("seconds", "built") or isinstance(value, (list, dict)) or value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        shown.append(f"{key}={_short(str(value), 40)}")
        if len(shown) == _SETTINGS_SHOWN:
            break
    return ", ".join(shown)


def study_rows(store: RunStore) -> list[dict[str, Any]]:
    """Each search study: method, objectives (max/min), trials, failed, best values, running.

    Args:
        store: The run store.

    Returns:
        One record per study; ``best`` maps each objective to its best value over the
        successful trials that meet the constraints (``error`` says why a study cannot be read).
    """
    import math

    from gcnas.exceptions import GcnasError
    from gcnas.search import SearchResult

    rows = []
    for study, (total, failed) in store.study_sizes().items():
        row: dict[str, Any] = {"study": study, "trials": total, "failed": failed,
                               "running": store.study_running(study)}
        try:
            result = SearchResult.load(store, study)
            columns = {name: result.values(name) for name in result.objectives}
        except GcnasError as error:  # settings lost or unreadable: the counts still show
            rows.append({**row, "error": str(error)})
            continue
        best = {}
        for name, maximize in zip(result.objectives, result.maximize):
            values = [v for v, ok in zip(columns[name], result.feasible) if ok and math.isfinite(v)]
            best[name] = (max(values) if maximize else min(values)) if values else None
        row.update(method=result.config.get("method"),
                   objectives={name: "max" if m else "min" for name, m in zip(result.objectives, result.maximize)},
                   best=best)
        if len(result.objectives) > 1:
            row["pareto_front"] = len(result.pareto_front())
        else:
            index = int(result.incumbent_index()[-1])
            row["best_arch"] = str(result.trials[index].arch) if index >= 0 else None
        rows.append(row)
    return rows


def run_status(store: RunStore) -> dict[str, Any]:
    """Everything ``gcnas status`` shows of one run, as plain data.

    Args:
        store: The run store (opened read-only).

    Returns:
        ``run``, ``space``, ``schema_version``, ``stages`` (name, finished, seconds, settings), ``samples``,
        ``costs``, ``features``, ``embeddings``, ``lut`` and ``studies``.
    """
    infos = store.stages()
    stages = [{"stage": name, "finished": _when(finished), "seconds": seconds,
               "settings": _settings(infos.get(name, {}))} for name, (finished, seconds) in store.stage_times().items()]
    lut = None
    if store.lut_size():
        meta = store.lut_meta()
        lut = {"rows": store.lut_size(), "columns": store.lut_columns(), "predictor": meta.get("predictor"),
               "latency": meta.get("latency"), "energy": meta.get("energy")}
    return {
        "run": str(store.run_dir), "space": store.space_name, "schema_version": store.schema_version,
        "stages": stages,
        "samples": [{"source": s, "count": n, "accuracy_min": lo, "accuracy_max": hi}
                    for s, n, lo, hi in store.sample_kinds()],
        "costs": [{"metric": m, "device": d, "count": n} for m, d, n in store.cost_kinds()],
        "features": [{"feature": f, "setting": s, "cells": n} for f, s, n in store.feature_kinds()],
        "embeddings": [{"encoder": e, "cells": n, "dim": d} for e, n, d in store.embedding_kinds()],
        "lut": lut,
        "studies": study_rows(store),
    }


def status_command(args: argparse.Namespace) -> int:
    from gcnas.data import RunStore

    with RunStore(args.run, mode="ro") as store:  # reads only: a missing run is an error, never created
        status = run_status(store)
    if args.format == "json":
        emit(status, "json")
        return 0
    print(f"run {status['run']} (store schema v{status['schema_version']})")
    blocks = [("stages", status["stages"], ["stage", "finished", "seconds", "settings"]),
              ("samples", status["samples"], None), ("costs", status["costs"], None),
              ("cell features", status["features"], None), ("embeddings", status["embeddings"], None)]
    for title, rows, columns in blocks:
        if rows:
            print(f"\n{title}:\n{format_table(rows, columns)}")
    if status["lut"]:
        lut = status["lut"]
        print(f"\nlookup table: {lut['rows']} rows; columns {', '.join(lut['columns'])}; predictor "
              f"{lut['predictor']}, latency {lut['latency'] or '-'}, energy {lut['energy'] or '-'}")
    studies = [_study_line(s) for s in status["studies"]]
    if studies:
        print("\nstudies:\n" + format_table(studies))
    if not any((status["stages"], status["samples"], status["lut"], status["studies"])):
        print("\nnothing finished yet")
    return 0


def _study_line(row: dict[str, Any]) -> dict[str, Any]:
    """A study as one table row: best values written ``name value (max)``."""
    if "error" in row:
        return {"study": row["study"], "method": None, "trials": row["trials"], "failed": row["failed"],
                "running": "yes" if row["running"] else "no", "best": f"(unreadable: {row['error']})"}
    best = ", ".join(f"{name} {'-' if value is None else f'{value:.4g}'} ({row['objectives'][name]})"
                     for name, value in row["best"].items())
    extra = (f"; front {row['pareto_front']}" if "pareto_front" in row else
             f"; {row['best_arch']}" if row.get("best_arch") else "")
    return {"study": row["study"], "method": row.get("method"), "trials": row["trials"], "failed": row["failed"],
            "running": "yes" if row["running"] else "no", "best": best + extra}
