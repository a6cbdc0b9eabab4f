"""Latency measured on the machine at hand, and its resumable sweep into the run store.

One measurement: build the exact network of any space (``space.network``: NAS-Bench-201's by
default, at the network's own default shape unless ``channels`` / ``cells`` are given), put it
in eval mode on the device, run ``warmup`` forward passes, then ``repeats`` timed passes
under ``torch.inference_mode`` with a fixed thread count (CUDA synchronised around each
pass). The result holds the median and the fastest of the repeats and their interquartile
range (the spread).
On one CPU thread the clock is the thread's CPU time, which leaves out the moments other
jobs hold the core; elsewhere it is elapsed time.

Several architectures (:func:`measure_latencies`) are timed in interleaved rounds of random
order: on a shared machine whose speed drifts by tens of percent within a second, drift
then hits every architecture of the group alike, and their latencies stay comparable with
each other. The sweep stores the fastest repeat (``benchmarks/latency_explained.py``
measures why; docs/hardware.md has the figures).

The sweep (:func:`measure_many`, ``gcnas hw measure``) writes each group's results to the
store's ``costs`` table (metric ``latency_ms``) as soon as they exist and skips what is
stored, so an interrupted sweep resumes where it stopped. Given an executor
(:func:`gcnas.parallel.make_executor`) the groups are timed on its workers, each group on
one worker, and written here: meant for a farm of identical machines (Ray), since groups
timed at once on one machine slow each other down.

A group holds at most ``interleave`` architectures and, since all of its networks are held in
memory at once, at most :data:`INTERLEAVE_PARAMS_M` million parameters together (counted with
``space.costs``): 100 NAS-Bench-201 networks (at most 1.5 M each) fit in one group, while the IMC
macro space's networks at 32 channels (up to about 32 M each) go about a dozen at a time.
"""

from __future__ import annotations

import functools
import inspect
import math
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from gcnas.data.store import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.data.images import dataset_shape

if TYPE_CHECKING:
    from gcnas.parallel import Executor

__all__ = ["INTERLEAVE", "INTERLEAVE_PARAMS_M", "STATISTIC", "LatencyResult", "measure_latency", "measure_latencies", "measure_many",
           "measurement_key", "resolve_clock", "resolve_device", "sweep"]

INTERLEAVE = 100
"""Architectures that :func:`measure_many` times in interleaved rounds by default (their networks
are held in memory at once: about 1.6 MB each at the NAS-Bench-201 size)."""

INTERLEAVE_PARAMS_M = 400.0
"""Most parameters (millions) of the networks that :func:`measure_many` holds in one interleaved group:
1.6 GB of float32 weights. It never splits a group of 100 NAS-Bench-201 networks (150 M at most), and keeps
a group of big networks (an IMC network at 32 channels has up to about 32 M) to what fits in memory."""

STATISTIC = "min"
"""What :func:`measure_many` stores of the repeats by default: the fastest (``min``)."""


@dataclass(frozen=True)
class LatencyResult:
    """One latency measurement.

    Attributes:
        median_ms: Median of the timed repeats (the reported latency).
        spread_ms: Interquartile range of the repeats (run-to-run spread).
        times_ms: Every timed repeat, in order.
        device: ``"cpu"`` or ``"cuda"`` (``"cuda:N"``).
        batch_size: Images per forward pass.
        threads: CPU threads used by torch during the measurement.
        clock: What ``times_ms`` counts: ``"wall"`` (elapsed time) or ``"cpu"`` (CPU time of
            the measuring thread, which excludes the time other jobs hold the core).
        wall_times_ms: Every repeat's elapsed time (the same as ``times_ms`` when
            ``clock="wall"``); ``wall / cpu`` shows how contended the machine was.
    """

    median_ms: float
    spread_ms: float
    times_ms: tuple[float, ...]
    device: str
    batch_size: int
    threads: int
    clock: str = "wall"
    wall_times_ms: tuple[float, ...] = ()

    @property
    def min_ms(self) -> float:
        """Fastest repeat: less sensitive than the median to other jobs on a shared machine."""
        return min(self.times_ms)


def resolve_device(device: str) -> str:
    """Check a device name (``cpu``, ``cuda``/``cuda:N``, ``auto``) and return it as a string.

    The one rule lives in :func:`gcnas.supernet.resolve_device`; latency keys want a str.
    """
    from gcnas.supernet import resolve_device as resolve

    return str(resolve(str(device).lower()))


