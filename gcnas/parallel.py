"""Run independent calls on several workers: in the caller, in local processes, or on Ray.

Every parallel job of gcnas (search trials, scoring sub-networks) hands its work to an
:class:`Executor` built by :func:`make_executor`, so the same code runs one call at a
time in the caller (``"inline"``), on a pool of local processes (``"process"``) or on a
Ray cluster (``"ray"``). :meth:`Executor.submit` returns a
:class:`concurrent.futures.Future`; a worker that raises, or whose process dies, fails
only the future of the call it was running, and the executor goes on with the others.

Workers apply the thread count of the process that builds the executor
(:func:`gcnas.threads.policy_threads`: ``gcnas --threads N``, else ``GCNAS_THREADS``, else one
torch thread) before anything else, then the caller's ``initializer``. A worker receives
its function and arguments by pickling, so they must be module-level functions and
picklable values.

Nothing outlives the process that built the executor (the head). Ending a ``with`` block by
an interrupt (``KeyboardInterrupt``, and SIGTERM / SIGHUP inside :func:`terminate_as_interrupt`,
which the ``gcnas`` command applies) stops the calls running instead of waiting for them: the
worker processes are terminated, Ray tasks cancelled, a local Ray instance shut down. And a
worker process ends by itself as soon as its head is gone, even after ``kill -9`` of the head:
a watchdog thread in each worker waits on the pipe that :mod:`multiprocessing` keeps from the
head (:func:`multiprocessing.parent_process`), which closes when the head dies.

This module imports nothing of gcnas but :mod:`gcnas.exceptions` and :mod:`gcnas.threads`,
so every package may use it; Ray is imported only when a Ray executor is built.

Example:
    >>> from gcnas.parallel import make_executor
    >>> with make_executor("process", workers=2) as executor:
    ...     futures = [executor.submit(pow, 2, k) for k in range(4)]
    ...     [f.result() for f in futures]
    [1, 2, 4, 8]
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterator, TypeVar

from gcnas.exceptions import InvalidInputError
from gcnas.threads import apply_thread_policy, policy_threads

__all__ = ["EXECUTORS", "Executor", "InlineExecutor", "ProcessExecutor", "RayExecutor", "make_executor",
           "current_worker", "Terminated", "terminate_as_interrupt", "TERMINATING_SIGNALS"]

T = TypeVar("T")

EXECUTORS = ("inline", "process", "ray")
"""The executor kinds :func:`make_executor` builds."""

RAY_INSTALL_HINT = "pip install 'gcnas[ray]'"

_RAY_ADDRESS = re.compile(r"auto|(ray://)?([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}")


def current_worker() -> str:
    """``"hostname:pid"`` of the process running the call (a worker's id in reports).

    Returns:
        The host name and process id, joined by a colon.
    """
    return f"{socket.gethostname()}:{os.getpid()}"


TERMINATING_SIGNALS: tuple[int, ...] = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                                             if hasattr(signal, name))
"""The signals :func:`terminate_as_interrupt` turns into :class:`Terminated` (SIGHUP is POSIX only)."""


class Terminated(KeyboardInterrupt):
    """A termination signal, raised in the main thread as an interrupt (Ctrl-C's clean path).

    Args:
        signum: The signal received.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        """e.g. ``"SIGTERM"``."""
        return signal.Signals(self.signum).name

    def __str__(self) -> str:
        return f"terminated by {self.signal_name}"


@contextlib.contextmanager
def terminate_as_interrupt(signals: tuple[int, ...] = TERMINATING_SIGNALS) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (a ``KeyboardInterrupt``).

    So ``kill``, ``timeout``, a batch scheduler or a closed terminal end a run as Ctrl-C
    does: ``with`` blocks and ``finally`` clauses run, executors stop their workers. A second
    signal while that cleanup runs is ignored (SIGKILL still ends the process, and the
    workers then end by themselves). A signal whose handler is not the default one (ignored
    under ``nohup``, or a handler of your own) is left alone; outside the main thread this
    does nothing. The previous handlers are restored at the end of the block.

    Args:
        signals: The signals to translate (default :data:`TERMINATING_SIGNALS`).

    Example:
        >>> with terminate_as_interrupt(), make_executor("process", workers=2) as executor:
        ...     result = run_search(searcher, objectives, budget=50, executor=executor)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        if not received:  # the first one interrupts; later ones must not break the cleanup it started
            received.append(signum)
            raise Terminated(signum)

    previous = {}
    for signum in signals:
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def make_executor(kind: str = "inline", workers: int = 1, *, ray_address: str | None = None,
                  initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> Executor:
    """An executor of ``workers`` parallel workers.

    Args:
        kind: ``"inline"`` (each call runs in the caller, at submit), ``"process"`` (local
            processes, started with ``spawn``) or ``"ray"`` (Ray tasks; needs
            ``pip install 'gcnas[ray]'``).
        workers: How many calls run at once (a positive integer).
        ray_address: ``"ray"`` only: the address of a running Ray cluster (``"auto"``,
            ``"HOST:PORT"``, ``"ray://HOST:PORT"``); None starts a local Ray instance of
            ``workers`` CPUs, reachable only from this machine, and stops it at shutdown.
        initializer: Called once in each worker process (after the thread policy) with
            ``initargs``; a module-level function, so that it pickles.
        initargs: Arguments of ``initializer``.

    Returns:
        The executor; use it as a context manager, or call :meth:`Executor.shutdown`.

    Raises:
        InvalidInputError: Unknown ``kind``, ``workers`` not a positive integer,
            ``ray_address`` given to another kind, or Ray missing.
    """
    if kind not in EXECUTORS:
        raise InvalidInputError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(f"workers must be a positive integer (the number of calls run at once), "
                                f"got {workers!r}; executors: {', '.join(EXECUTORS)}")
    if ray_address is not None and kind != "ray":
        raise InvalidInputError(f"ray_address={ray_address!r} is for the ray executor, not {kind!r}; "
                                "drop it or choose kind='ray'")
    if ray_address is not None and not _RAY_ADDRESS.fullmatch(str(ray_address)):
        raise InvalidInputError(f"malformed Ray address {ray_address!r}; give HOST:PORT, ray://HOST:PORT or auto "
                                "(the address `ray start --head` prints), or leave it out for a local instance")
    if initializer is not None and not callable(initializer):
        raise InvalidInputError(f"initializer must be callable, got {initializer!r}")
    if kind == "inline":
        return InlineExecutor(workers, initializer=initializer, initargs=initargs)
    if kind == "process":
        return ProcessExecutor(workers, initializer=initializer, initargs=initargs)
    return RayExecutor(workers, ray_address=ray_address, initializer=initializer, initargs=initargs)


class Executor:
    """Base class: ``workers`` calls at once, each returned as a future.

    Subclasses implement :meth:`submit` and :meth:`shutdown`.

    Args:
        workers: How many calls run at once.
    """

    kind = "executor"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` on a worker.

        Args:
            fn: A module-level function (it is pickled to the worker, except inline).
            *args: Its positional arguments (picklable).
            **kwargs: Its keyword arguments (picklable).

        Returns:
            The future of the call's value. An exception the call raised, or the loss of
            its worker (``BrokenProcessPool``, a Ray ``WorkerCrashedError``), is set on
            the future instead.
        """
        raise NotImplementedError

    def shutdown(self, cancel: bool = False) -> None:
        """Cancel the calls not started, wait for those running, and release the workers.

        Args:
            cancel: Stop the calls running too, instead of waiting for them (their futures
                fail); what the ``with`` block does when it ends by an interrupt.
        """
        raise NotImplementedError

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        # An interrupt (Ctrl-C, SIGTERM/SIGHUP under terminate_as_interrupt, SystemExit) stops the calls
        # running; an ordinary error still lets them finish, as before.
        self.shutdown(cancel=exc_type is not None and not issubclass(exc_type, Exception))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


_WATCHING_PARENT = False
"""In a worker process: whether :func:`_exit_with_parent` has started its watchdog."""


def _exit_with_parent() -> None:
    """In a process started by :mod:`multiprocessing`: end it as soon as its parent is gone.

    A daemon thread blocks on the parent's sentinel (the pipe the parent keeps open while it
    lives; on Windows its process handle), so it costs nothing while it waits and wakes when
    the parent exits or is killed, even by SIGKILL; then ``os._exit(1)``, whatever the worker
    is running. Nothing happens in a process that :mod:`multiprocessing` did not start (Ray's
    workers, the head itself).
    """
    global _WATCHING_PARENT
    parent = multiprocessing.parent_process()
    if parent is None or _WATCHING_PARENT:
        return
    _WATCHING_PARENT = True

    def watch() -> None:
        parent.join()  # a blocking wait on the sentinel, no polling
        os._exit(1)

    threading.Thread(target=watch, name="gcnas-exit-with-parent", daemon=True).start()


def _initialize_worker(threads: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """What every worker process runs first: the watchdog that ends it with its parent, the thread
    policy, then the caller's initializer."""
    _exit_with_parent()
    apply_thread_policy(threads)
    if initializer is not None:
        initializer(*initargs)


class InlineExecutor(Executor):
    """Each call runs in the caller when it is submitted (a done future comes back).

    The serial reference of the other executors, and the one to debug with: no pickling,
    no processes. ``workers`` is kept for the record; calls never overlap.

    Args:
        workers: Recorded only.
        initializer: Called once, in the caller, before the first call.
        initargs: Arguments of ``initializer``.
    """

    kind = "inline"

    def __init__(self, workers: int = 1, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple = ()) -> None:
        super().__init__(workers)
        self._initializer, self._initargs = initializer, tuple(initargs)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        try:
            if self._initializer is not None:
                initializer, self._initializer = self._initializer, None
                initializer(*self._initargs)
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - stored on the future, as a pool would
            future.set_exception(error)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        return None


class ProcessExecutor(Executor):
    """Local worker processes, each running one call at a time, fed from one queue.

    Each worker is a one-process pool of its own, started with ``spawn`` (forking a
    process that holds torch's threads is unsafe). When a worker process dies (killed,
    out of memory, ``os._exit``), only the call it was running fails, with
    ``BrokenProcessPool``, and a fresh process takes the worker's place for the next call;
    one shared process pool would fail every call in flight instead.

    Args:
        workers: How many processes.
        initializer: Called once in each worker process, after the thread policy.
        initargs: Arguments of ``initializer``.
    """

    kind = "process"

    def __init__(self, workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple = ()) -> None:
        super().__init__(workers)
        self._initargs = (policy_threads(), initializer, tuple(initargs))
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._queue: deque[tuple[Future[Any], Callable[..., Any], tuple, dict]] = deque()
        self._pools: list[ProcessPoolExecutor | None] = [None] * workers
        self._busy = [False] * workers
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to an executor after its shutdown")
            self._queue.append((future, fn, args, kwargs))
        self._dispatch()
        return future

    def shutdown(self, cancel: bool = False) -> None:
        with self._lock:
            self._closed = True
            queued, pools = list(self._queue), [p for p in self._pools if p is not None]
            self._queue.clear()
        for future, *_ in queued:
            future.cancel()
        if cancel:  # the calls running end with BrokenProcessPool, through _finished
            _stop_processes(pools)
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=cancel)

    def _dispatch(self) -> None:
        """Start queued calls on idle workers (callbacks are attached outside the lock:
        a call already done runs its callback at once, and that takes the lock)."""
        started = []
        with self._lock:
            for slot in range(self.workers):
                while not self._busy[slot] and self._queue and not self._closed:
                    future, fn, args, kwargs = self._queue.popleft()
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        inner = self._submit_to(slot, fn, args, kwargs)
                    except Exception as error:  # noqa: BLE001 - e.g. a worker that cannot start
                        future.set_exception(error)
                        continue
                    self._busy[slot] = True
                    started.append((slot, future, inner))
        for slot, future, inner in started:
            inner.add_done_callback(lambda done, slot=slot, future=future: self._finished(slot, future, done))

    def _submit_to(self, slot: int, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Future[Any]:
        try:
            return self._pool(slot).submit(fn, *args, **kwargs)
        except BrokenProcessPool:  # its process died while idle: start another
            self._pools[slot] = None
            return self._pool(slot).submit(fn, *args, **kwargs)

    def _pool(self, slot: int) -> ProcessPoolExecutor:
        if self._pools[slot] is None:
            self._pools[slot] = ProcessPoolExecutor(1, mp_context=self._context, initializer=_initialize_worker,
                                                    initargs=self._initargs)
        return self._pools[slot]

    def _finished(self, slot: int, future: Future[Any], done: Future[Any]) -> None:
        error = done.exception() if not done.cancelled() else RuntimeError("the worker cancelled the call")
        with self._lock:
            if isinstance(error, BrokenProcessPool):
                # A broken pool terminates and joins its process by itself; the next call gets a new one.
                self._pools[slot] = None
            self._busy[slot] = False
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())
        self._dispatch()


def _stop_processes(pools: list[ProcessPoolExecutor], grace: float = 5.0) -> None:
    """Terminate the worker processes of ``pools`` (SIGTERM), and kill those still alive after ``grace`` s."""
    from multiprocessing.connection import wait

    # ProcessPoolExecutor names no public way to stop a running call before Python 3.14
    # (terminate_workers); its process table has been `_processes` since Python 3.2.
    processes = [p for pool in pools for p in list((getattr(pool, "_processes", None) or {}).values())]
    alive = {}
    for process in processes:
        with contextlib.suppress(Exception):  # already gone or closed
            process.terminate()
            alive[process.sentinel] = process
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        for ready in wait(list(alive), timeout=deadline - time.monotonic()):
            alive.pop(ready)
    for process in alive.values():
        with contextlib.suppress(Exception):
            process.kill()


_RAY_READY: set[str] = set()
"""In a Ray worker process: the executors whose initializer has run there."""


def _run_ray_task(executor_id: str, init: tuple, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    """A Ray task: the worker setup once per worker process and executor, then the call."""
    if executor_id not in _RAY_READY:
        _initialize_worker(*init)
        _RAY_READY.add(executor_id)
    return fn(*args, **kwargs)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise InvalidInputError(f"the ray executor needs Ray, which is not installed ({error}); "
                                f"install it with {RAY_INSTALL_HINT}, or use the process executor") from None
    return ray


LOOPBACK = "127.0.0.1"


def _python_handlers() -> dict[int, Any]:
    """The Python handlers of :data:`TERMINATING_SIGNALS` (in the main thread; none elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: handler for signum in TERMINATING_SIGNALS if callable(handler := signal.getsignal(signum))}


@contextlib.contextmanager
def _loopback_only(ray: Any) -> Iterator[None]:
    """Keep a local Ray instance on the loopback address.

    Ray replaces a loopback node address by the machine's network address (and its
    servers then listen on every interface) unless clusters are disabled, which is how
    it runs on macOS and Windows: the switch is read from the environment when Ray is
    imported (and by the processes it starts), and from ``ray_constants`` at
    :func:`ray.init`, so both are set while the instance starts.
    """
    from ray._private import ray_constants

    variable = getattr(ray_constants, "ENABLE_RAY_CLUSTERS_ENV_VAR", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    saved_env, saved_flag = os.environ.get(variable), getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[variable] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved_env
        if saved_flag is not None:
            ray_constants.ENABLE_RAY_CLUSTER = saved_flag


class RayExecutor(Executor):
    """Calls as Ray tasks of one CPU each, on a local Ray instance or a running cluster.

    Without an address a local instance of ``workers`` CPUs is started, its services bound
    to the loopback address (reachable from this machine only), and stopped at
    :meth:`shutdown`, also when the head is interrupted or terminated by SIGTERM/SIGHUP under
    :func:`terminate_as_interrupt` (its running tasks are cancelled); a cluster (or a Ray
    session this process had already started) is left running. After ``kill -9`` of the
    head no gcnas code runs: the local instance's processes notice the lost driver by
    themselves, which took Ray 50-90 s in our tests, outside gcnas's control. Tasks are not
    retried: a crashed worker or a lost node becomes the exception of that call's future.
    Every node must have gcnas installed.

    Args:
        workers: CPUs of the local instance (each call takes one).
        ray_address: Address of a running cluster, or None for a local instance.
        initializer: Called once in each Ray worker process, after the thread policy.
        initargs: Arguments of ``initializer``.
    """

    kind = "ray"

    def __init__(self, workers: int, *, ray_address: str | None = None,
                 initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> None:
        super().__init__(workers)
        ray = _import_ray()
        self._init = (policy_threads(), initializer, tuple(initargs))  # a bad GCNAS_THREADS fails before Ray starts
        self.ray_address = ray_address
        self._started = False
        if not ray.is_initialized():
            handlers = _python_handlers()
            try:
                if ray_address is None:
                    with _loopback_only(ray):
                        ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address=LOOPBACK,
                                 log_to_driver=False, logging_level="ERROR")
                else:
                    ray.init(address=ray_address, log_to_driver=False, logging_level="ERROR")
            except Exception as error:  # noqa: BLE001 - Ray raises many kinds; the user needs one message
                where = f"the Ray cluster at {ray_address!r}" if ray_address else "a local Ray instance"
                raise InvalidInputError(f"could not start or reach {where}: {type(error).__name__}: {error}; "
                                        "give the address of a running cluster (HOST:PORT, ray://HOST:PORT "
                                        "or auto, see `ray start --head`), or leave it out") from error
            for signum, handler in handlers.items():  # ray.init puts its own in their place
                signal.signal(signum, handler)
            self._started = True
            node = ray.util.get_node_ip_address()
            if ray_address is None and node != LOOPBACK:
                ray.shutdown()
                raise InvalidInputError(f"this Ray version would expose the local instance on the network (node "
                                        f"address {node}, not {LOOPBACK}); start a cluster yourself "
                                        "(`ray start --head`) and pass its address")
        self._ray = ray
        self._id = uuid.uuid4().hex
        self._task = ray.remote(num_cpus=1, max_retries=0)(_run_ray_task)
        self._in_flight: dict[Future[Any], Any] = {}  # future -> its Ray ObjectRef
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self._closed:
            raise RuntimeError("cannot submit to an executor after its shutdown")
        ref = self._task.remote(self._id, self._init, fn, args, kwargs)
        future = ref.future()
        with self._lock:
            self._in_flight[future] = ref
        future.add_done_callback(self._forget)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        """Wait for every submitted call (or, with ``cancel``, cancel them: their worker processes
        are killed), then stop the local Ray instance if this executor started it."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            in_flight = dict(self._in_flight)
        for future, ref in in_flight.items():
            if cancel:
                with contextlib.suppress(Exception):  # done meanwhile, or the cluster is gone
                    self._ray.cancel(ref, force=True)
            else:
                future.exception()  # waits; the outcome stays on the future
        if self._started:
            self._ray.shutdown()

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._in_flight.pop(future, None)
