"""The ``gcnas`` command: thin, parses flags and calls the packages.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; handlers receive the parsed ``argparse.Namespace``.
Exit status: 0 success; 1 a user error (:class:`~gcnas.exceptions.GcnasError`: bad input,
an infeasible query), printed as one line; 2 only for a usage error found by argparse; 130
when interrupted (Ctrl-C); 128 + N when ended by signal N, SIGTERM (143) or SIGHUP (129),
which take Ctrl-C's clean path (:func:`gcnas.parallel.terminate_as_interrupt`: workers
stopped, finished work kept). Any other exception is a bug and keeps its traceback. A
handler that passes user input to code raising plain ``ValueError`` (``gcnas.space``)
converts it where it does so (:func:`gcnas.cli._common.resolve_arch`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

COMMAND_MODULES: tuple[str, ...] = ("arch", "supernet", "train", "hardware", "encoder", "predictor", "lut",
                                    "search", "demo")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command group registered."""
    from gcnas import __version__

    parser = argparse.ArgumentParser(
        prog="gcnas",
        description="Predictor-based neural architecture search on NAS-Bench-201 with graph learning.")
    parser.add_argument("--version", action="version", version=f"gcnas {__version__}")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch CPU threads for the whole command (default: $GCNAS_THREADS, else 1; "
                             "see docs/design.md, 'Threads')")
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
    """Run the ``gcnas`` command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, 1 after a user error (one line on stderr), 2 after a usage error
        (argparse exits with it), 130 when interrupted, 128 + N after SIGTERM or SIGHUP.
    """
    from gcnas.exceptions import GcnasError
    from gcnas.parallel import Terminated, terminate_as_interrupt
    from gcnas.threads import apply_thread_policy

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        apply_thread_policy(args.threads)
        with terminate_as_interrupt():  # SIGTERM / SIGHUP end the command as Ctrl-C does
            result = args.handler(args)
    except Terminated as stop:
        print(f"{stop}; finished work is kept in the run store, rerun the same command to resume", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("interrupted; finished work is kept in the run store, rerun the same command to resume",
              file=sys.stderr)
        return 130
    except GcnasError as error:
        print(f"gcnas {args.command}: error: {error}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
