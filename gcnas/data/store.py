"""The run store: one embedded SQLite database per run (``runs/NAME/gcnas.sqlite``).

It holds what the pipeline produces — scored sub-networks (``samples``), hardware
costs (``costs``), per-cell features (``features``), the lookup table (``lut``), encoder
embeddings (``embeddings``), search trials (``trials``), each search study's settings
(``studies``) and its writer lock (``study_locks``), and finished pipeline stages
(``stages``). The database runs in WAL mode; every write is one transaction, so a process
killed mid-write leaves the previous state intact and never half a batch of rows.

A run is over one search space, recorded by name in ``meta`` (``space``; see
:func:`gcnas.spaces.get_space`). Every row about an architecture names it twice, as text:

- ``arch``: the space's notation of the exact architecture (``space.format(arch)``), read
  back with ``space.parse``. It is the row's identity, as NAS-Bench-201's integer code was
  before schema 3: samples, costs, features and embeddings are per architecture, not per
  equivalence class (two isomorphic NAS-Bench-201 cells keep two rows).
- ``key``: ``space.key(arch)``, equal exactly for architectures with equal canonical forms,
  to group or deduplicate rows by class (the lookup table's ``canonical`` column, ``distinct``
  queries).

Stores of schema 1 and 2 (NAS-Bench-201 only, rows keyed by the integer code) are migrated
on open: in one transaction, after a copy of the file is kept beside it (``gcnas.sqlite.v2.bak``);
opened read-only, they are migrated in memory and the file is left as it is.

A store can be opened read-only (``mode="ro"``, or ``"auto"``: read-only when the file or its
folder cannot be written), so a run shared read-only can still be read. Whatever goes wrong
inside the database (a damaged page, a value that does not parse, a table altered by hand,
a read-only file) is raised as one :class:`~gcnas.exceptions.GcnasError` naming the file
and what to do, never as a raw ``sqlite3`` error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import re
import socket
import sqlite3
import tempfile
import threading
import time
import warnings
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import numpy as np

from gcnas.exceptions import (CorruptFileError, DataNotFoundError, GcnasError, InvalidInputError, Notice,
                              SchemaError)
from gcnas.spaces.registry import DEFAULT_SPACE, get_space, space_name

__all__ = ["RunStore", "Sample", "Trial", "SCHEMA_VERSION", "DEFAULT_SPACE", "class_representatives",
           "StoreConflictError", "StoreNotice", "StudyLockedError", "atomic_write", "legacy_study_file"]

SCHEMA_VERSION = 3
"""1: the first layout; 2: adds ``studies`` (settings, formerly ``RUN/search_STUDY.json``) and ``study_locks``;
3: the run's space in ``meta``, rows keyed by the architecture's text (``arch``, ``key``) instead of
NAS-Bench-201's integer ``code``."""
DB_NAME = "gcnas.sqlite"
"""The space of a run created without naming one, and of every store written before schema 3."""
LEGACY_SPACE = "nb201"
"""The space of stores of schema 1 and 2: their integer codes are read with ``get_space(LEGACY_SPACE).parse``."""
LUT_FIXED_COLUMNS = ("position", "arch", "key", "canonical")
_COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    source TEXT NOT NULL,
    arch TEXT NOT NULL,
    key TEXT NOT NULL,
    accuracy REAL,
    loss REAL,
    extra TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    PRIMARY KEY (source, arch)
);
CREATE TABLE IF NOT EXISTS costs (
    metric TEXT NOT NULL,
    device TEXT NOT NULL,
    arch TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL NOT NULL,
    spread REAL,
    source TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    PRIMARY KEY (metric, device, arch)
);
CREATE TABLE IF NOT EXISTS features (
    name TEXT NOT NULL,
    setting TEXT NOT NULL,
    arch TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL,
    created REAL NOT NULL,
    PRIMARY KEY (name, setting, arch)
);
CREATE TABLE IF NOT EXISTS embeddings (
    encoder TEXT NOT NULL,
    arch TEXT NOT NULL,
    key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, arch)
);
CREATE TABLE IF NOT EXISTS trials (
    study TEXT NOT NULL,
    trial INTEGER NOT NULL,
    arch TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    objectives TEXT NOT NULL DEFAULT '{}',
    report TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (study, trial)
);
CREATE TABLE IF NOT EXISTS studies (
    study TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS study_locks (
    study TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    process_start TEXT NOT NULL,
    started REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stages (
    name TEXT PRIMARY KEY,
    info TEXT NOT NULL DEFAULT '{}',
    seconds REAL,
    finished REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lut (
    position INTEGER PRIMARY KEY,
    arch TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    canonical INTEGER NOT NULL
);
"""

_FREE_COLUMNS = ("lut",)
"""Tables whose columns vary (the lookup table's value columns), left out of the layout check."""

_T = TypeVar("_T")

_REPAIR = "restore it from a backup, or move it away to start the run afresh"
_READERS = "gcnas search trials, search compare and lut query"
_BUGS = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.InternalError)
"""sqlite3 errors that mean a bug in gcnas, not a problem of the store: kept as they are."""
_UNGUARDED = ("transaction", "close", "close_all", "release_study", "write_config", "read_config")


class StoreConflictError(GcnasError, RuntimeError):
    """Another process writes the same part of a run store (a busy database, a row written twice)."""


class StudyLockedError(StoreConflictError):
    """Another live process is writing the same search study."""


class StoreNotice(Notice):
    """Something the run store did on its own that a user should know of: a stale study lock taken over."""


def legacy_study_file(study: str) -> str:
    """File name (in the run directory) where schema version 1 kept a study's settings."""
    return f"search_{study}.json"


_HELD: Counter[tuple[str, str]] = Counter()
"""The study locks this process holds: ``(database path, study) -> number of claims``."""
_HELD_GUARD = threading.Lock()
_OPEN: weakref.WeakSet[RunStore] = weakref.WeakSet()
"""The stores this process has open (:meth:`RunStore.close_all`)."""


def _guarded(method: Callable[..., _T]) -> Callable[..., _T]:
    """Raise what goes wrong in the database as one clear :class:`GcnasError` naming the store."""

    @functools.wraps(method)
    def wrapper(self: RunStore, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            if isinstance(error, _BUGS):
                raise
            raise self._database_error(error) from None

    return wrapper


def _guard_public_methods(cls: type) -> type:
    """Guard (:func:`_guarded`) every public method of ``cls`` that reads or writes the database."""
    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_") and name not in _UNGUARDED:
            setattr(cls, name, _guarded(member))
    return cls


@dataclass(frozen=True)
class Sample:
    """One scored sub-network (``arch``: an architecture of the run's space)."""

    arch: Any
    accuracy: float
    loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial:
    """One evaluation of a search study."""

    trial: int
    arch: Any
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


@_guard_public_methods
class RunStore:
    """The SQLite store of one run directory.

    Args:
        run_dir: The run directory; the database is ``run_dir/gcnas.sqlite``.
        space: The run's search space (a name of :func:`gcnas.spaces.space_names` or a
            registered space). A new store records it (``None``: :data:`DEFAULT_SPACE`); an
            existing one must have been made for it, unless nothing was written yet
            (``None``: whatever the store records).
        mode: ``"rw"`` (default) reads and writes, creating the directory and the store
            when needed, and refuses at once a store or folder it cannot write (before any
            work is done); ``"ro"`` only reads an existing store (SQLite's ``mode=ro``; in a
            read-only folder the store is read as immutable); ``"auto"`` is ``"ro"`` when
            the store exists but it or its folder cannot be written, ``"rw"`` otherwise.

    Raises:
        InvalidInputError: The directory or the store cannot be written (mode ``"rw"``).
        DataNotFoundError: Mode ``"ro"`` and the run has no store.
        CorruptFileError: Not a SQLite database, damaged, or a layout this gcnas did not write.
        SchemaError: A store written by a newer gcnas.
        InvalidInputError: ``space`` contradicts the space the run holds architectures of.

    Example:
        >>> with RunStore("runs/demo") as store:
        ...     store.add_samples("supernet", [Sample(arch, 71.5, 0.83)])
        ...     store.samples("supernet")[0].accuracy
        71.5
        >>> RunStore("/shared/runs/demo", mode="ro").trials("bo")[0].objectives   # a read-only copy
        {'accuracy': 91.2}
        >>> RunStore("runs/darts", space="darts").space.name
        'darts'
    """

    def __init__(self, run_dir: str | os.PathLike, mode: str = "rw", *, space: Any = None) -> None:
        if mode not in ("rw", "ro", "auto"):
            raise InvalidInputError(f"RunStore mode must be 'rw', 'ro' or 'auto', got {mode!r}")
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / DB_NAME
        if mode == "auto":
            mode = "ro" if self.path.is_file() and not _writable(self.path) else "rw"
        self.read_only = mode == "ro"
        self._key = os.path.realpath(self.path)
        self._claims: Counter[str] = Counter()
        self._conn: sqlite3.Connection | None = None
        self._parsed: dict[str, Any] = {}
        self._arch_type: type | None = None
        asked = None if space is None else (space if isinstance(space, str) else space_name(space))
        try:
            if self.read_only:
                self._conn = self._connect_read_only()
                self._version = self._read_version(self._conn)
                if self._version is None:
                    raise CorruptFileError(f"run store {str(self.path)!r} holds no gcnas tables (an empty "
                                           "database); check --run DIR")
                if self._version < SCHEMA_VERSION:  # read an older layout through a migrated copy in memory
                    self._conn = self._migrated_copy(self._conn)
            else:
                self._check_writable()
                self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                             check_same_thread=False)
                _use_wal(self._conn)
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._version = self._migrate()
            self._check_layout()
            self._space_name = self._settle_space(asked)
            self.space = get_space(self._space_name)
            # gives back this store's study locks: on close(), when garbage-collected, at exit
            self._finalizer = weakref.finalize(self, _give_back, self._conn, self._key, self._claims, os.getpid())
            _OPEN.add(self)
        except BaseException as error:
            if self._conn is not None:
                self._conn.close()
            if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, _BUGS):
                raise self._database_error(error, opening=True) from None
            raise

    # -- plumbing ----------------------------------------------------------------------

    def _check_writable(self) -> None:
        """Refuse, before any work, a run directory or store that cannot be written."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InvalidInputError(f"cannot create run directory {str(self.run_dir)!r}: "
                                    f"{error.strerror}; choose a writable --run DIR") from None
        if not _can_write(self.run_dir):
            raise InvalidInputError(f"run directory {str(self.run_dir)!r} is not writable; choose a writable "
                                    f"--run DIR (commands that only read it, {_READERS}, read it as it is)")
        if self.path.exists() and not _can_write(self.path):
            raise InvalidInputError(f"run store {str(self.path)!r} is read-only; make it writable (chmod u+w) or "
                                    f"copy the run to a writable --run DIR (commands that only read it, {_READERS}, "
                                    "read it as it is)")

    def _connect_read_only(self) -> sqlite3.Connection:
        """A read-only connection; immutable in a folder where SQLite cannot write its WAL index."""
        if not self.path.is_file():
            raise DataNotFoundError(f"run {str(self.run_dir)!r} has no run store ({DB_NAME}); check --run DIR")
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as error:  # a WAL store whose folder cannot hold its index (-shm)
            conn.close()
            if "readonly" not in str(error) and "unable to open" not in str(error):
                raise
        wal = Path(f"{self.path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise InvalidInputError(f"cannot read run store {str(self.path)!r} in its read-only folder: its "
                                    f"write-ahead log {wal.name} holds changes not merged yet; open the run once "
                                    "where it can be written, or copy it to a writable folder")
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                               check_same_thread=False)

    def _read_version(self, conn: sqlite3.Connection) -> int | None:
        """The store's schema version, checked; ``None`` for a new, empty database."""
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if "meta" in tables else None
        samples = [r[1] for r in conn.execute("PRAGMA table_info(samples)")]
        likely = 3 if "key" in samples else 2 if "studies" in tables else 1  # the version this layout was written with
        restore = (f"if gcnas wrote this store, restore it with: sqlite3 {self.path} \"INSERT OR REPLACE INTO meta "
                   f"VALUES ('schema_version', '{likely}')\"; otherwise move it away to start the run afresh")
        if row is None:
            empty = not tables - {"meta"} and ("meta" not in tables
                                               or not conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0])
            if empty:
                return None
            raise CorruptFileError(f"run store {str(self.path)!r} has lost its schema version (no 'schema_version' "
                                   f"row in its meta table); {restore}")
        text = str(row[0]).strip()
        if not re.fullmatch(r"[0-9]{1,6}", text) or int(text) < 1:
            raise CorruptFileError(f"run store {str(self.path)!r} has schema version {row[0]!r}, which no gcnas "
                                   f"writes (its meta table was edited or damaged); {restore}")
        version = int(text)
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"run store {str(self.path)!r} has schema version {version}, newer than this "
                f"gcnas understands ({SCHEMA_VERSION}); upgrade gcnas or use another --run DIR")
        return version

    def _migrate(self) -> int:
        """Create the tables of a new store, or bring an older one to :data:`SCHEMA_VERSION`.

        An older store with rows keyed by NAS-Bench-201 codes is first copied beside itself
        (:meth:`_backup`); the migration then runs in one transaction, so it is done wholly or
        not at all, and a failure names the copy and leaves the store as it was.
        """
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            version = self._read_version(conn)
        rewrites = version is not None and version < 3 and not self.is_empty()  # schema 3 rewrites every row
        backup = self._backup() if rewrites else None
        try:
            with self.transaction() as conn:
                version = self._read_version(conn)  # (another process may have migrated it meanwhile)
                _upgrade(conn, version, self.run_dir)
        except (GcnasError, sqlite3.DatabaseError):
            raise
        except Exception as error:  # an old row the NAS-Bench-201 space cannot read
            kept = f"; a copy of it from before is at {str(backup)!r}" if backup else ""
            raise CorruptFileError(f"cannot migrate run store {str(self.path)!r} from schema {version} to "
                                   f"{SCHEMA_VERSION} ({type(error).__name__}: {error}); the store was left as it "
                                   f"was{kept}; {_REPAIR}") from None
        if backup is not None:
            warnings.warn(f"run store {self.path} was migrated from schema {version} to {SCHEMA_VERSION} (rows keyed "
                          f"by the architecture's text); the store as it was is kept at {backup}", StoreNotice,
                          stacklevel=3)
        return SCHEMA_VERSION

    def _backup(self) -> Path:
        """A consistent copy of the store beside it, ``gcnas.sqlite.v<N>.bak`` (an existing one is kept)."""
        version = self._read_version(self._conn)
        path = self.path.with_name(f"{DB_NAME}.v{version}.bak")
        if not path.exists():
            tmp = path.with_name(f".{path.name}.tmp")
            target = sqlite3.connect(tmp)
            try:
                self._conn.backup(target)
            finally:
                target.close()
            os.replace(tmp, path)
        return path

    def _migrated_copy(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """An in-memory copy of an older store (opened read-only), migrated to :data:`SCHEMA_VERSION`."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            conn.backup(memory)
            conn.close()
            memory.execute("BEGIN")
            _upgrade(memory, self._read_version(memory), self.run_dir)
            memory.execute("COMMIT")
        except BaseException as error:
            memory.close()
            if isinstance(error, (GcnasError, sqlite3.DatabaseError)):
                raise
            raise CorruptFileError(f"cannot read run store {str(self.path)!r} of schema {self._version} "
                                   f"({type(error).__name__}: {error}); {_REPAIR}") from None
        return memory

    def _settle_space(self, asked: str | None) -> str:
        """The run's space name: the one recorded, checked against ``asked`` (recorded when new)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='space'").fetchone()
        recorded = None if row is None else str(row[0])
        if recorded is None and self.read_only:
            return asked or DEFAULT_SPACE
        if recorded is not None and (asked is None or asked == recorded):
            return recorded
        if recorded is not None and not self.is_empty():
            raise InvalidInputError(f"run {str(self.run_dir)!r} holds architectures of the {recorded!r} space, not "
                                    f"{asked!r}; leave --space out (a run's space is read from it) or choose another "
                                    "--run DIR")
        if self.read_only:
            raise InvalidInputError(f"run {str(self.run_dir)!r} is over the {recorded!r} space, not {asked!r}")
        name = asked or DEFAULT_SPACE
        get_space(name)  # an unknown name is refused before it is recorded
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('space', ?)", (name,))
        return name

    @property
    def space_name(self) -> str:
        """The name of the run's search space (:func:`gcnas.spaces.get_space` rebuilds it)."""
        return self._space_name

    def _legacy_settings(self, study: str) -> dict[str, Any] | None:
        """A study's schema-1 settings file, or ``None`` when it is missing or unreadable."""
        return _read_legacy_settings(self.run_dir, study)

    def _check_layout(self) -> None:
        """Refuse a table whose columns are not the ones this gcnas writes (altered by hand or another program)."""
        for table, expected in _reference_layout().items():
            found = [row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")]
            if table in _FREE_COLUMNS or not found or found == expected:
                continue  # (a table that is missing altogether: only in an older store opened read-only)
            added = [c for c in found if c not in expected]
            if added and all(c in found for c in expected):
                drops = "; ".join(f"ALTER TABLE {table} DROP COLUMN {c}" for c in added)
                fix = f"drop what was added (sqlite3 {self.path} \"{drops}\")"
            else:
                fix = _REPAIR
            raise CorruptFileError(f"run store {str(self.path)!r}: table {table} has the columns ({', '.join(found)}), "
                                   f"not ({', '.join(expected)}) as this gcnas writes them (altered by hand or by "
                                   f"another program); {fix}")

    def _database_error(self, error: sqlite3.DatabaseError, opening: bool = False) -> GcnasError:
        """What went wrong in the database, as one line: what, which file, what to do."""
        where, text = repr(str(self.path)), str(error)
        lowered = text.lower()
        if "readonly" in lowered or "read-only" in lowered:
            return InvalidInputError(f"run store {where} is read-only ({text}); make it and its folder writable "
                                     f"(chmod u+w), or copy the run to a writable --run DIR (commands that only read "
                                     f"it, {_READERS}, read it as it is)")
        if "locked" in lowered or "busy" in lowered:
            return StoreConflictError(f"run store {where} is locked by another process ({text}); let that process "
                                      "finish, then rerun")
        if isinstance(error, sqlite3.IntegrityError):
            return StoreConflictError(f"run store {where} refused a row that it holds already ({text}): another "
                                      "process is probably writing the same study; let it finish or use another "
                                      "--study, then rerun")
        if "full" in lowered:
            return InvalidInputError(f"cannot write run store {where}: the disk is full ({text}); free some space "
                                     "and rerun (finished work is kept)")
        if "disk i/o" in lowered or "unable to open" in lowered:
            return InvalidInputError(f"cannot access run store {where} ({text}); check the disk and the "
                                     "permissions of the file and its folder")
        if lowered.startswith(("no such table", "no such column", "table ")):
            fix = ("open the run once where it can be written to upgrade it" if self.read_only else _REPAIR)
            return CorruptFileError(f"run store {where} does not have the layout this gcnas writes ({text}); {fix}")
        if opening and "not a database" in lowered:
            return CorruptFileError(f"run store {where} is not a readable SQLite database ({text}); "
                                    "move it away to start the run afresh")
        return CorruptFileError(f"run store {where} is damaged ({text}); {_REPAIR} (`sqlite3 {self.path} .recover` "
                                "may save its rows)")

    def _json(self, text: Any, what: str, fix: str = "") -> Any:
        """``json.loads(text)``; a value that does not parse is a clear error naming the row."""
        try:
            return json.loads(text)
        except (TypeError, ValueError) as error:
            shown = text if not isinstance(text, str) or len(text) <= 40 else text[:37] + "..."
            raise CorruptFileError(f"run store {str(self.path)!r}: {what} is not valid JSON ({shown!r}: {error}); "
                                   f"{fix or _REPAIR}") from None

    def _arch(self, text: Any, what: str, fix: str = "") -> Any:
        """``space.parse(text)`` (memoised); text the run's space cannot read is a clear error naming the row."""
        arch = self._parsed.get(text)
        if arch is None:
            try:
                if not isinstance(text, str):
                    raise TypeError(f"{type(text).__name__}, not text")
                arch = self.space.parse(text)
            except Exception as error:  # each space raises its own (ValueError, InvalidInputError...)
                shown = text if not isinstance(text, str) or len(text) <= 60 else text[:57] + "..."
                raise CorruptFileError(f"run store {str(self.path)!r}: {what} has architecture {shown!r}, which the "
                                       f"{self._space_name!r} space cannot read ({error}); {fix or _REPAIR}") from None
            self._parsed[text] = arch
        return arch

    def _texts(self, archs: Sequence[Any]) -> list[tuple[str, str]]:
        """``(space.format(a), space.key(a))`` of each architecture, refusing one of another space."""
        return list(zip(self._formats(archs), (self.space.key(arch) for arch in archs)))

    def _formats(self, archs: Sequence[Any]) -> list[str]:
        """``space.format(a)`` of each architecture, refusing one of another space."""
        if self._arch_type is None:
            self._arch_type = type(self.space.sample(0))
        out = []
        for arch in archs:
            if not isinstance(arch, self._arch_type):
                raise InvalidInputError(f"run {str(self.run_dir)!r} is over the {self._space_name!r} space, whose "
                                        f"architectures are {self._arch_type.__name__} values; got "
                                        f"{type(arch).__name__} {str(arch)[:60]!r} (of another space?); use a run "
                                        "made for that space (--space NAME when it is created)")
            out.append(self.space.format(arch))
        return out

    def _check_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Lookup-table rows, each with an architecture the run's space reads."""
        for row in rows:
            self._arch(row.get("arch"), "a lookup-table row", "rebuild the table with `gcnas lut build`")
        return rows

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: everything inside commits together or not at all."""
        if self.read_only:
            raise InvalidInputError(f"run store {str(self.path)!r} was opened read-only; open it with mode='rw' "
                                    "(or copy the run to a writable folder) to change it")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            raise

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (autocommit; use :meth:`transaction` to write)."""
        return self._conn

    def close(self) -> None:
        """Give back the study locks taken through this store, and close it (a second call does nothing).

        A store that is never closed does the same when it is garbage-collected or the
        process exits; a process that is killed leaves a stale lock, taken over by the next writer.
        """
        self._finalizer()
        self._conn.close()

    @staticmethod
    def close_all(run_dir: str | os.PathLike) -> None:
        """Close every store of this process open on ``run_dir`` (before its folder is removed,
        so that no connection left open writes into a new store made there later)."""
        key = os.path.realpath(Path(run_dir) / DB_NAME)
        for store in list(_OPEN):
            if store._key == key:
                store.close()

    def is_empty(self) -> bool:
        """Whether nothing was ever written: no row in any table but the store's own ``meta``."""
        tables = [r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return not any(self._conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in tables if t != "meta")

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.run_dir)!r}{', mode=ro' if self.read_only else ''})"

    @property
    def schema_version(self) -> int:
        """The layout version of the store (an older store opened read-only keeps its own)."""
        return self._version

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
        info = self._json(row[0], f"the record of stage {name!r}")
        info.setdefault("seconds", row[1])
        return info

    def stage_times(self) -> dict[str, tuple[float, float | None]]:
        """``stage -> (finished, seconds)``: when each finished stage finished (epoch seconds), in that order."""
        return {name: (finished, seconds) for name, finished, seconds in self._conn.execute(
            "SELECT name, finished, seconds FROM stages ORDER BY finished")}

    def stages(self) -> dict[str, dict[str, Any]]:
        """Every finished stage with its info, in finishing order."""
        rows = self._conn.execute("SELECT name, info, seconds FROM stages ORDER BY finished").fetchall()
        return {name: {**self._json(info, f"the record of stage {name!r}"), "seconds": seconds}
                for name, info, seconds in rows}

    # -- samples -----------------------------------------------------------------------

    def add_samples(self, source: str, samples: Iterable[Sample]) -> int:
        """Insert (or replace) scored sub-networks in one transaction.

        Args:
            source: What scored them, e.g. ``"supernet"``.
            samples: The scores (one row per exact architecture and source).

        Returns:
            The number of rows written.
        """
        now = time.time()
        samples = list(samples)
        texts = self._texts([s.arch for s in samples])
        rows = [(source, arch, key, _real(s.accuracy), _real(s.loss), _dumps(s.extra), now)
                for s, (arch, key) in zip(samples, texts)]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def samples(self, source: str | None = None) -> list[Sample]:
        """Scored sub-networks, in insertion order (all sources when ``source`` is None)."""
        query = "SELECT arch, accuracy, loss, extra FROM samples"
        rows = (self._conn.execute(query + " WHERE source=? ORDER BY rowid", (source,)) if source is not None
                else self._conn.execute(query + " ORDER BY rowid"))
        return [Sample(self._arch(text, "a sample"), _nan(acc), loss,
                       self._json(extra, f"the extra of sample {text!r}")) for text, acc, loss, extra in rows]

    def sample_sources(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT source FROM samples ORDER BY source")]

    def sample_kinds(self) -> list[tuple[str, int, float | None, float | None]]:
        """``(source, count, lowest accuracy, highest accuracy)`` for every source of samples."""
        return list(self._conn.execute("SELECT source, COUNT(*), MIN(accuracy), MAX(accuracy) FROM samples "
                                       "GROUP BY source ORDER BY source"))

    # -- costs -------------------------------------------------------------------------

    def write_costs(self, metric: str, device: str, archs: Sequence[Any], values: Sequence[float],
                    spreads: Sequence[float] | None = None, source: str = "") -> int:
        """Store one cost (``metric`` on ``device``) for many architectures, in one transaction."""
        if len(values) != len(archs) or (spreads is not None and len(spreads) != len(archs)):
            raise InvalidInputError("write_costs needs one value (and spread) per architecture")
        now = time.time()
        rows = [(metric, device, arch, key, float(v), None if spreads is None else _real(spreads[i]), source, now)
                for i, ((arch, key), v) in enumerate(zip(self._texts(archs), values))]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO costs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def costs(self, metric: str, device: str) -> dict[Any, tuple[float, float | None]]:
        """``arch -> (value, spread)`` for one stored cost (architectures of the run's space).

        Example:
            >>> store.costs("latency_ms", "cpu")[arch]
            (2.0, 0.1)
        """
        rows = self._conn.execute("SELECT arch, value, spread FROM costs WHERE metric=? AND device=?",
                                  (metric, device))
        return {self._arch(text, f"a {metric} cost on {device!r}"): (value, spread) for text, value, spread in rows}

    def cost_kinds(self) -> list[tuple[str, str, int]]:
        """``(metric, device, count)`` for every cost stored."""
        return list(self._conn.execute(
            "SELECT metric, device, COUNT(*) FROM costs GROUP BY metric, device ORDER BY metric, device"))

    # -- per-cell features (zero-cost proxies) ---------------------------------------------

    def write_features(self, name: str, setting: str, archs: Sequence[Any], values: Sequence[float]) -> int:
        """Store one per-cell feature (``name`` computed under ``setting``) for many cells, in one
        transaction. A non-finite value is stored as NULL (a proxy that is undefined for a cell)."""
        if len(values) != len(archs):
            raise InvalidInputError("write_features needs one value per architecture")
        now = time.time()
        rows = [(name, setting, arch, key, _real(v), now) for (arch, key), v in zip(self._texts(archs), values)]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def features(self, name: str, setting: str) -> dict[Any, float]:
        """``arch -> value`` of one stored feature (NaN where it was undefined)."""
        rows = self._conn.execute("SELECT arch, value FROM features WHERE name=? AND setting=?", (name, setting))
        return {self._arch(text, f"feature {name!r}"): _nan(value) for text, value in rows}

    def feature_kinds(self) -> list[tuple[str, str, int]]:
        """``(name, setting, count)`` for every feature stored."""
        return list(self._conn.execute(
            "SELECT name, setting, COUNT(*) FROM features GROUP BY name, setting ORDER BY name, setting"))

    # -- embeddings --------------------------------------------------------------------

    def write_embeddings(self, encoder: str, archs: Sequence[Any], vectors: np.ndarray) -> int:
        """Store one vector per architecture (float32), replacing earlier ones."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(archs):
            raise InvalidInputError(f"expected an (n, d) array for {len(archs)} archs, got {vectors.shape}")
        rows = [(encoder, arch, key, vectors[i].tobytes()) for i, (arch, key) in enumerate(self._texts(archs))]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)
        return len(rows)

    def embedding_kinds(self) -> list[tuple[str, int, int]]:
        """``(encoder, count, dimension)`` for every encoder with stored embeddings."""
        return [(encoder, count, size // 4) for encoder, count, size in self._conn.execute(
            "SELECT encoder, COUNT(*), MAX(LENGTH(vector)) FROM embeddings GROUP BY encoder ORDER BY encoder")]

    def embeddings(self, encoder: str) -> tuple[list[Any], np.ndarray]:
        """``(archs, (n, d) float32)`` stored for ``encoder``, in the order they were written
        (a replaced vector moves to the end; stores migrated from schema 2: NAS-Bench-201 code order)."""
        rows = self._conn.execute("SELECT arch, vector FROM embeddings WHERE encoder=? ORDER BY rowid",
                                  (encoder,)).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ([self._arch(c, f"an embedding of {encoder!r}") for c, _ in rows],
                np.stack([np.frombuffer(v, dtype=np.float32) for _, v in rows]))

    # -- trials ------------------------------------------------------------------------

    def add_trial(self, study: str, trial: Trial) -> None:
        """Record one finished evaluation of a search study (its own transaction)."""
        (arch, key), = self._texts([trial.arch])
        with self.transaction() as conn:
            conn.execute("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (study, trial.trial, arch, key, trial.status,
                          _dumps(trial.objectives), _dumps(trial.report), trial.error, time.time()))

    def trials(self, study: str) -> list[Trial]:
        """The trials of a study, in order.

        Raises:
            CorruptFileError: A row that does not parse (its JSON, its architecture), naming it.
        """
        rows = self._conn.execute("SELECT trial, arch, status, objectives, report, error FROM trials "
                                  "WHERE study=? ORDER BY trial", (study,)).fetchall()
        return [self._trial(study, *row) for row in rows]

    def _trial(self, study: str, trial: Any, text: Any, status: Any, objectives: Any, report: Any,
               error: Any) -> Trial:
        what = f"trial {trial!r} of study {study!r}"
        fix = (f"delete that trial and the later ones to evaluate them again (sqlite3 {self.path} \"DELETE FROM trials "
               f"WHERE study='{study}' AND trial >= {trial}\"), or {_REPAIR}")
        values = {name: self._json(raw, f"the {name} column of {what}", fix) for name, raw in
                  (("objectives", objectives), ("report", report))}
        for name, value in values.items():
            if not isinstance(value, dict):
                raise CorruptFileError(f"run store {str(self.path)!r}: the {name} column of {what} is {value!r}, not "
                                       f"a JSON object; {fix}")
        if isinstance(trial, bool) or not isinstance(trial, int):
            raise CorruptFileError(f"run store {str(self.path)!r}: study {study!r} has a trial numbered {trial!r}; "
                                   f"{_REPAIR}")
        return Trial(trial, self._arch(text, what, fix), status, values["objectives"], values["report"], error)

    def studies(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT study FROM trials ORDER BY study")]

    def study_sizes(self) -> dict[str, tuple[int, int]]:
        """``study -> (trials, failed trials)`` for every study with trials."""
        return {study: (total, failed) for study, total, failed in self._conn.execute(
            "SELECT study, COUNT(*), SUM(status = 'failed') FROM trials GROUP BY study ORDER BY study")}

    def study_running(self, study: str) -> bool:
        """Whether a live process holds ``study``'s writer lock (a search running now)."""
        if self._version < 2:
            return False
        row = self._conn.execute("SELECT pid, host, process_start FROM study_locks WHERE study=?",
                                 (study,)).fetchone()
        return row is not None and _holder_alive(*row)

    # -- study settings and writer locks ------------------------------------------------

    def study_settings(self, study: str) -> dict[str, Any] | None:
        """The settings recorded for ``study`` (:meth:`record_study`), ``None`` when there are none.

        A schema-1 store opened read-only (so not migrated) answers from the study's
        legacy ``search_STUDY.json``.
        """
        if self._version < 2:
            return self._legacy_settings(study)
        row = self._conn.execute("SELECT settings FROM studies WHERE study=?", (study,)).fetchone()
        if row is None:
            return None
        fix = (f"delete the row (sqlite3 {self.path} \"DELETE FROM studies WHERE study='{study}'\") and rerun the "
               "same search to record them again")
        settings = self._json(row[0], f"the settings of study {study!r}", fix)
        if not isinstance(settings, dict):
            raise CorruptFileError(f"run store {str(self.path)!r}: the settings of study {study!r} are {settings!r}, "
                                   f"not a JSON object; {fix}")
        return settings

    def record_study(self, study: str, settings: Mapping[str, Any]) -> None:
        """Record (or replace) the settings of ``study``, in one transaction.

        The caller holds the study's lock (:meth:`claim_study`), so no other process
        records or adds trials in between: a study never has trials without settings.
        """
        with self.transaction() as conn:
            conn.execute("INSERT INTO studies VALUES (?, ?, ?) ON CONFLICT(study) DO UPDATE SET "
                         "settings=excluded.settings", (study, _settings_json(settings), time.time()))

    def claim_study(self, study: str) -> None:
        """Take the writer lock of ``study``: one process writes a study at a time.

        The lock is a ``study_locks`` row (pid, host, the process's start time, since
        when) inserted in one ``BEGIN IMMEDIATE`` transaction. Claims count per process:
        claiming a study this process holds already counts once more, and
        :meth:`release_study` (or :meth:`close`) gives one back; the row goes with the
        last. A lock whose process is gone from this host (a killed run) is taken over
        with a :class:`StoreNotice` (a warning); one held on another host is never
        presumed dead.

        Args:
            study: Study name.

        Raises:
            StudyLockedError: Another live process holds the lock (the message names it).
        """
        key, stale = (self._key, study), None
        with _HELD_GUARD:
            if not _HELD[key]:
                stale = self._insert_lock(study)
            _HELD[key] += 1
            self._claims[study] += 1
        if stale is not None:
            pid, host, _, started = stale
            warnings.warn(f"study {study!r} in {self.run_dir} was being written by pid {pid} on {host} since "
                          f"{_when(started)}, which has gone; taking it over", StoreNotice, stacklevel=3)

    def _insert_lock(self, study: str) -> tuple[Any, ...] | None:
        """Write this process's lock row; the row of a dead owner it replaced, if any."""
        pid, host = os.getpid(), socket.gethostname()
        with self.transaction() as conn:
            row = conn.execute("SELECT pid, host, process_start, started FROM study_locks WHERE study=?",
                               (study,)).fetchone()
            if row is not None and _holder_alive(*row[:3]):
                raise StudyLockedError(f"study {study!r} in {self.run_dir} is being written by pid {row[0]} on "
                                       f"{row[1]} since {_when(row[3])}; wait for it or use another --study")
            conn.execute("INSERT OR REPLACE INTO study_locks VALUES (?, ?, ?, ?, ?)",
                         (study, pid, host, _process_start(pid), time.time()))
        return None if row is None or (row[0] == pid and row[1] == host) else row

    def release_study(self, study: str) -> None:
        """Give back one claim of :meth:`claim_study`; the lock row goes with the last one.

        Never raises (it runs while an error or Ctrl-C unwinds): a row it cannot delete
        is a stale lock, which the next writer takes over.
        """
        key = (self._key, study)
        with _HELD_GUARD:
            if self._claims[study] <= 0:
                return
            self._claims[study] -= 1
            _HELD[key] -= 1
            if _HELD[key] > 0:
                return
            del _HELD[key]
        with contextlib.suppress(sqlite3.Error, GcnasError):
            with self.transaction() as conn:
                conn.execute("DELETE FROM study_locks WHERE study=? AND pid=? AND host=?",
                             (study, os.getpid(), socket.gethostname()))

    # -- lookup table ------------------------------------------------------------------

    def write_lut(self, archs: Sequence[Any], columns: Mapping[str, Sequence[float]],
                  meta: Mapping[str, Any] | None = None) -> int:
        """Replace the lookup table in one transaction; every column gets an index.

        Rows keep the order of ``archs`` (their ``position``, which breaks ties in every
        query); ``key`` is ``space.key(arch)`` and ``canonical`` the position of the row
        that stands for the class (:func:`class_representatives`).

        Args:
            archs: The rows' architectures (distinct), e.g. ``space.enumerate()`` or a pool.
            columns: Column name (lower-case identifier) -> one float per row, e.g.
                ``accuracy``, ``params_m``, ``latency_ms``. NaN is stored as NULL.
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
        texts = self._texts(archs)
        if len({arch for arch, _ in texts}) != len(texts):
            raise InvalidInputError("the lookup table's architectures must be distinct (one row each)")
        canonical = class_representatives(self.space, archs, texts)
        arrays = [np.asarray(columns[n], dtype=np.float64) for n in names]
        rows = [(i, arch, key, int(canonical[i]), *(_real(col[i]) for col in arrays))
                for i, (arch, key) in enumerate(texts)]
        with self.transaction() as conn:
            conn.execute("DROP TABLE IF EXISTS lut")
            conn.execute(_lut_sql(names))
            placeholders = ", ".join("?" * (len(LUT_FIXED_COLUMNS) + len(names)))
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
        return self._json(row[0], "the lookup table's description (meta 'lut')") if row else {}

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
            A list of ``{column: value}`` including ``position``, ``arch``, ``key``, ``canonical``.
        """
        available = set(self.lut_columns())
        clauses, params = self._lut_bounds(maxima, available)
        if distinct_canonical:
            clauses.append("position = canonical")
        sql = "SELECT * FROM lut"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by is not None:
            if order_by not in available:
                raise InvalidInputError(f"cannot sort by {order_by!r}; lookup-table columns: "
                                        f"{', '.join(sorted(available))}")
            sql += f" ORDER BY {order_by} IS NULL, {order_by} {'DESC' if descending else 'ASC'}, position"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        cursor = self._conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return self._check_rows([dict(zip(names, row)) for row in cursor])

    def lut_values(self, archs: Sequence[Any], column: str) -> np.ndarray:
        """Vectorised lookup of one lookup-table column, ``(n,)`` float64 (NaN where NULL).

        Raises:
            InvalidInputError: the column does not exist, or an architecture has no row.
        """
        if column not in self.lut_columns():
            raise InvalidInputError(f"the lookup table has no column {column!r}; it has: "
                                    f"{', '.join(self.lut_columns()) or '(no lookup table built)'}")
        found = dict(self._conn.execute(f"SELECT arch, {column} FROM lut"))
        texts = self._formats(archs)
        missing = [text for text in texts if text not in found]
        if missing:
            raise InvalidInputError(f"{len(missing)} architecture(s) have no lookup-table row, e.g. "
                                    f"{missing[0]}; rebuild it with `gcnas lut build` (over a pool holding them)")
        return np.array([_nan(found[text]) for text in texts], dtype=np.float64)

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
            Rows as dicts, ties broken by ``position``.
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
        sql = (f"SELECT position FROM lut WHERE {' AND '.join(clauses)} "
               f"ORDER BY {column} {'DESC' if descending else 'ASC'}, position")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        positions = [row[0] for row in self._conn.execute(sql, params)]  # a covering index answers this
        return self._lut_rows(positions)

    def _lut_rows(self, positions: Sequence[int]) -> list[dict[str, Any]]:
        """Full lookup-table rows at ``positions``, in that order."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(positions), 900):
            chunk = list(positions[start:start + 900])
            cursor = self._conn.execute(f"SELECT * FROM lut WHERE position IN ({','.join('?' * len(chunk))})",
                                        chunk)
            names = [d[0] for d in cursor.description]
            found.update((row[0], dict(zip(names, row))) for row in cursor)
        return self._check_rows([found[p] for p in positions])

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
            The non-dominated rows as dicts, cheapest first (ties: one row, lowest position).
        """
        clauses, values = self._lut_bounds(maxima, set(self.lut_columns()), not_null=(maximize, minimize),
                                           index=minimize)
        names = iter(f":b{i}" for i in range(len(values)))
        where = " AND ".join(c.replace("?", next(names)) if "?" in c else c for c in clauses)
        params = {f"b{i}": v for i, v in enumerate(values)}
        order = f"ORDER BY {minimize}, {maximize} DESC, position LIMIT 1"
        indexes = {row[1] for row in self._conn.execute("PRAGMA index_list(lut)")}
        index = f"lut_cover_{minimize}" if f"lut_cover_{minimize}" in indexes else f"lut_{minimize}"
        here = "(SELECT {0} FROM lut WHERE position = front.position)"
        sql = (f"WITH RECURSIVE front(position) AS ("
               f"SELECT (SELECT position FROM lut INDEXED BY {index} WHERE {where} {order}) "
               f"UNION ALL SELECT (SELECT position FROM lut INDEXED BY {index} WHERE {where} "
               f"AND {minimize} >= {here.format(minimize)} AND {maximize} > {here.format(maximize)} {order}) "
               f"FROM front WHERE front.position IS NOT NULL) "
               f"SELECT lut.* FROM front JOIN lut ON lut.position = front.position "
               f"ORDER BY lut.{minimize}, lut.position")
        cursor = self._conn.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        return self._check_rows([dict(zip(columns, row)) for row in cursor])


def class_representatives(space: Any, archs: Sequence[Any], texts: Sequence[tuple[str, str]] | None = None
                          ) -> np.ndarray:
    """For each architecture, the index in ``archs`` of the one that stands for its class.

    The stand-in of a class (architectures with one ``space.key``) is its canonical form
    (``space.canonical``) where ``archs`` holds it, else its first member in ``archs``.

    Args:
        space: The search space.
        archs: Distinct architectures of it.
        texts: ``(space.format(a), space.key(a))`` of each, when already computed.

    Returns:
        ``(n,)`` int64 indices into ``archs``.

    Example:
        >>> reps = class_representatives(space, list(space.enumerate()))   # NAS-Bench-201, in code order
        >>> len(set(reps)), bool((reps == space.canonical_codes()).all())   # the 6,466 canonical codes
        (6466, True)
    """
    texts = [(space.format(a), space.key(a)) for a in archs] if texts is None else list(texts)
    where = {arch: i for i, (arch, _) in enumerate(texts)}
    chosen: dict[str, int] = {}
    for i, (arch, key) in enumerate(texts):
        if key not in chosen:
            canonical = where.get(space.format(space.canonical(archs[i])))
            chosen[key] = i if canonical is None else canonical
    return np.array([chosen[key] for _, key in texts], dtype=np.int64)


def _read_legacy_settings(run_dir: Path, study: str) -> dict[str, Any] | None:
    """A study's schema-1 settings file, or ``None`` when it is missing or unreadable."""
    try:
        settings = json.loads((run_dir / legacy_study_file(study)).read_text())
    except (OSError, ValueError):
        return None
    return settings if isinstance(settings, dict) else None


def _upgrade(conn: sqlite3.Connection, version: int | None, run_dir: Path) -> None:
    """Create the missing tables and bring a store of ``version`` to :data:`SCHEMA_VERSION`
    (inside the caller's transaction; ``None``: a new store)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    if version is None:
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT INTO meta VALUES ('created', ?)", (repr(time.time()),))
        return
    if version >= SCHEMA_VERSION:
        return
    if version < 2:  # 1 -> 2: study settings move into the store; the files are left alone
        for (study,) in conn.execute("SELECT DISTINCT study FROM trials").fetchall():
            settings = _read_legacy_settings(run_dir, study)
            if settings is not None:
                conn.execute("INSERT OR IGNORE INTO studies VALUES (?, ?, ?)",
                             (study, _settings_json(settings), time.time()))
    if version < 3:  # 2 -> 3: NAS-Bench-201 codes become the architecture's text and key
        _rekey(conn)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('space', ?)", (LEGACY_SPACE,))
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))


_REKEYED = {
    # table -> (columns of schema 2 read, in the order of schema 3's columns; "code" becomes arch, key)
    "samples": ("source", "code", "accuracy", "loss", "extra", "created"),
    "costs": ("metric", "device", "code", "value", "spread", "source", "created"),
    "features": ("name", "setting", "code", "value", "created"),
    "embeddings": ("encoder", "code", "vector"),
    "trials": ("study", "trial", "code", "status", "objectives", "report", "error", "created"),
}


def _rekey(conn: sqlite3.Connection) -> None:
    """Rewrite every table keyed by a NAS-Bench-201 code (schema 1, 2) with ``arch`` and ``key`` text.

    Rows keep the order they are read in (embeddings: code order); the lookup table's ``position`` is the old code (its
    rows were written in code order), ``canonical`` the representative's code, as before.
    """
    space = get_space(LEGACY_SPACE)
    texts: dict[int, tuple[str, str]] = {}

    def text(code: Any) -> tuple[str, str]:
        if code not in texts:
            if isinstance(code, bool) or not isinstance(code, int):
                raise ValueError(f"architecture code {code!r} is not an integer")
            try:
                arch = space.parse(str(code))
            except ValueError as error:  # a damaged row, not the user's input: _migrate reports the store as corrupt
                raise ValueError(str(error)) from None
            texts[code] = (space.format(arch), space.key(arch))
        return texts[code]

    reference = _reference_layout()
    for table, old in _REKEYED.items():
        if "code" not in [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]:
            continue
        at = old.index("code")
        order = "code" if table == "embeddings" else "rowid"  # the order schema 2 read them in
        rows = [(*row[:at], *text(row[at]), *row[at + 1:]) for row in
                conn.execute(f"SELECT {', '.join(old)} FROM {table} ORDER BY {order}")]
        conn.execute(f"DROP TABLE {table}")
        conn.execute(_table_sql(table))
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(reference[table]))})", rows)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(lut)")]
    if "code" in columns:
        values = [c for c in columns if c not in ("code", "arch", "canonical")]
        indexes = [row[0] for row in conn.execute("SELECT sql FROM sqlite_master WHERE type='index' AND "
                                                  "tbl_name='lut' AND sql IS NOT NULL")]
        rows = [(code, *text(code), canonical, *rest) for code, canonical, *rest in
                conn.execute(f"SELECT {', '.join(['code', 'canonical', *values])} FROM lut ORDER BY code")]
        conn.execute("DROP TABLE lut")
        conn.execute(_lut_sql(values))
        conn.executemany(f"INSERT INTO lut VALUES ({', '.join('?' * (4 + len(values)))})", rows)
        for sql in indexes:
            conn.execute(sql)


def _table_sql(table: str) -> str:
    """The ``CREATE TABLE`` statement of ``table`` in :data:`_SCHEMA`."""
    for statement in _SCHEMA.split(";"):
        if re.search(rf"CREATE TABLE IF NOT EXISTS {table} \(", statement):
            return statement.strip()
    raise KeyError(table)


def _lut_sql(values: Sequence[str]) -> str:
    """``CREATE TABLE lut`` with the fixed columns and one REAL column per name of ``values``."""
    return "CREATE TABLE lut (" + ", ".join(["position INTEGER PRIMARY KEY", "arch TEXT NOT NULL UNIQUE",
                                             "key TEXT NOT NULL", "canonical INTEGER NOT NULL",
                                             *(f"{n} REAL" for n in values)]) + ")"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default, allow_nan=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an architecture (Arch, Genotype)
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the run store")


def _real(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _settings_json(settings: Mapping[str, Any]) -> str:
    """A study's settings as stored (as the schema-1 files were written: unknown types as text)."""
    return json.dumps(dict(settings), sort_keys=True, default=str)


