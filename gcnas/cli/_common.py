"""Helpers shared by the ``gcnas`` subcommands: common flags and output formats."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from gcnas.exceptions import InvalidInputError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from gcnas.parallel import Executor
    from gcnas.predictors.truth import Truth

__all__ = ["TRUTH_FORMS", "PACKAGED_TABLES", "add_common", "add_space", "arch_ids", "run_space", "add_executor_options",
           "add_truth", "executor_kind", "open_executor", "emit", "emit_judged", "format_table", "judgement_line",
           "judgement_record", "load_truth", "no_empty_run_left", "open_store", "open_table_arg", "read_store",
           "resolve_arch", "true_values"]


def add_executor_options(parser: argparse.ArgumentParser, verb: str, note: str = "") -> None:
    """``--workers/--executor/--ray-address``: run the work of ``parser``'s command on parallel workers.

    Args:
        parser: The command's parser.
        verb: What the workers do (``score``, ``measure``), first word of ``--workers``'s help.
        note: A caveat appended to ``--workers``'s help.
    """
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help=f"{verb} on N parallel workers; this process alone writes the run store (default 1: "
                             f"everything in this process){note}")
    parser.add_argument("--executor", choices=("process", "ray"),
                        help="where the workers run: process (local processes; the default with --workers > 1) "
                             "or ray (a local Ray instance, or the cluster of --ray-address; pip install "
                             "'gcnas[ray]')")
    parser.add_argument("--ray-address", metavar="ADDR",
                        help="address of a running Ray cluster (HOST:PORT, ray://HOST:PORT or auto); implies "
                             "--executor ray (default: start a local instance reachable from this machine only)")


def executor_kind(args: argparse.Namespace) -> str | None:
    """The executor kind that ``add_executor_options`` asked for, or None for this process alone.

    Raises:
        InvalidInputError: ``--workers`` below 1, or ``--ray-address`` with ``--executor process``.
    """
    if args.workers < 1:
        raise InvalidInputError(f"--workers must be at least 1, got {args.workers}")
    if args.ray_address and args.executor == "process":
        raise InvalidInputError("--ray-address belongs to --executor ray; drop one of them")
    return args.executor or ("ray" if args.ray_address else "process" if args.workers > 1 else None)


def open_executor(args: argparse.Namespace) -> AbstractContextManager[Executor | None]:
    """The executor :func:`executor_kind` asks for, as a context manager (None: this process alone)."""
    import contextlib

    from gcnas.parallel import make_executor

    kind = executor_kind(args)
    if kind is None:
        return contextlib.nullcontext()
    return make_executor(kind, args.workers, ray_address=args.ray_address)


def add_common(parser: argparse.ArgumentParser, *, formats: Sequence[str] = ("table", "json", "csv")) -> None:
    """Add ``--run``, ``--seed`` and ``--format`` to a subcommand."""
    parser.add_argument("--run", default="runs/default", metavar="DIR",
                        help="run directory (holds config.json, checkpoints, gcnas.sqlite); default runs/default")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=list(formats), default=formats[0],
                        help=f"output format: {', '.join(formats)} (default {formats[0]}); JSON is strict (NaN is null)")


TRUTH_FORMS = "table:CSV:COLUMN | nb201:cifar10:COLUMN | natsbench:PATH:DATASET:METRIC[:HP]"
"""The ``--truth`` forms shown in help texts (every form of :mod:`gcnas.data.table_specs`)."""


def add_truth(parser: argparse.ArgumentParser) -> None:
    """Add ``--truth SPEC``: true values reported beside a ranking, never used by it."""
    parser.add_argument("--truth", metavar="SPEC",
                        help="a benchmark table column reported beside the ranking (the true value of each row, "
                             "Kendall tau, Spearman, precision@5%%): " + TRUTH_FORMS + " (nb201:cifar10 is "
                             "packaged: valid_acc, test_acc). Only read for the report, never for fitting, "
                             "ranking or picking. With --format json the output becomes {rows, truth}")


def load_truth(args: argparse.Namespace) -> Truth | None:
    """The :class:`~gcnas.predictors.Truth` of ``--truth`` (``None`` when not given).

    Raises:
        InvalidInputError: A spec not of a benchmark column form (``table:CSV:COLUMN``,
            ``nb201:cifar10:COLUMN``, ``natsbench:PATH:DATASET:METRIC[:HP]``), or an unknown column.
        DataNotFoundError: The CSV or archive does not exist.
    """
    spec = getattr(args, "truth", None)
    if spec is None:  # spares a command without --truth the import of scipy (its metrics)
        return None
    from gcnas.predictors.truth import parse_truth

    return parse_truth(spec)


def true_values(truth: Truth, archs: Sequence[Any]) -> list[float | None]:
    """The true value of each architecture, ``None`` where the table lacks it (JSON-safe)."""
    return [None if math.isnan(v) else float(v) for v in truth.values(list(archs))]


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def judgement_record(truth: Truth, judgement: Mapping[str, Any]) -> dict[str, Any]:
    """A :meth:`Truth.judge` result as a JSON-safe record (NaN -> ``None``), naming the truth."""
    return {"column": truth.column, "table": str(truth.table.path) if truth.table.path else None,
            **{k: _rounded(v if isinstance(v, int) else float(v)) for k, v in judgement.items()}}


def judgement_line(truth: Truth, judgement: Mapping[str, Any]) -> str:
    """The judgement in one line.

    Args:
        truth: The truth judged against.
        judgement: Its :meth:`Truth.judge` result.

    Returns:
        E.g. ``vs truth test_acc: Kendall tau 0.412, Spearman 0.583, precision@5% 0.30
        (n=500; top 50: tau 0.10)`` (``top K``: Kendall tau within the true top ``K``).
    """
    n = int(judgement["n"])
    if math.isnan(judgement["kendall_tau"]):
        return f"vs truth {truth.column}: too few cells with a true value to judge (n={n})"
    return (f"vs truth {truth.column}: Kendall tau {judgement['kendall_tau']:.3f}, "
            f"Spearman {judgement['spearman']:.3f}, precision@5% {judgement['precision_at_5']:.2f} "
            f"(n={n}; top {judgement['top_n']}: tau {judgement['top_kendall_tau']:.2f})")


def emit_judged(rows: Sequence[Mapping[str, Any]], fmt: str, truth: Truth | None,
                judgement: Mapping[str, Any] | None, columns: Sequence[str] | None = None, out=None,
                summary: Mapping[str, Any] | None = None) -> None:
    """Print rows as :func:`emit` does, with the truth's judgement of the ranking beside them.

    Without a truth or a summary this is :func:`emit`. Otherwise JSON becomes
    ``{"rows": [...], **summary, "truth": {...}}``; a table is followed by one ``name: value``
    line per summary field and by :func:`judgement_line`; CSV (kept a plain CSV) gets those
    lines on stderr.

    Args:
        rows: The output rows (with their ``true_<column>`` already added).
        fmt: ``table``, ``json`` or ``csv``.
        truth: The ``--truth`` (or ``None``).
        judgement: :meth:`Truth.judge` of the command's scores (``None``: rows only).
        columns: Columns shown (table, CSV).
        out: Stream (default stdout).
        summary: Figures of the whole output (a hypervolume ...), each its own field, never a row.
    """
    out = out or sys.stdout
    summary = dict(summary or {})
    if truth is None and not summary:
        emit(rows, fmt, columns, out=out)
        return
    if fmt == "json":
        record: dict[str, Any] = {"rows": list(rows), **summary}
        if truth is not None:
            record["truth"] = None if judgement is None else judgement_record(truth, judgement)
        emit(record, "json", out=out)
        return
    emit(rows, fmt, columns, out=out)
    side = out if fmt == "table" else sys.stderr
    for name, value in summary.items():
        print(f"{name}: {_cell(value) if not isinstance(value, (list, tuple)) else value}", file=side)
    if truth is not None and judgement is not None:
        print(judgement_line(truth, judgement), file=side)


def add_space(parser: argparse.ArgumentParser, *, creates: bool = True) -> None:
    """Add ``--space NAME``: the search space of a run this command creates (or of the cells it reads).

    Args:
        parser: The command's parser.
        creates: Whether the command may create a run (the help says how an existing run answers).
    """
    from gcnas.spaces import space_names

    where = ("a new run records it; an existing run is read with its own space and a different --space is "
             "refused" if creates else "the space the architectures are written in")
    parser.add_argument("--space", choices=space_names(), default=None, metavar="NAME",
                        help=f"search space: {', '.join(space_names())} (default: the run's, else nb201); {where}")


def run_space(args: argparse.Namespace, store: Any = None) -> Any:
    """The search space a command works in: ``store``'s when given, else ``--space``, else the default.

    Raises:
        InvalidInputError: ``--space`` contradicts the run's space.
    """
    from gcnas.data.store import DEFAULT_SPACE
    from gcnas.spaces import get_space

    asked = getattr(args, "space", None)
    if store is not None:
        if asked is not None and asked != store.space_name:
            raise InvalidInputError(f"run {str(store.run_dir)!r} is over the {store.space_name!r} space, not "
                                    f"{asked!r}; leave --space out (a run's space is read from it)")
        return store.space
    return get_space(asked or DEFAULT_SPACE)


def default_cells(space: Any) -> int | None:
    """``--cells`` left out: None for a space whose network declares ``cells=None`` (its depth is
    part of the architecture, as in the IMC macro space), else 5 (NAS-Bench-201's cells per stage)."""
    from gcnas.spaces import depth_in_architecture

    return None if depth_in_architecture(space) else 5


PACKAGED_TABLES: dict[str, str] = {"nb201": "nb201:cifar10"}
"""The benchmark table packaged with gcnas for a space, whose row numbers are the official
indices that ``index:N`` names and that commands print beside a cell."""


def arch_ids(space: Any, arch: Any) -> dict[str, Any]:
    """The identifiers a command prints beside a cell, where its space has them: ``code`` (an
    integer the architecture itself carries) and ``index`` (its row in the space's packaged
    benchmark table, :data:`PACKAGED_TABLES`). ``{}`` for a space with neither (DARTS)."""
    ids: dict[str, Any] = {}
    code = getattr(arch, "code", None)
    if isinstance(code, int):
        ids["code"] = code
    if space.name in PACKAGED_TABLES:
        from gcnas.data import BenchmarkTable

        table = BenchmarkTable.packaged(PACKAGED_TABLES[space.name])
        ids["index"] = table.index(arch) if arch in table else None
    return ids


READ_ONLY_COMMANDS: tuple[tuple[str, str], ...] = (("lut", "query"), ("search", "trials"), ("search", "compare"))
"""Commands that only read the run store: they read a run that cannot be written (a shared,
read-only copy) as it is; every other command refuses one before doing any work."""


def open_store(args: argparse.Namespace, mode: str | None = None):
    """The run store of ``--run``.

    Args:
        args: The parsed command line (``run``; ``command`` and its subcommand choose the mode).
        mode: ``"rw"``, ``"ro"`` or ``"auto"`` (:class:`~gcnas.data.RunStore`); ``None``:
            ``"auto"`` (read-only when the store cannot be written) for the
            :data:`READ_ONLY_COMMANDS`, ``"rw"`` for the others.

    Returns:
        The open store.

    Raises:
        DataNotFoundError: A command that only reads (``mode`` not ``"rw"``) and no run at
            ``--run``: nothing is created.
    """
    from gcnas.data import RunStore

    if mode is None:
        command = getattr(args, "command", None)
        subcommand = getattr(args, f"{command}_command", None)
        mode = "auto" if (command, subcommand) in READ_ONLY_COMMANDS else "rw"
    space = getattr(args, "space", None)
    if mode != "rw":
        return read_store(args.run, space=space)
    return RunStore(args.run, mode=mode, space=space)


def read_store(run: str | os.PathLike, space: str | None = None):
    """The store of an existing run, opened to read (read-only when it cannot be written).

    Args:
        run: The run directory.
        space: The space the run must be over (``None``: whatever it is).

    Returns:
        The open store.

    Raises:
        DataNotFoundError: No run store at ``run``; nothing is created.
    """
    from gcnas.data import RunStore
    from gcnas.data.store import DB_NAME

    if not (Path(run) / DB_NAME).is_file():
        from gcnas.exceptions import DataNotFoundError

        hint = "it holds no run store" if Path(run).is_dir() else "no such folder"
        raise DataNotFoundError(f"no run at {str(run)!r} ({hint}); check --run DIR (`gcnas runs` lists the runs)")
    return RunStore(run, mode="auto", space=space)


@contextlib.contextmanager
def no_empty_run_left(args: argparse.Namespace) -> Iterator[None]:
    """Run a command so that, if it fails, the ``--run`` folder it created goes again when it
    holds nothing but an empty run store (a typo in ``--run`` leaves nothing behind).

    A folder that existed before, or that holds anything written by the command, is kept.

    Args:
        args: The parsed command line (its ``run``, when it has one).
    """
    run = getattr(args, "run", None)
    created = _first_missing(Path(run).absolute()) if isinstance(run, (str, os.PathLike)) and str(run) else None
    try:
        yield
    except BaseException:
        if created is not None:
            with contextlib.suppress(OSError):  # never in the way of the command's own error
                discard_empty_run(Path(run).absolute(), created)
        raise


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` that does not exist yet (``None``: ``path`` exists)."""
    if path.exists():
        return None
    while not path.parent.exists() and path.parent != path:
        path = path.parent
    return path


def discard_empty_run(run: Path, created: Path) -> bool:
    """Remove ``run`` if it holds nothing but an empty run store, with its parents up to
    ``created`` (the outermost folder the command made) while they are empty.

    Args:
        run: The run directory (absolute).
        created: ``run`` or one of its parents.

    Returns:
        Whether ``run`` was removed.
    """
    from gcnas.data.store import DB_NAME, RunStore
    from gcnas.exceptions import GcnasError

    if not run.is_dir():
        return False
    store_files = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")
    names = {entry.name for entry in run.iterdir()}
    if names - set(store_files):
        return False
    if DB_NAME in names:
        RunStore.close_all(run)
        try:
            with RunStore(run, mode="ro") as store:
                if not store.is_empty():
                    return False
        except GcnasError:
            return False
    for name in store_files:  # reading it may have made its -wal and -shm files again
        (run / name).unlink(missing_ok=True)
    folder = run
    while True:
        try:
            folder.rmdir()
        except OSError:
            break
        if folder == created or folder.parent == folder:
            break
        folder = folder.parent
    return not run.exists()


ARCH_FORMS = ("an architecture in its space's notation (nb201: |op~0|+|op~0|op~1|+|op~0|op~1|op~2|, code:N "
              "(intrinsic, 0..15624) or index:N (official); darts: Genotype(normal=[...], ...))")
"""How a cell may be named on the command line (help texts)."""


def resolve_arch(text: str, table: str | None = None, space: Any = None) -> Any:
    """An architecture of ``space`` from its notation, ``code:N`` or ``index:N``.

    ``index:N`` is the row of a benchmark table, ``table`` (default: the space's packaged
    table, :data:`PACKAGED_TABLES`). ``code:N`` is read by the space (NAS-Bench-201's intrinsic
    code; a bare number too, except beside a ``--table``, where it would be ambiguous).

    Args:
        text: The architecture as written on the command line.
        table: A benchmark CSV mapping indices to cells, or a table name (:func:`open_table_arg`).
        space: The search space (default: :data:`gcnas.data.store.DEFAULT_SPACE`).

    Returns:
        The architecture.

    Raises:
        InvalidInputError: Text the space cannot read, or an index the table lacks.
    """
    from gcnas.exceptions import GcnasError

    if space is None:
        from gcnas.data.store import DEFAULT_SPACE
        from gcnas.spaces import get_space

        space = get_space(DEFAULT_SPACE)
    text = text.strip()
    kind, sep, number = text.partition(":")
    if sep and kind in ("index", "code"):
        if not number.isdigit():
            raise InvalidInputError(f"{text!r}: {kind}:N needs a non-negative integer N")
        if kind == "index":
            table = table or PACKAGED_TABLES.get(space.name)
            if table is None:
                raise InvalidInputError(f"{text!r}: the {space.name!r} space has no packaged benchmark table; name "
                                        "the table the index refers to with --table")
            return open_table_arg(table).arch(int(number))
        text = number
    elif text.isdigit() and table is not None:
        raise InvalidInputError(f"{text!r} beside --table is ambiguous: write index:{text} (the table's official "
                                f"index) or code:{text} (gcnas's intrinsic code)")
    try:
        return space.parse(text)
    except GcnasError:
        raise
    except (ValueError, TypeError) as error:  # a space may raise plain ValueError (NAS-Bench-201's Arch)
        raise InvalidInputError(f"not an architecture of the {space.name!r} space: {error}") from error


def official_index(arch: Any, space: Any = None) -> int | None:
    """The official index of a cell in its space's packaged benchmark table (``None`` where the
    space has none, or the table lacks the cell), shown wherever a command prints a cell."""
    if space is None:
        from gcnas.data.store import DEFAULT_SPACE
        from gcnas.spaces import get_space

        space = get_space(DEFAULT_SPACE)
    return arch_ids(space, arch).get("index")


def open_table_arg(text: str):
    """The :class:`~gcnas.data.BenchmarkTable` of a ``--table`` argument.

    Args:
        text: A CSV path, or a table name: ``nb201:cifar10`` / ``nb201:latency`` (packaged
            with gcnas), ``natsbench:PATH:DATASET[:HP]`` (:mod:`gcnas.data.table_specs`).

    Returns:
        The table.
    """
    from gcnas.data.table_specs import open_table

    return open_table(text)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return "-" if value is None else str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned text table."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float (numpy's too) replaced by ``None``."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) == 0:
        value = value.item()  # numpy / torch scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def strict_json(value: Any) -> str:
    """JSON that every parser reads: no NaN or Infinity (they become ``null``)."""
    return json.dumps(json_safe(value), indent=2, default=str, allow_nan=False)


def emit(rows: Sequence[Mapping[str, Any]] | Mapping[str, Any], fmt: str = "table",
         columns: Sequence[str] | None = None, out=None) -> None:
    """Print rows (or one record) as a table, JSON or CSV."""
    out = out or sys.stdout
    if isinstance(rows, Mapping):
        if fmt == "json":
            print(strict_json(rows), file=out)
            return
        rows = [{"field": k, "value": v} for k, v in rows.items()]
    if fmt == "json":
        print(strict_json(list(rows)), file=out)
    elif fmt == "csv":
        buffer = io.StringIO()
        names = list(columns or (rows[0].keys() if rows else []))
        writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        print(buffer.getvalue(), end="", file=out)
    else:
        print(format_table(rows, columns), file=out)