def measurement_key(device: str, *, batch_size: int = 1, dataset: str = "cifar10", channels: int | None = None,
                    cells: int | None = None) -> str:
    """The ``device`` column under which a measurement is stored in the ``costs`` table.

    ``"cpu"`` / ``"cuda"`` for batch 1 on CIFAR-10 input at the network's default shape; other
    settings are appended (``"cpu/bs8"``, ``"cpu/imagenet16-120"``, ``"cpu/channels8"``,
    ``"cpu/cells2"``) so different settings never mix. (A run store holds one space, so the
    space needs no part of its own.)

    Example:
        >>> measurement_key("cuda:1", batch_size=8, channels=8)
        'cuda/bs8/channels8'
    """
    key = "cuda" if str(device).startswith("cuda") else str(device)
    if batch_size != 1:
        key += f"/bs{batch_size}"
    if dataset.lower() != "cifar10":
        key += f"/{dataset.lower()}"
    if channels is not None:
        key += f"/channels{channels}"
    if cells is not None:
        key += f"/cells{cells}"
    return key


def measure_latency(arch: Any, *, device: str = "cpu", batch_size: int = 1, repeats: int = 30,
                    warmup: int = 5, threads: int = 1, dataset: str = "cifar10", channels: int | None = None,
                    cells: int | None = None, seed: int = 0, clock: str = "auto", space: Any = None) -> LatencyResult:
    """Measure the inference latency of the network of ``arch`` here.

    Args:
        arch: The architecture.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: Images per forward pass.
        repeats: Timed forward passes (the median is reported).
        warmup: Untimed passes first (allocator, caches, cuDNN autotuning).
        threads: ``torch.set_num_threads`` during the measurement (restored after).
        dataset: Sets input size and class count (``cifar10``, ``cifar100``,
            ``imagenet16-120``).
        channels: Channels of the first stage (``None``: the network's default, NAS-Bench-201's 16).
        cells: Cells per stage (``None``: the network's default, NAS-Bench-201's 5; a space whose
            depth is part of the architecture, imc, takes none).
        seed: Seeds the weights and the input (latency does not depend on their values).
        clock: ``wall``, ``cpu`` or ``auto`` (see :func:`measure_latencies`).
        space: The architecture's space, or its name (``None``: nb201; :func:`gcnas.spaces.resolve_space`).

    Returns:
        The :class:`LatencyResult` (milliseconds per forward pass of the whole batch).

    Example:
        >>> result = measure_latency(get_space("nb201").parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"), repeats=10)
        >>> result.median_ms, result.spread_ms
    """
    return measure_latencies([arch], device=device, batch_size=batch_size, repeats=repeats, warmup=warmup,
                             threads=threads, dataset=dataset, channels=channels, cells=cells, seed=seed,
                             clock=clock, space=space)[0]


