"""The one way a benchmark writes its results file, and keys its caches.

Every benchmark of this folder ends with :meth:`BenchmarkRun.write`, which writes one JSON
file (default ``benchmarks/results/<script>[-<label>].json``, committed) holding:

``benchmark``, ``label``, ``command`` (the exact argv as run), ``git`` (commit and whether
``gcnas/`` or ``benchmarks/`` had uncommitted changes), ``code_version`` (a hash of the
``gcnas`` sources), ``settings`` (the parsed arguments) and ``settings_hash``, ``versions``
(python and the packages below), ``machine`` (CPU model, logical cores, load average at start
and end, torch threads, GPU if any), ``started`` / ``finished`` (UTC) and ``wall_seconds``,
``figures`` (a flat dict of the headline numbers that README.md and docs/ quote; the
tables there are generated from it by ``benchmarks/results_table.py``) and ``details``
(whatever else the script measured).

Caches (trained supernets, search histories, finished rows of a resumable benchmark) live
under ``runs/bench/<script>/`` in folders named by :func:`cache_key`: the hash of the
settings that make them joined with the version of the code that makes them. A changed
setting or a changed source file starts afresh; nothing is keyed by a hand-edited suffix.

    bench = BenchmarkRun("hardware_energy", args)        # at the start: clock, load average
    ...
    bench.write({"spearman.energy_fp32.pixel3": rho}, details={...})
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
RESULTS_DIR = BENCHMARKS / "results"
CACHE_ROOT = REPO / "runs" / "bench"
PACKAGES = ("torch", "torchvision", "torch_geometric", "botorch", "gpytorch", "numpy", "gcnas")
SCHEMA_VERSION = 1
REQUIRED_KEYS = ("schema", "benchmark", "label", "command", "git", "code_version", "settings", "settings_hash",
                 "versions", "machine", "started", "finished", "wall_seconds", "figures", "details")
Scalar = int | float | str | bool | None


class ResultsError(ValueError):
    """A results file or a figure that does not follow the schema above."""


# -- hashes ------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """``value`` made JSON-serialisable: paths as strings, tuples and sets as lists, numpy as Python,
    non-finite floats as None (JSON has no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy arrays and scalars, tensors
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def settings_dict(settings: Mapping[str, Any] | argparse.Namespace) -> dict[str, Any]:
    """The settings as a plain JSON-ready dict (an argparse namespace becomes its ``vars``)."""
    return _plain(vars(settings) if isinstance(settings, argparse.Namespace) else dict(settings))


def settings_hash(settings: Mapping[str, Any] | argparse.Namespace, keys: Iterable[str] | None = None) -> str:
    """Ten hex digits of the SHA-256 of the chosen settings (all of them when ``keys`` is None).

    Args:
        settings: The parsed arguments, or any mapping.
        keys: The settings that matter (a missing one is an error: a typo would silently
            leave a setting out of the hash).

    Returns:
        The hash, stable across runs and Python versions (sorted-key JSON).
    """
    chosen = settings_dict(settings)
    if keys is not None:
        keys = list(keys)
        missing = [k for k in keys if k not in chosen]
        if missing:
            raise ResultsError(f"settings {missing} are not among the settings {sorted(chosen)}")
        chosen = {k: chosen[k] for k in keys}
    return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:10]


def code_version(packages: Sequence[str] | None = None) -> str:
    """Ten hex digits of the SHA-256 of the ``gcnas`` sources a cached result depends on.

    Args:
        packages: Subpackages of ``gcnas`` (``"supernet"``, ``"data"`` ...) that make the
            result; the top-level modules (``exceptions.py`` ...) and the search spaces
            (``gcnas/spaces/``) are always included, since every package imports them.
            ``None``: the whole package.

    Returns:
        The hash of every ``.py`` file's path and bytes, in sorted order: uncommitted edits
        count, so a cache never outlives the code that made it.
    """
    root = REPO / "gcnas"
    if packages is None:
        files = sorted(root.rglob("*.py"))
    else:
        unknown = [p for p in packages if not (root / p).is_dir()]
        if unknown:
            raise ResultsError(f"no gcnas subpackage {unknown}; choose among "
                               f"{sorted(d.name for d in root.iterdir() if (d / '__init__.py').exists())}")
        always = [*root.glob("*.py"), *(root / "spaces").rglob("*.py")]
        files = sorted({*always, *(f for p in packages for f in (root / p).rglob("*.py"))})
    digest = hashlib.sha256()
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:10]