def _use_wal(conn: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Switch to WAL, waiting for other connections: on a new store (two processes creating it at
    once) SQLite reports the switch busy at once instead of calling the busy handler."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _can_write(path: Path) -> bool:
    """Whether this process may write ``path`` (judged with its effective ids, as it writes)."""
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def _writable(path: Path) -> bool:
    return _can_write(path) and _can_write(path.parent)


@functools.lru_cache(maxsize=1)
def _reference_layout() -> dict[str, list[str]]:
    """``table -> column names`` as this gcnas creates them."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(_SCHEMA)
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        conn.close()


def _process_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time)`` of a process from ``/proc`` (Linux), or ``None`` where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state); field 22 is the start time
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _process_start(pid: int) -> str:
    """The start time of a process (clock ticks since boot, Linux), ``""`` where unknown.

    Recorded with a lock, it tells a live owner from a new process that reuses its pid."""
    stat = _process_stat(pid)
    return stat[1] if stat is not None else ""


def _holder_alive(pid: int, host: str, process_start: str) -> bool:
    """Whether the process holding a study lock still runs (one on another host is presumed to)."""
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return False  # this process holds no claim on it (left by a store that was never closed)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user
        pass
    stat = _process_stat(pid)
    if stat is None:
        return True
    state, start = stat
    return state not in ("Z", "X", "x") and (not process_start or start == process_start)


def _give_back(conn: sqlite3.Connection, key: str, claims: Counter[str], owner: int) -> None:
    """Give back every study lock claimed through one store (its connection stays open).

    Only in the process that opened the store: a forked worker never touches its parent's connection.
    """
    if os.getpid() != owner:
        return
    with _HELD_GUARD:
        released = []
        for study, count in claims.items():
            if count > 0:
                _HELD[key, study] -= count
                if _HELD[key, study] <= 0:
                    del _HELD[key, study]
                    released.append(study)
        claims.clear()
    for study in released:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("DELETE FROM study_locks WHERE study=? AND pid=? AND host=?",
                         (study, os.getpid(), socket.gethostname()))


def _when(seconds: float) -> str:
    """Epoch seconds as local time, e.g. ``2025-01-31 14:05:09``."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(seconds)))
    except (TypeError, ValueError, OverflowError, OSError):
        return repr(seconds)
