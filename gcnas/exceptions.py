"""The small exception hierarchy of gcnas.

Every error a user can cause derives from :class:`GcnasError` and from the builtin
it refines (``ValueError``, ``FileNotFoundError``, ...), so callers can catch either.
Messages say what is wrong, where, and how to fix it; the CLI prints them without a
traceback. ``gcnas.space`` raises plain ``ValueError`` (it imports nothing of gcnas).
"""

from __future__ import annotations

__all__ = [
    "GcnasError",
    "InvalidInputError",
    "DataNotFoundError",
    "CorruptFileError",
    "SchemaError",
    "NotFittedError",
    "InfeasibleError",
]


class GcnasError(Exception):
    """Base class of every error gcnas raises on purpose."""


class InvalidInputError(GcnasError, ValueError):
    """An argument, option or file content that gcnas cannot use as given."""


class DataNotFoundError(GcnasError, FileNotFoundError):
    """A benchmark file, dataset or checkpoint that is not where it was looked for."""


class CorruptFileError(GcnasError, ValueError):
    """A file exists but cannot be read in the format it claims to be."""


class SchemaError(GcnasError, RuntimeError):
    """A run store written by a newer (or unknown) version of gcnas."""


class NotFittedError(GcnasError, RuntimeError):
    """An estimator used before ``fit``."""


class InfeasibleError(GcnasError, ValueError):
    """Constraints that no architecture of the space satisfies."""