def cache_key(settings: Mapping[str, Any] | argparse.Namespace, keys: Iterable[str] | None = None,
              packages: Sequence[str] | None = None) -> str:
    """``<settings hash>-<code version>``: the name of a cache folder or file.

    Args:
        settings: The parsed arguments, or any mapping.
        keys: The settings that make the cached thing (default: all).
        packages: The ``gcnas`` subpackages that make it (default: the whole package).

    Example:
        ``cache_key(vars(args), keys=["epochs", "seed"], packages=["supernet", "data"])`` names the
        folder of a trained supernet: another epoch count, seed, or an edit under
        ``gcnas/supernet``, ``gcnas/data`` or the top-level modules gives another folder.
    """
    return f"{settings_hash(settings, keys)}-{code_version(packages)}"


# -- provenance ----------------------------------------------------------------------------

def git_state() -> dict[str, Any]:
    """The commit checked out and whether ``gcnas/`` or ``benchmarks/`` (results aside) differ from it."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, check=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--", "gcnas", "benchmarks", ":(exclude)benchmarks/results")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions() -> dict[str, str | None]:
    """Python and the versions of :data:`PACKAGES` (``None`` for one not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    """The first CUDA device's name, when torch is already imported and sees one."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # a broken driver must not lose a finished benchmark's figures
        return None
    return None


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def command_line(argv: Sequence[str] | None = None) -> str:
    """``python <script> <args>`` as run, the script relative to the repository, shell-quoted."""
    argv = list(sys.argv if argv is None else argv)
    if argv:
        script = Path(argv[0])
        if script.is_absolute():
            try:
                argv[0] = script.relative_to(REPO).as_posix()
            except ValueError:
                pass
    return shlex.join(["python", *argv])


def default_path(benchmark: str, label: str | None = None) -> Path:
    """``benchmarks/results/<benchmark>[-<label>].json``."""
    return RESULTS_DIR / (f"{benchmark}-{label}.json" if label else f"{benchmark}.json")


def add_output_arguments(parser: argparse.ArgumentParser, benchmark: str) -> None:
    """``--label`` and ``--out`` (default ``benchmarks/results/<benchmark>[-<label>].json``)."""
    parser.add_argument("--label", default=None,
                        help=f"names the results file: benchmarks/results/{benchmark}-LABEL.json")
    parser.add_argument("--out", default=None, type=Path,
                        help=f"results file (default benchmarks/results/{benchmark}[-LABEL].json)")


# -- the run ---------------------------------------------------------------------------

def check_figures(figures: Mapping[str, Any]) -> dict[str, Scalar]:
    """``figures`` as a flat dict of finite numbers, strings, booleans or None (not measured).

    Raises:
        ResultsError: A nested value, a non-string key, or a NaN / infinite number.
    """
    out: dict[str, Scalar] = {}
    for key, value in figures.items():
        if not isinstance(key, str):
            raise ResultsError(f"figure names must be strings, got {key!r}")
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy / torch scalars
            value = value.item()
        if value is not None and not isinstance(value, (int, float, str, bool)):
            raise ResultsError(f"figure {key!r} must be a number, string, boolean or None, got "
                               f"{type(value).__name__}; put structured results in details")
        if isinstance(value, float) and not math.isfinite(value):
            raise ResultsError(f"figure {key!r} is {value}; write None for a figure that was not measured")
        out[key] = value
    return out


class BenchmarkRun:
    """One run of a benchmark: started when constructed, written by :meth:`write`.

    Args:
        benchmark: The script's name (``hardware_energy``): the results file's stem.
        settings: The parsed arguments (recorded, and hashed into ``settings_hash``).
        label: Suffix of the results file (``supernet_ranking-final``); default the
            settings' ``label`` if it has one.
        out: The results file (default :func:`default_path`); default the settings' ``out``.
        argv: The command line (default ``sys.argv``).
    """

    def __init__(self, benchmark: str, settings: Mapping[str, Any] | argparse.Namespace, *,
                 label: str | None = None, out: str | os.PathLike | None = None,
                 argv: Sequence[str] | None = None) -> None:
        self.benchmark = benchmark
        self.settings = settings_dict(settings)
        self.label = label if label is not None else self.settings.get("label")
        out = out if out is not None else self.settings.get("out")
        self.path = Path(out) if out else default_path(benchmark, self.label)
        self.command = command_line(argv)
        self.started = _utc_now()
        self.loadavg_start = _load_average()
        self._clock = time.perf_counter()

    def cache_dir(self, keys: Iterable[str] | None = None, packages: Sequence[str] | None = None,
                  name: str | None = None) -> Path:
        """``runs/bench/<benchmark>/<name->cache_key``, created (see :func:`cache_key`)."""
        key = cache_key(self.settings, keys, packages)
        path = CACHE_ROOT / self.benchmark / (f"{name}-{key}" if name else key)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record(self, figures: Mapping[str, Any], details: Any = None) -> dict[str, Any]:
        """The results record (what :meth:`write` writes).

        A figure that came out NaN or infinite (a Kendall tau of a constant ranking) is written
        as None and named under ``not_finite``: a finished benchmark never loses its file to it.
        """
        torch = sys.modules.get("torch")
        figures = {k: (v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v)
                   for k, v in figures.items()}
        not_finite = [k for k, v in figures.items() if isinstance(v, float) and not math.isfinite(v)]
        if not_finite:
            print(f"warning: figures {not_finite} are not finite; written as null", file=sys.stderr)
            figures = {k: (None if k in not_finite else v) for k, v in figures.items()}
        return {
            "schema": SCHEMA_VERSION,
            "benchmark": self.benchmark,
            "label": self.label,
            "command": self.command,
            "git": git_state(),
            "code_version": code_version(),
            "settings": self.settings,
            "settings_hash": settings_hash(self.settings),
            "versions": package_versions(),
            "machine": {"cpu_model": cpu_model(), "logical_cores": os.cpu_count(),
                        "loadavg_start": self.loadavg_start, "loadavg_end": _load_average(),
                        "torch_threads": torch.get_num_threads() if torch is not None else None,
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "gpu": gpu_name()},
            "started": self.started,
            "finished": _utc_now(),
            "wall_seconds": round(time.perf_counter() - self._clock, 3),
            "figures": check_figures(figures),
            "details": _plain(details) if details is not None else {},
            "not_finite": not_finite,
        }

    def write(self, figures: Mapping[str, Any], details: Any = None) -> Path:
        """Write the results file (atomically) and return its path."""
        record = self.record(figures, details)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n")
        partial.replace(self.path)
        print(f"results: {self.path}", flush=True)
        return self.path


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """A results file, checked against the schema.

    Raises:
        ResultsError: Not JSON, not an object, a missing key, or figures that are not flat.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise ResultsError(f"{path} holds a {type(record).__name__}, not a results object")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ResultsError(f"{path} lacks {missing}: write it with benchmarks/_results.py (schema {SCHEMA_VERSION})")
    if record["schema"] != SCHEMA_VERSION:
        raise ResultsError(f"{path} has schema {record['schema']!r}; this code reads schema {SCHEMA_VERSION}")
    try:
        check_figures(record["figures"])
    except (ResultsError, AttributeError) as error:
        raise ResultsError(f"{path}: {error}") from None
    return record
