"""The ``gcnas`` command: thin, parses flags and calls the packages.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; handlers receive the parsed ``argparse.Namespace``.
Exit status: 0 success; 1 a user error (:class:`~gcnas.exceptions.GcnasError`: bad input,
an infeasible query), printed as one line; 2 only for a usage error found by argparse; 130
when interrupted (Ctrl-C); 128 + N when ended by signal N, SIGTERM (143) or SIGHUP (129),
which take Ctrl-C's clean path (:func:`gcnas.parallel.terminate_as_interrupt`: workers
stopped, finished work kept); 141 (128 + SIGPIPE, as a tool killed by SIGPIPE ends) and
nothing on stderr when the reader of stdout went away (``gcnas search trials --format json |
head -1``): the rest of the output has nowhere to go, the work is done, and a pipeline reports
``head``'s status (under ``set -o pipefail`` it fails, as ``yes | head`` does). Any other
exception is a bug and keeps its traceback. A handler that passes user input to code raising
plain ``ValueError`` (``gcnas.spaces.nb201``) converts it where it does so (:func:`gcnas.cli._common.resolve_arch`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

__all__ = ["main", "build_parser", "COMMAND_MODULES", "EXIT_BROKEN_PIPE"]

EXIT_BROKEN_PIPE = 141
"""Exit status when stdout's reader went away: 128 + SIGPIPE (13), what a shell shows for a killed writer."""

COMMAND_MODULES: tuple[str, ...] = ("arch", "supernet", "train", "hardware", "encoder", "predictor", "lut",
                                    "search", "demo", "runs")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command group registered."""
    from gcnas import __version__

    parser = argparse.ArgumentParser(
        prog="gcnas",
        description="Predictor-based neural architecture search with graph learning, on NAS-Bench-201 and the "
                    "DARTS space (--space).")
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
        (argparse exits with it), 130 when interrupted, 128 + N after SIGTERM or SIGHUP, 141
        (quietly) when the reader of stdout went away.
    """
    from gcnas.cli._common import no_empty_run_left
    from gcnas.exceptions import GcnasError
    from gcnas.parallel import Terminated, terminate_as_interrupt
    from gcnas.threads import apply_thread_policy

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        apply_thread_policy(args.threads)
        with terminate_as_interrupt():  # SIGTERM / SIGHUP end the command as Ctrl-C does
            with no_empty_run_left(args):  # a failed command leaves no new, empty run folder behind
                result = args.handler(args)
        sys.stdout.flush()  # a reader that left (`| head`) shows here, not as a message at exit
    except BrokenPipeError:
        return _reader_gone()
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


def _reader_gone() -> int:
    """End quietly after stdout's reader went away (Python docs, "Note on SIGPIPE").

    stdout is pointed at ``/dev/null``, so the flush at interpreter exit finds no broken pipe
    to complain about.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (an embedding, a test's capture)
        pass
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
