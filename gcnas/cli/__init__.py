"""The ``gcnas`` command: thin, parses flags and calls the packages.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; handlers receive the parsed ``argparse.Namespace``.
User errors (``GcnasError``, ``ValueError``, ``KeyError``) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

COMMAND_MODULES: tuple[str, ...] = ("arch", "supernet", "hardware", "encoder", "predictor", "lut", "search", "demo")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command group registered."""
    from gcnas import __version__

    parser = argparse.ArgumentParser(
        prog="gcnas",
        description="Predictor-based neural architecture search on NAS-Bench-201 with graph learning.")
    parser.add_argument("--version", action="version", version=f"gcnas {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"gcnas.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"gcnas.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gcnas`` command line; returns the exit status."""
    from gcnas.exceptions import GcnasError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except KeyboardInterrupt:
        print("interrupted; finished work is kept in the run store, rerun the same command to resume",
              file=sys.stderr)
        return 130
    except (GcnasError, ValueError, KeyError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"gcnas {args.command}: error: {message}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