def measure_latencies(archs: Sequence[Any], *, device: str = "cpu", batch_size: int = 1, repeats: int = 30,
                      warmup: int = 5, threads: int = 1, dataset: str = "cifar10", channels: int | None = None,
                      cells: int | None = None, seed: int = 0, interleave: bool = True, clock: str = "auto",
                      space: Any = None) -> list[LatencyResult]:
    """Measure several architectures here, their timed passes interleaved.

    With ``interleave`` every network is built and warmed up first, then the timed passes
    go in rounds, one pass of every architecture per round, each round in a fresh random
    order (A, C, B, B, A, C, ...): a slow spell of a shared machine then slows a random few
    passes of many architectures instead of every pass of whichever one was being timed,
    so the latencies of one call compare with each other. Without it each architecture is
    timed in turn (all of A's passes, then all of B's), as :func:`measure_latency` does.

    The clock: elapsed (``wall``) time counts every moment other jobs hold the core, which
    on a shared machine is most of the figure; the CPU time of the measuring thread
    (``cpu``, :func:`time.thread_time`) counts only the work of the forward pass, which is
    all of it when torch runs on one thread on the CPU. ``auto`` takes ``cpu`` there and
    ``wall`` otherwise (several threads, or a GPU, whose work no CPU clock sees).

    Args:
        archs: The architectures (all their networks are held in memory at once).
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: Images per forward pass.
        repeats: Timed forward passes per architecture (the median is reported).
        warmup: Untimed passes per architecture first (allocator, caches, cuDNN autotuning).
        threads: ``torch.set_num_threads`` during the measurement (restored after).
        dataset: Sets input size and class count (``cifar10``, ``cifar100``,
            ``imagenet16-120``).
        channels: Channels of the first stage (``None``: the network's default, NAS-Bench-201's 16).
        cells: Cells per stage (``None``: the network's default, NAS-Bench-201's 5).
        seed: Seeds the weights, the input (latency does not depend on their values) and the
            order of the rounds.
        interleave: Time the architectures in rounds of random order (else one after the other).
        clock: ``wall``, ``cpu`` (only with ``device="cpu"`` and ``threads=1``) or ``auto``.
        space: The architectures' space, or its name (``None``: nb201).

    Returns:
        One :class:`LatencyResult` per architecture, in the order given.

    Example:
        >>> results = measure_latencies([space.sample(0), space.sample(1)], repeats=10)   # space = get_space("nb201")
        >>> [r.median_ms for r in results]
    """
    import torch

    for name, value, low in (("batch_size", batch_size, 1), ("repeats", repeats, 1),
                             ("warmup", warmup, 0), ("threads", threads, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidInputError(f"{name} must be an int >= {low}, got {value!r}")
    device = resolve_device(device)
    clock = resolve_clock(clock, device=device, threads=threads)
    num_classes, size = dataset_shape(dataset)
    torch.manual_seed(seed)
    inputs = torch.randn(batch_size, 3, size, size, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    from gcnas.spaces import given_shape, resolve_space

    space = resolve_space(space)
    shape = given_shape(channels=channels, cells=cells)

    def build(arch: Any) -> torch.nn.Module:
        torch.manual_seed(seed)
        return space.network(arch, **shape, num_classes=num_classes).to(device).eval()

    def timed(model: torch.nn.Module) -> tuple[float, float]:
        start, start_cpu = time.perf_counter(), time.thread_time()
        model(inputs)
        sync()
        return (time.perf_counter() - start) * 1e3, (time.thread_time() - start_cpu) * 1e3

    def warm(model: torch.nn.Module) -> None:
        for _ in range(warmup):
            model(inputs)
        sync()

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    times: list[list[tuple[float, float]]] = [[] for _ in archs]  # (wall, cpu) per repeat
    try:
        with torch.inference_mode():
            if interleave:
                models = [build(arch) for arch in archs]
                for model in models:
                    warm(model)
                order = np.random.default_rng(seed)
                for _ in range(repeats):
                    for i in order.permutation(len(models)):
                        times[i].append(timed(models[i]))
            else:
                for i, arch in enumerate(archs):
                    model = build(arch)
                    warm(model)
                    times[i] = [timed(model) for _ in range(repeats)]
    finally:
        torch.set_num_threads(previous)
    results = []
    for pairs in times:
        wall = tuple(w for w, _ in pairs)
        counted = wall if clock == "wall" else tuple(c for _, c in pairs)
        results.append(LatencyResult(statistics.median(counted), _iqr(counted), counted, device, batch_size, threads,
                                     clock, wall))
    return results


def resolve_clock(clock: str, *, device: str, threads: int) -> str:
    """The clock a measurement reads: ``wall`` or ``cpu`` (``auto``: ``cpu`` for one CPU thread).

    Args:
        clock: ``wall``, ``cpu`` or ``auto``.
        device: The resolved device (``cpu``, ``cuda``, ``cuda:N``).
        threads: Torch CPU threads during the measurement.

    Returns:
        ``"wall"`` or ``"cpu"``.
    """
    one_cpu_thread = device == "cpu" and threads == 1
    if clock == "auto":
        return "cpu" if one_cpu_thread else "wall"
    if clock not in ("wall", "cpu"):
        raise InvalidInputError(f"unknown clock {clock!r}; choose wall, cpu or auto")
    if clock == "cpu" and not one_cpu_thread:
        raise InvalidInputError(f"clock='cpu' times one CPU thread: it needs device='cpu' and threads=1, got "
                                f"device={device!r}, threads={threads}; use clock='wall'")
    return clock


def _iqr(values: Sequence[float]) -> float:
    if len(values) < 4:
        return max(values) - min(values)
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


def measure_many(archs: Sequence[Any], store: RunStore, *, device: str = "cpu", batch_size: int = 1,
                 repeats: int = 30, warmup: int = 5, threads: int = 1, dataset: str = "cifar10",
                 progress: bool = True, seed: int = 0, interleave: int = INTERLEAVE, clock: str = "auto",
                 statistic: str = STATISTIC, executor: Executor | None = None, space: Any = None,
                 channels: int | None = None, cells: int | None = None,
                 max_params_m: float = INTERLEAVE_PARAMS_M) -> dict[str, int]:
    """Measure many architectures into ``store`` (metric ``latency_ms``), resumably.

    Architectures already stored under the same :func:`measurement_key` are skipped;
    the architectures are timed in groups of at most ``interleave`` networks and
    ``max_params_m`` million parameters, in interleaved rounds (:func:`measure_latencies`),
    and each group is committed as soon as it is measured, so stopping loses at most the
    group in progress. Each row's source names the settings (``measured:DEVICE:repeats=...``,
    followed by ``:space=NAME`` and the shape given for a space other than nb201 or a shape
    other than the network's default).

    With ``executor`` each group is timed on one of its workers and written here, in
    order (:func:`gcnas.supernet.score.run_in_order`), each row's source naming the worker
    (``...:worker=HOST:PID``). Workers on the same machine slow each other down (cores,
    caches, memory bandwidth, clock boost are shared), so the latencies of a sharded run
    on one machine are not those of a sequential one: shard over several identical
    machines (a Ray cluster of one worker per machine), not over the cores of one.

    Args:
        archs: Architectures to measure (duplicates are measured once).
        store: The run store.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: Images per forward pass.
        repeats: Timed passes per architecture.
        warmup: Untimed passes per architecture.
        threads: CPU threads during the measurement.
        dataset: Input size and class count.
        progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
        seed: Seeds weights and inputs.
        interleave: Architectures timed in interleaved rounds together (1: one after the other).
        clock: ``wall``, ``cpu`` or ``auto`` (see :func:`measure_latencies`).
        statistic: The value stored per architecture: ``min`` (the fastest repeat) or
            ``median`` of the repeats; the spread stored beside it is their interquartile range.
        executor: Time the groups on these workers (None: here, one group after the other).
        space: The architectures' space, or its name (``None``: the store's).
        channels: Channels of the timed networks (``None``: the network's default); part of the key.
        cells: Cells per stage (``None``: the network's default); part of the key.
        max_params_m: Most parameters (millions, ``space.costs`` at this shape) of one group's
            networks together (a network above it is timed alone).

    Returns:
        ``{"measured": n_new, "skipped": n_already_stored, "total": n_distinct}``.
    """
    from gcnas.spaces import DEFAULT_SPACE, costs_many, given_shape, resolve_space

    space = store.space if space is None else resolve_space(space)
    if not max_params_m > 0:
        raise InvalidInputError(f"max_params_m must be > 0, got {max_params_m!r}")
    if isinstance(interleave, bool) or not isinstance(interleave, int) or interleave < 1:
        raise InvalidInputError(f"interleave must be an int >= 1, got {interleave!r}")
    if statistic not in ("min", "median"):
        raise InvalidInputError(f"unknown statistic {statistic!r}; choose min or median")
    device = resolve_device(device)
    clock = resolve_clock(clock, device=device, threads=threads)
    key = measurement_key(device, batch_size=batch_size, dataset=dataset, channels=channels, cells=cells)
    shape = given_shape(channels=channels, cells=cells)
    measure = functools.partial(_time_group, dict(
        device=device, batch_size=batch_size, repeats=repeats, warmup=warmup, threads=threads, dataset=dataset,
        seed=seed, interleave=interleave > 1, clock=clock, space=space, **shape), statistic)
    source = f"measured:{device}:repeats={repeats}:threads={threads}:interleave={interleave}:clock={clock}:{statistic}"
    if space.name != DEFAULT_SPACE or shape:
        source += "".join(f":{name}={value}" for name, value in {"space": space.name, **shape}.items())
    taken = [name for name in shape if _takes(space.costs, name)]

    def params(group: list[Any]) -> Sequence[float]:
        return costs_many(space, group, **{name: shape[name] for name in taken})["params"]

    return sweep(archs, store, "latency_ms", key, measure, source=source, progress=progress, group=interleave,
                 executor=executor, weight=params if interleave > 1 else None, weight_limit=max_params_m)


def _takes(function: Callable, name: str) -> bool:
    """Whether ``function`` takes the keyword ``name`` (or any keyword)."""
    parameters = inspect.signature(function).parameters
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _groups(items: list[Any], size: int, weights: Sequence[float], limit: float) -> list[list[Any]]:
    """``items`` cut in order into groups of at most ``size`` items whose ``weights`` sum to at most
    ``limit`` (an item heavier than ``limit`` alone).

    Example:
        >>> _groups(list("abcde"), 3, [1, 1, 5, 1, 1], 6.0)
        [['a', 'b'], ['c', 'd'], ['e']]
    """
    groups: list[list[Any]] = []
    total = 0.0
    for item, w in zip(items, weights):
        if not groups or len(groups[-1]) == size or total + w > limit:
            groups.append([])
            total = 0.0
        groups[-1].append(item)
        total += w
    return groups


def _time_group(settings: dict[str, Any], statistic: str, group: list[Any]) -> list[tuple[float, float]]:
    """``(value, spread)`` of each architecture of ``group``, timed together (module level: it pickles)."""
    results = measure_latencies(group, **settings)
    return [(r.min_ms if statistic == "min" else r.median_ms, r.spread_ms) for r in results]


def _on_worker(measure: Callable, chunk: list[Any], single: bool) -> tuple[str, list[tuple[float, float]]]:
    """A worker's task: measure one chunk and name the worker."""
    from gcnas.parallel import current_worker

    return current_worker(), [measure(chunk[0])] if single else measure(chunk)


def sweep(archs: Sequence[Any], store: RunStore, metric: str, key: str,
          measure: Callable[[Any], tuple[float, float]] | Callable[[list[Any]], list[tuple[float, float]]], *,
          source: str, progress: bool = True, group: int | None = None,
          executor: Executor | None = None, weight: Callable[[list[Any]], Sequence[float]] | None = None,
          weight_limit: float = math.inf) -> dict[str, int]:
    """Run ``measure`` on every architecture not yet stored as ``(metric, key)``, committing each.

    Args:
        archs: Architectures (duplicates are measured once).
        store: The run store.
        metric: Cost metric, e.g. ``latency_ms``.
        key: Device column of the costs table.
        measure: ``arch -> (value, spread)``; with ``group``, ``[arch, ...] -> [(value, spread), ...]``
            for up to ``group`` architectures at once. With ``executor``, a picklable callable
            (a module-level function or a ``functools.partial`` of one).
        source: Label stored with each value (with ``executor``, followed by ``:worker=HOST:PID``).
        progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
        group: Measure (and commit) this many architectures per call of ``measure``;
            ``None``: one per call, ``measure`` taking a single architecture.
        executor: Run the calls of ``measure`` on these workers; their results are written
            here, in order, each as soon as it and those before it are back.
        weight: ``[arch, ...] -> (n,)``, each architecture's weight (its parameters): with
            ``group``, a group also closes before its weights would sum above ``weight_limit``
            (it always holds at least one architecture).
        weight_limit: Most total weight of one group.

    Returns:
        ``{"measured": n_new, "skipped": n_already_stored, "total": n_distinct}``.
    """
    from gcnas.progress import progress as show_progress

    done = set(store.costs(metric, key))  # (the run store keys rows by architecture)
    todo, seen = [], set()
    for arch in archs:
        if arch not in seen:
            seen.add(arch)
            if arch not in done:
                todo.append(arch)
    size = 1 if group is None else group
    weights = [0.0] * len(todo) if weight is None or group is None or not todo else list(weight(todo))
    chunks = _groups(todo, size, weights, weight_limit)
    written = [0]
    with show_progress(total=len(todo), desc=f"{metric} on {key}", unit="arch", enabled=progress) as bar:
        def write(chunk: list[Any], measured: list[tuple[float, float]], label: str) -> None:
            store.write_costs(metric, key, chunk, [v for v, _ in measured], [s for _, s in measured], source=label)
            written[0] += len(chunk)
            bar.update(len(chunk))
            bar.set_postfix(value=f"{measured[-1][0]:.3g}")

        if executor is None:
            for chunk in chunks:
                write(chunk, [measure(chunk[0])] if group is None else measure(chunk), source)
        else:
            from gcnas.supernet.score import run_in_order

            def write_back(index: int, result: tuple[str, list[tuple[float, float]]]) -> None:
                worker, measured = result
                write(chunks[index], measured, f"{source}:worker={worker}")

            try:
                run_in_order(executor, _on_worker, [(measure, chunk, group is None) for chunk in chunks], write_back)
            except Exception as error:
                error.add_note(f"{written[0]} of {len(todo)} architectures were measured into the run store; rerun the "
                               "same command to measure the rest")
                raise
    return {"measured": len(todo), "skipped": len(seen) - len(todo), "total": len(seen)}
