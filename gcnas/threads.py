"""The CPU thread policy of every gcnas entry point.

gcnas's work on a CPU is mostly small: graphs of 8 nodes in batches of 64 (GCN, arch2vec,
the GP), and small convolution networks (the supernet and the standalone networks at
C <= 16). Two things made that work many times slower on a shared machine:

* torch starts one intra-op thread per core, and its OpenMP runtime keeps idle threads
  spinning for a while after each parallel region. With another process on the machine a
  spinning or descheduled thread stalls every barrier: beside one competing process on 2
  cores, ``gcnas demo --quick`` with torch's defaults took 2.1x its idle time (arch2vec 3.3x),
  with this policy 0.97x (``benchmarks/contention.py``).
* a second thread buys little on this work even when the machine is idle: the idle quick
  demo took 21.8 s with torch's defaults and 23.1 s with one thread (same run).

So gcnas's policy is: one intra-op thread (torch's, and numpy's BLAS pool) unless asked for more (``--threads N`` on the
command line, ``GCNAS_THREADS=N`` in the environment), and OpenMP threads that sleep while
they wait (``OMP_WAIT_POLICY=PASSIVE``), set when gcnas is imported, unless the variable is
already set. OpenMP reads the variable once, when torch is first imported: a program that
imports torch before gcnas keeps its own setting.

Example:
    >>> from gcnas.threads import apply_thread_policy
    >>> apply_thread_policy()  # 1, or GCNAS_THREADS
    1
"""

from __future__ import annotations

import os
import sys

from gcnas.exceptions import InvalidInputError

__all__ = ["THREADS_ENV", "DEFAULT_THREADS", "apply_thread_policy", "resolve_threads", "policy_threads",
           "prefer_passive_waiting"]

THREADS_ENV = "GCNAS_THREADS"
DEFAULT_THREADS = 1


def prefer_passive_waiting() -> None:
    """Make OpenMP threads sleep while they wait, unless the user chose otherwise.

    Effective only before torch is first imported (``import gcnas`` calls it).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def resolve_threads(threads: int | None = None) -> int:
    """The number of intra-op threads the policy gives.

    Args:
        threads: An explicit choice (e.g. ``--threads``); ``None`` reads ``GCNAS_THREADS``
            and falls back to :data:`DEFAULT_THREADS`.

    Returns:
        A positive thread count.

    Raises:
        InvalidInputError: ``threads`` or ``GCNAS_THREADS`` is not a positive integer.
    """
    if threads is None:
        text = os.environ.get(THREADS_ENV, "").strip()
        if not text:
            return DEFAULT_THREADS
        try:
            threads = int(text)
        except ValueError:
            raise InvalidInputError(f"{THREADS_ENV}={text!r} is not an integer; set it to a thread count "
                             "such as 1 or 2, or unset it") from None
        source = f"{THREADS_ENV}={text}"
    else:
        source = f"threads={threads}"
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InvalidInputError(f"{source}: the number of CPU threads must be a positive integer")
    return threads


_applied: int | None = None
"""The count :func:`apply_thread_policy` last set in this process (None: never called)."""


def policy_threads() -> int:
    """The thread count this process runs under: what :func:`apply_thread_policy` set
    (``gcnas --threads N``), else what the policy would give (:func:`resolve_threads`).

    Worker processes (:mod:`gcnas.parallel`) take this count, so ``--threads`` reaches them.
    """
    return _applied if _applied is not None else resolve_threads()


def apply_thread_policy(threads: int | None = None) -> int:
    """Set torch's intra-op threads for this process by the policy.

    Args:
        threads: An explicit choice; ``None`` reads ``GCNAS_THREADS``, else 1.

    Returns:
        The thread count set.
    """
    from threadpoolctl import threadpool_limits

    global _applied
    count = resolve_threads(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(count)
    else:
        # torch sizes its intra-op pool from this variable when it is first imported; setting it
        # instead of importing torch here spares the commands that never use torch (reading a
        # lookup table, listing trials) the seconds torch takes to import.
        os.environ["OMP_NUM_THREADS"] = str(count)
    _applied = count
    # numpy's OpenBLAS keeps its own pool (one thread per core, spinning while idle).
    threadpool_limits(limits=count, user_api="blas")
    return count
