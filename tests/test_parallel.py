"""The executors of gcnas.parallel: inline, local processes (Ray is tested with a search,
in tests/search/test_parallel_search.py, to start it once)."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool

import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.parallel import EXECUTORS, InlineExecutor, ProcessExecutor, current_worker, make_executor
from gcnas.threads import resolve_threads

_MARK = "GCNAS_TEST_WORKER_MARK"


def mark_worker(value: str) -> None:
    """Initializer: leaves a mark in the worker process's environment."""
    os.environ[_MARK] = value


def describe(x: int) -> tuple[int, str, int, str | None]:
    """A call's value, the worker that ran it, its torch threads and the initializer's mark."""
    import torch

    return x * x, current_worker(), torch.get_num_threads(), os.environ.get(_MARK)


def fail(message: str) -> None:
    raise ValueError(message)


def die() -> None:
    os._exit(3)


def test_make_executor_rejects_bad_input_with_the_choices():
    with pytest.raises(InvalidInputError, match="unknown executor 'threads'; choose one of inline, process, ray"):
        make_executor("threads")
    for workers in (0, -1, 1.5, "2", True):
        with pytest.raises(InvalidInputError, match="workers must be a positive integer.*inline, process, ray"):
            make_executor("process", workers)
    with pytest.raises(InvalidInputError, match="ray_address='auto' is for the ray executor"):
        make_executor("process", 2, ray_address="auto")
    for address in ("nohost", "http://head:6379", "head:", "two words:1"):
        with pytest.raises(InvalidInputError, match="malformed Ray address"):
            make_executor("ray", 2, ray_address=address)
    with pytest.raises(InvalidInputError, match="initializer must be callable"):
        make_executor("inline", initializer="setup")
    assert EXECUTORS == ("inline", "process", "ray")


def test_current_worker_names_host_and_process():
    host, pid = current_worker().rsplit(":", 1)
    assert host and int(pid) == os.getpid()


def test_inline_runs_at_submit_stores_errors_and_initializes_once(monkeypatch):
    monkeypatch.delenv(_MARK, raising=False)
    calls = []

    def initializer(tag):
        calls.append(tag)

    with make_executor("inline", initializer=initializer, initargs=("x",)) as executor:
        assert isinstance(executor, InlineExecutor) and executor.kind == "inline" and executor.workers == 1
        first = executor.submit(pow, 3, 2)
        assert first.done() and first.result() == 9
        failed = executor.submit(fail, "bad cell")
        assert failed.done() and isinstance(failed.exception(), ValueError)
        assert executor.submit(describe, 4).result()[:2] == (16, current_worker())
    assert calls == ["x"]


def test_missing_ray_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(InvalidInputError, match=r"needs Ray.*pip install 'gcnas\[ray\]'"):
        make_executor("ray", 2)


@pytest.mark.slow  # starts three worker processes (each imports torch)
def test_process_pool_isolates_failures_and_replaces_a_dead_worker():
    with make_executor("process", 2, initializer=mark_worker, initargs=("ready",)) as executor:
        assert isinstance(executor, ProcessExecutor) and executor.workers == 2
        first = [executor.submit(describe, x) for x in range(4)]
        values = [f.result(timeout=120) for f in first]
        assert [v[0] for v in values] == [0, 1, 4, 9]
        workers = {v[1] for v in values}
        assert current_worker() not in workers and 1 <= len(workers) <= 2
        # the thread policy and then the caller's initializer ran in every worker
        assert {(v[2], v[3]) for v in values} == {(resolve_threads(), "ready")}

        raised, died = executor.submit(fail, "bad cell"), executor.submit(die)
        assert isinstance(raised.exception(timeout=120), ValueError)
        assert isinstance(died.exception(timeout=120), BrokenProcessPool)
        # only the dead worker's call failed; a fresh process takes its place
        after = [executor.submit(describe, x) for x in range(4)]
        assert [f.result(timeout=120)[0] for f in after] == [0, 1, 4, 9]
        assert {f.result()[3] for f in after} == {"ready"}

        # shutdown waits for the calls running and cancels those still queued
        running = [executor.submit(time.sleep, 1.0) for _ in range(2)]
        queued = [executor.submit(describe, x) for x in range(3)]
    assert all(f.done() and f.exception() is None for f in running)
    for future in queued:
        with pytest.raises(CancelledError):
            future.result()
    with pytest.raises(RuntimeError, match="after its shutdown"):
        executor.submit(describe, 1)
