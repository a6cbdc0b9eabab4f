"""The run store: one embedded SQLite database per run (``runs/NAME/gcnas.sqlite``).

It holds what the pipeline produces — scored sub-networks (``samples``), hardware
costs (``costs``), the lookup table (``lut``), encoder embeddings (``embeddings``),
search trials (``trials``) and finished pipeline stages (``stages``). The database runs
in WAL mode; every write is one transaction, so a process killed mid-write leaves the
previous state intact and never half a batch of rows.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from gcnas.exceptions import CorruptFileError, InvalidInputError, SchemaError
from gcnas.space import Arch

__all__ = ["RunStore", "Sample", "Trial", "SCHEMA_VERSION", "atomic_write"]

SCHEMA_VERSION = 1
DB_NAME = "gcnas.sqlite"
LUT_FIXED_COLUMNS = ("code", "arch", "canonical")
_COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    source TEXT NOT NULL,
    code INTEGER NOT NULL,
    arch TEXT NOT NULL,
    accuracy REAL,
    loss REAL,
    extra TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    PRIMARY KEY (source, code)
);
CREATE TABLE IF NOT EXISTS costs (
    metric TEXT NOT NULL,
    device TEXT NOT NULL,
    code INTEGER NOT NULL,
    value REAL NOT NULL,
    spread REAL,
    source TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    PRIMARY KEY (metric, device, code)
);
CREATE TABLE IF NOT EXISTS embeddings (
    encoder TEXT NOT NULL,
    code INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, code)
);
CREATE TABLE IF NOT EXISTS trials (
    study TEXT NOT NULL,
    trial INTEGER NOT NULL,
    code INTEGER NOT NULL,
    arch TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    objectives TEXT NOT NULL DEFAULT '{}',
    report TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (study, trial)
);
CREATE TABLE IF NOT EXISTS stages (
    name TEXT PRIMARY KEY,
    info TEXT NOT NULL DEFAULT '{}',
    seconds REAL,
    finished REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lut (
    code INTEGER PRIMARY KEY,
    arch TEXT NOT NULL,
    canonical INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Sample:
    """One scored sub-network."""

    arch: Arch
    accuracy: float
    loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial:
    """One evaluation of a search study."""

    trial: int
    arch: Arch
    status: str
    objectives: dict[str, float]
    report: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write a file so that readers see the old or the new content, never half.

    Args:
        path: Destination.
        data: Bytes or text (UTF-8).

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


class RunStore:
    """The SQLite store of one run directory.

    Args:
        run_dir: The run directory (created if needed); the database is
            ``run_dir/gcnas.sqlite``.

    Example:
        >>> with RunStore("runs/demo") as store:
        ...     store.add_samples("supernet", [Sample(arch, 71.5, 0.83)])
        ...     store.samples("supernet")[0].accuracy
        71.5
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InvalidInputError(f"cannot create run directory {str(self.run_dir)!r}: "
                                    f"{error.strerror}; choose a writable --run DIR") from None
        if not os.access(self.run_dir, os.W_OK):
            raise InvalidInputError(f"run directory {str(self.run_dir)!r} is not writable; "
                                    "choose a writable --run DIR")
        self.path = self.run_dir / DB_NAME
        try:
            self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise CorruptFileError(f"run store {str(self.path)!r} is not a readable SQLite database "
                                   f"({error}); move it away to start the run afresh") from None

    # -- plumbing ----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else None
            if version is not None and version > SCHEMA_VERSION:
                raise SchemaError(
                    f"run store {str(self.path)!r} has schema version {version}, newer than this "
                    f"gcnas understands ({SCHEMA_VERSION}); upgrade gcnas or use another --run DIR")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if version is None:
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                conn.execute("INSERT INTO meta VALUES ('created', ?)", (repr(time.time()),))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: everything inside commits together or not at all."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (autocommit; use :meth:`transaction` to write)."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.run_dir)!r})"

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # -- config and stages --------------------------------------------------------------

    def write_config(self, config: Mapping[str, Any], name: str = "config.json") -> Path:
        """Write ``run_dir/config.json`` atomically (settings a run was made with)."""
        return atomic_write(self.run_dir / name, json.dumps(dict(config), indent=2, sort_keys=True, default=str))

    def read_config(self, name: str = "config.json") -> dict[str, Any]:
        """The run's ``config.json`` (``{}`` when there is none)."""
        path = self.run_dir / name
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise CorruptFileError(f"{str(path)!r} is not valid JSON ({error}); fix or delete it") from None

    def finish_stage(self, name: str, info: Mapping[str, Any] | None = None, seconds: float | None = None) -> None:
        """Record that a pipeline stage finished (so a rerun can skip it)."""
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO stages VALUES (?, ?, ?, ?)",
                         (name, _dumps(info or {}), seconds, time.time()))

    def stage(self, name: str) -> dict[str, Any] | None:
        """The info recorded for a finished stage, or ``None`` if it has not finished."""
        row = self._conn.execute("SELECT info, seconds FROM stages WHERE name=?", (name,)).fetchone()
        if row is None:
            return None
        info = json.loads(row[0])
        info.setdefault("seconds", row[1])
        return info

    def stages(self) -> dict[str, dict[str, Any]]:
        """Every finished stage with its info, in finishing order."""
        rows = self._conn.execute("SELECT name, info, seconds FROM stages ORDER BY finished").fetchall()
        return {name: {**json.loads(info), "seconds": seconds} for name, info, seconds in rows}

    # -- samples -----------------------------------------------------------------------

    def add_samples(self, source: str, samples: Iterable[Sample]) -> int:
        """Insert (or replace) scored sub-networks in one transaction.

        Args:
            source: What scored them, e.g. ``"supernet"``.
            samples: The scores.

        Returns:
            The number of rows written.
        """
        now = time.time()
        rows = [(source, s.arch.code, str(s.arch), _real(s.accuracy), _real(s.loss), _dumps(s.extra), now)
                for s in samples]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def samples(self, source: str | None = None) -> list[Sample]:
        """Scored sub-networks, in insertion order (all sources when ``source`` is None)."""
        query = "SELECT code, accuracy, loss, extra FROM samples"
        rows = (self._conn.execute(query + " WHERE source=? ORDER BY rowid", (source,)) if source is not None
                else self._conn.execute(query + " ORDER BY rowid"))
        return [Sample(Arch.from_code(code), _nan(acc), loss, json.loads(extra)) for code, acc, loss, extra in rows]

    def sample_sources(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT source FROM samples ORDER BY source")]

    # -- costs -------------------------------------------------------------------------

    def write_costs(self, metric: str, device: str, archs: Sequence[Arch], values: Sequence[float],
                    spreads: Sequence[float] | None = None, source: str = "") -> int:
        """Store one cost (``metric`` on ``device``) for many architectures, in one transaction."""
        if len(values) != len(archs) or (spreads is not None and len(spreads) != len(archs)):
            raise InvalidInputError("write_costs needs one value (and spread) per architecture")
        now = time.time()
        rows = [(metric, device, a.code, float(v), None if spreads is None else _real(spreads[i]), source, now)
                for i, (a, v) in enumerate(zip(archs, values))]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO costs VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def costs(self, metric: str, device: str) -> dict[int, tuple[float, float | None]]:
        """``code -> (value, spread)`` for one stored cost."""
        rows = self._conn.execute("SELECT code, value, spread FROM costs WHERE metric=? AND device=?",
                                  (metric, device))
        return {code: (value, spread) for code, value, spread in rows}

    def cost_kinds(self) -> list[tuple[str, str, int]]:
        """``(metric, device, count)`` for every cost stored."""
        return list(self._conn.execute(
            "SELECT metric, device, COUNT(*) FROM costs GROUP BY metric, device ORDER BY metric, device"))

    # -- embeddings --------------------------------------------------------------------

    def write_embeddings(self, encoder: str, archs: Sequence[Arch], vectors: np.ndarray) -> int:
        """Store one vector per architecture (float32), replacing earlier ones."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(archs):
            raise InvalidInputError(f"expected an (n, d) array for {len(archs)} archs, got {vectors.shape}")
        rows = [(encoder, a.code, vectors[i].tobytes()) for i, a in enumerate(archs)]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
        return len(rows)

    def embeddings(self, encoder: str) -> tuple[list[Arch], np.ndarray]:
        """``(archs, (n, d) float32)`` stored for ``encoder``, ordered by code."""
        rows = self._conn.execute("SELECT code, vector FROM embeddings WHERE encoder=? ORDER BY code",
                                  (encoder,)).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ([Arch.from_code(c) for c, _ in rows],
                np.stack([np.frombuffer(v, dtype=np.float32) for _, v in rows]))

    # -- trials ------------------------------------------------------------------------

    def add_trial(self, study: str, trial: Trial) -> None:
        """Record one finished evaluation of a search study (its own transaction)."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (study, trial.trial, trial.arch.code, str(trial.arch), trial.status,
                          _dumps(trial.objectives), _dumps(trial.report), trial.error, time.time()))

    def trials(self, study: str) -> list[Trial]:
        """The trials of a study, in order."""
        rows = self._conn.execute("SELECT trial, code, status, objectives, report, error FROM trials "
                                  "WHERE study=? ORDER BY trial", (study,))
        return [Trial(t, Arch.from_code(c), s, json.loads(o), json.loads(r), e) for t, c, s, o, r, e in rows]

    def studies(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT study FROM trials ORDER BY study")]

    # -- lookup table ------------------------------------------------------------------

    def write_lut(self, archs: Sequence[Arch], columns: Mapping[str, Sequence[float]],
                  canonical: Sequence[int] | None = None, meta: Mapping[str, Any] | None = None) -> int:
        """Replace the lookup table in one transaction; every column gets an index.

        Args:
            archs: The rows' architectures.
            columns: Column name (lower-case identifier) -> one float per row, e.g.
                ``accuracy``, ``params_m``, ``latency_ms``. NaN is stored as NULL.
            canonical: Isomorphism-class representative code per row (defaults to
                ``arch.canonical().code``).
            meta: Free-form description (sources of each column), kept in ``meta``.

        Returns:
            The number of rows written.
        """
        names = list(columns)
        for name in names:
            if not _COLUMN_NAME.match(name) or name in LUT_FIXED_COLUMNS:
                raise InvalidInputError(f"invalid lookup-table column name {name!r}")
            if len(columns[name]) != len(archs):
                raise InvalidInputError(f"lookup-table column {name!r} has {len(columns[name])} "
                                        f"values for {len(archs)} architectures")
        canon = [a.canonical().code for a in archs] if canonical is None else [int(c) for c in canonical]
        arrays = [np.asarray(columns[n], dtype=np.float64) for n in names]
        rows = [(a.code, str(a), canon[i], *(_real(col[i]) for col in arrays)) for i, a in enumerate(archs)]
        with self.transaction() as conn:
            conn.execute("DROP TABLE IF EXISTS lut")
            definition = ", ".join(["code INTEGER PRIMARY KEY", "arch TEXT NOT NULL", "canonical INTEGER NOT NULL",
                                    *(f"{n} REAL" for n in names)])
            conn.execute(f"CREATE TABLE lut ({definition})")
            placeholders = ", ".join("?" * (3 + len(names)))
            conn.executemany(f"INSERT INTO lut VALUES ({placeholders})", rows)
            for n in names:
                conn.execute(f"CREATE INDEX lut_{n} ON lut({n})")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('lut', ?)", (_dumps(dict(meta or {})),))
        return len(rows)

    def lut_columns(self) -> list[str]:
        """The value columns of the lookup table (empty when none was built)."""
        names = [r[1] for r in self._conn.execute("PRAGMA table_info(lut)")]
        return [n for n in names if n not in LUT_FIXED_COLUMNS]

    def lut_meta(self) -> dict[str, Any]:
        row = self._conn.execute("SELECT value FROM meta WHERE key='lut'").fetchone()
        return json.loads(row[0]) if row else {}

    def lut_size(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM lut").fetchone()[0])

    def select_lut(self, *, maxima: Mapping[str, float] | None = None, order_by: str | None = None,
                   descending: bool = True, limit: int | None = None,
                   distinct_canonical: bool = False) -> list[dict[str, Any]]:
        """Rows of the lookup table under upper bounds, sorted, as dicts.

        Args:
            maxima: Column -> largest admitted value (rows with NULL there are excluded).
            order_by: Column to sort by.
            descending: Sort direction.
            limit: Most rows returned.
            distinct_canonical: One row per isomorphism class (its representative).

        Returns:
            A list of ``{column: value}`` including ``code``, ``arch``, ``canonical``.
        """
        available = set(self.lut_columns())
        clauses, params = self._lut_bounds(maxima, available)
        if distinct_canonical:
            clauses.append("code = canonical")
        sql = "SELECT * FROM lut"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by is not None:
            if order_by not in available:
                raise InvalidInputError(f"cannot sort by {order_by!r}; lookup-table columns: "
                                        f"{', '.join(sorted(available))}")
            sql += f" ORDER BY {order_by} IS NULL, {order_by} {'DESC' if descending else 'ASC'}, code"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        cursor = self._conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def lut_values(self, archs: Sequence[Arch], column: str) -> np.ndarray:
        """Vectorised lookup of one lookup-table column, ``(n,)`` float64 (NaN where NULL).

        Raises:
            InvalidInputError: the column does not exist, or an architecture has no row.
        """
        if column not in self.lut_columns():
            raise InvalidInputError(f"the lookup table has no column {column!r}; it has: "
                                    f"{', '.join(self.lut_columns()) or '(no lookup table built)'}")
        found = dict(self._conn.execute(f"SELECT code, {column} FROM lut"))
        missing = [a for a in archs if a.code not in found]
        if missing:
            raise InvalidInputError(f"{len(missing)} architecture(s) have no lookup-table row, e.g. "
                                    f"{missing[0]}; rebuild it with `gcnas lut build`")
        return np.array([_nan(found[a.code]) for a in archs], dtype=np.float64)

    def lut_min(self, column: str, *, maxima: Mapping[str, float] | None = None) -> float | None:
        """Smallest value of ``column`` among rows meeting ``maxima`` (``None`` if none)."""
        rows = self.select_lut(maxima=maxima, order_by=column, descending=False, limit=1)
        return None if not rows or rows[0][column] is None else float(rows[0][column])

    def _lut_bounds(self, maxima: Mapping[str, float] | None, available: set[str], not_null: Sequence[str] = (),
                    index: str | None = None) -> tuple[list[str], list[float]]:
        """SQL clauses and parameters for upper bounds (and non-NULL columns), checked.

        With ``index``, the bounds are written ``+column <= ?`` so that SQLite walks the
        index of ``index`` (the sort column) rather than a bound's index.
        """
        clauses, params = [], []
        for name in (*not_null, *(maxima or {})):
            if name not in available:
                raise InvalidInputError(f"the lookup table has no column {name!r}; it has: "
                                        f"{', '.join(sorted(available)) or '(no lookup table built)'}")
        clauses += [f"{name} IS NOT NULL" for name in not_null]
        for name, bound in (maxima or {}).items():
            term = name if index is None else f"+{name}"
            clauses.append(f"{term} IS NOT NULL AND {term} <= ?")
            params.append(float(bound))
        return clauses, params

    def ranked_lut(self, column: str, *, maxima: Mapping[str, float] | None = None, descending: bool = True,
                   limit: int | None = None) -> list[dict[str, Any]]:
        """Rows with a value in ``column``, best first, under upper bounds, as dicts.

        Like :meth:`select_lut` ordered by ``column``, but rows with NULL there are
        left out, which lets SQLite walk the column's index instead of sorting the
        table (milliseconds for a top-k under loose bounds).

        Args:
            column: Column to rank by.
            maxima: Upper bounds as in :meth:`select_lut`.
            descending: Largest first.
            limit: Most rows returned.

        Returns:
            Rows as dicts, ties broken by ``code``.
        """
        # Walk the sort column's index, unless one bound admits few rows: then read
        # those few through that bound's index and sort them.
        selective = None
        available = set(self.lut_columns())
        for name, bound in (maxima or {}).items():
            if name in available:  # does the bound admit fewer rows than the 2,000th smallest value?
                row = self._conn.execute(f"SELECT {name} FROM lut WHERE {name} IS NOT NULL ORDER BY {name} "
                                         "LIMIT 1 OFFSET 1999").fetchone()
                if row is None or float(bound) < row[0]:
                    selective = name
                    break
        clauses, params = self._lut_bounds(maxima, available, not_null=(column,),
                                           index=None if selective else column)
        sql = (f"SELECT code FROM lut WHERE {' AND '.join(clauses)} "
               f"ORDER BY {column} {'DESC' if descending else 'ASC'}, code")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        codes = [row[0] for row in self._conn.execute(sql, params)]  # a covering index answers this
        return self._lut_rows(codes)

    def _lut_rows(self, codes: Sequence[int]) -> list[dict[str, Any]]:
        """Full lookup-table rows of ``codes``, in that order."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(codes), 900):
            chunk = list(codes[start:start + 900])
            cursor = self._conn.execute(f"SELECT * FROM lut WHERE code IN ({','.join('?' * len(chunk))})", chunk)
            names = [d[0] for d in cursor.description]
            found.update((row[0], dict(zip(names, row))) for row in cursor)
        return [found[c] for c in codes]

    def cover_lut(self, column: str) -> None:
        """Add a covering index led by ``column`` that holds every value column.

        Ranked and Pareto queries ordered by ``column`` then filter their bounds inside
        the index, without reading table rows (``LookupTable.build`` adds one per column).
        """
        columns = self.lut_columns()
        if column not in columns:
            raise InvalidInputError(f"the lookup table has no column {column!r}; it has: {', '.join(columns)}")
        rest = [c for c in columns if c != column]
        with self.transaction() as conn:
            conn.execute(f"CREATE INDEX IF NOT EXISTS lut_cover_{column} ON lut({', '.join([column, *rest])})")

    def pareto_lut(self, maximize: str, minimize: str, *,
                   maxima: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
        """The Pareto front of the lookup table: high ``maximize``, low ``minimize``.

        One recursive SQL query walks the index of ``minimize`` upwards: from the
        cheapest row, each step jumps to the next cheaper-than-everything-better row,
        i.e. the cheapest row that beats the current one on ``maximize``. It reads
        each row at most once and never copies the table into Python.

        Args:
            maximize: Column to maximise, e.g. ``accuracy``.
            minimize: Column to minimise, e.g. ``latency_ms``.
            maxima: Upper bounds as in :meth:`select_lut`.

        Returns:
            The non-dominated rows as dicts, cheapest first (ties: one row, lowest code).
        """
        clauses, values = self._lut_bounds(maxima, set(self.lut_columns()), not_null=(maximize, minimize),
                                           index=minimize)
        names = iter(f":b{i}" for i in range(len(values)))
        where = " AND ".join(c.replace("?", next(names)) if "?" in c else c for c in clauses)
        params = {f"b{i}": v for i, v in enumerate(values)}
        order = f"ORDER BY {minimize}, {maximize} DESC, code LIMIT 1"
        indexes = {row[1] for row in self._conn.execute("PRAGMA index_list(lut)")}
        index = f"lut_cover_{minimize}" if f"lut_cover_{minimize}" in indexes else f"lut_{minimize}"
        here = "(SELECT {0} FROM lut WHERE code = front.code)"
        sql = (f"WITH RECURSIVE front(code) AS ("
               f"SELECT (SELECT code FROM lut INDEXED BY {index} WHERE {where} {order}) "
               f"UNION ALL SELECT (SELECT code FROM lut INDEXED BY {index} WHERE {where} "
               f"AND {minimize} >= {here.format(minimize)} AND {maximize} > {here.format(maximize)} {order}) "
               f"FROM front WHERE front.code IS NOT NULL) "
               f"SELECT lut.* FROM front JOIN lut ON lut.code = front.code ORDER BY lut.{minimize}, lut.code")
        cursor = self._conn.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default, allow_nan=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Arch):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the run store")


def _real(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
