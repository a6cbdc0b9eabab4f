"""The small exception hierarchy of gcnas.

Every error a user can cause derives from :class:`GcnasError` and from the builtin
it refines (``ValueError``, ``FileNotFoundError``, ...), so callers can catch either.
Messages say what is wrong, where, and how to fix it; the CLI prints them without a
traceback. ``gcnas.spaces.nb201`` raises plain ``ValueError`` (it imports nothing of gcnas).

Where something failed but the work can go on (a model fit that did not converge), gcnas
warns with a :class:`GcnasWarning` and records the failure where its result is kept.
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
    "NotInTableError",
    "GcnasWarning",
    "FitFailedWarning",
    "Notice",
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


class NotInTableError(GcnasError, KeyError):
    """An architecture or official index that a benchmark table does not hold."""

    def __str__(self) -> str:  # KeyError would print its message quoted, as a key
        return str(self.args[0]) if self.args else ""


class GcnasWarning(UserWarning):
    """Base class of every warning gcnas issues on purpose."""


class Notice(GcnasWarning):
    """Not an error, but not to pass unnoticed: the CLI prints each as one line on stderr
    (:func:`gcnas.search.checks.notices_to_stderr`); Python callers get a warning."""


class FitFailedWarning(GcnasWarning):
    """A model fit failed; the work went on with fallback parameters (and the failure is recorded)."""
