"""Latency measured on the machine at hand, and its resumable sweep into the run store.

One measurement: build the exact network (:func:`gcnas.supernet.build_network`), put it
in eval mode on the device, run ``warmup`` forward passes, then ``repeats`` timed passes
under ``torch.inference_mode`` with a fixed thread count (CUDA synchronised around each
pass). The figure is the median; the spread is the interquartile range of the repeats.

The sweep (:func:`measure_many`, ``gcnas hw measure``) writes each result to the store's
``costs`` table (metric ``latency_ms``) as soon as it exists and skips what is stored, so
an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from gcnas.data.store import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.hardware.counts import dataset_shape
from gcnas.space import Arch

__all__ = ["LatencyResult", "measure_latency", "measure_many", "measurement_key", "resolve_device", "sweep"]


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
    """

    median_ms: float
    spread_ms: float
    times_ms: tuple[float, ...]
    device: str
    batch_size: int
    threads: int

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


def measurement_key(device: str, *, batch_size: int = 1, dataset: str = "cifar10") -> str:
    """The ``device`` column under which a measurement is stored in the ``costs`` table.

    ``"cpu"`` / ``"cuda"`` for batch 1 on CIFAR-10 input; other settings are appended
    (``"cpu/bs8"``, ``"cpu/imagenet16-120"``) so different settings never mix.
    """
    key = "cuda" if str(device).startswith("cuda") else str(device)
    if batch_size != 1:
        key += f"/bs{batch_size}"
    if dataset.lower() != "cifar10":
        key += f"/{dataset.lower()}"
    return key


def measure_latency(arch: Arch, *, device: str = "cpu", batch_size: int = 1, repeats: int = 30,
                    warmup: int = 5, threads: int = 1, dataset: str = "cifar10", channels: int = 16,
                    cells: int = 5, seed: int = 0) -> LatencyResult:
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
        channels: Channels of the first stage.
        cells: Cells per stage.
        seed: Seeds the weights and the input (latency does not depend on their values).

    Returns:
        The :class:`LatencyResult` (milliseconds per forward pass of the whole batch).

    Example:
        >>> result = measure_latency(Arch((3,) * 6), repeats=10)
        >>> result.median_ms, result.spread_ms
    """
    import torch

    from gcnas.supernet import build_network

    for name, value, low in (("batch_size", batch_size, 1), ("repeats", repeats, 1),
                             ("warmup", warmup, 0), ("threads", threads, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidInputError(f"{name} must be an int >= {low}, got {value!r}")
    device = resolve_device(device)
    num_classes, size = dataset_shape(dataset)
    torch.manual_seed(seed)
    model = build_network(arch, channels=channels, cells=cells, num_classes=num_classes).to(device).eval()
    inputs = torch.randn(batch_size, 3, size, size, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    times = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                model(inputs)
            sync()
            for _ in range(repeats):
                start = time.perf_counter()
                model(inputs)
                sync()
                times.append((time.perf_counter() - start) * 1e3)
    finally:
        torch.set_num_threads(previous)
    return LatencyResult(statistics.median(times), _iqr(times), tuple(times), device, batch_size, threads)


def _iqr(values: Sequence[float]) -> float:
    if len(values) < 4:
        return max(values) - min(values)
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


def measure_many(archs: Sequence[Arch], store: RunStore, *, device: str = "cpu", batch_size: int = 1,
                 repeats: int = 30, warmup: int = 5, threads: int = 1, dataset: str = "cifar10",
                 progress: bool = True, seed: int = 0) -> dict[str, int]:
    """Measure many architectures into ``store`` (metric ``latency_ms``), resumably.

    Architectures already stored under the same :func:`measurement_key` are skipped;
    every new result is committed as soon as it is measured, so stopping loses at most
    the architecture in progress.

    Args:
        archs: Architectures to measure (duplicates are measured once).
        store: The run store.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: Images per forward pass.
        repeats: Timed passes per architecture.
        warmup: Untimed passes per architecture.
        threads: CPU threads during the measurement.
        dataset: Input size and class count.
        progress: Show a tqdm bar.
        seed: Seeds weights and inputs.

    Returns:
        ``{"measured": n_new, "skipped": n_already_stored, "total": n_distinct}``.
    """
    device = resolve_device(device)
    key = measurement_key(device, batch_size=batch_size, dataset=dataset)

    def measure(arch: Arch) -> tuple[float, float]:
        result = measure_latency(arch, device=device, batch_size=batch_size, repeats=repeats, warmup=warmup,
                                 threads=threads, dataset=dataset, seed=seed)
        return result.median_ms, result.spread_ms

    return sweep(archs, store, "latency_ms", key, measure, source=f"measured:{device}:repeats={repeats}:"
                 f"threads={threads}", progress=progress)


def sweep(archs: Sequence[Arch], store: RunStore, metric: str, key: str,
          measure: Callable[[Arch], tuple[float, float]], *, source: str, progress: bool = True) -> dict[str, int]:
    """Run ``measure`` on every architecture not yet stored as ``(metric, key)``, committing each.

    Args:
        archs: Architectures (duplicates are measured once).
        store: The run store.
        metric: Cost metric, e.g. ``latency_ms``.
        key: Device column of the costs table.
        measure: ``arch -> (value, spread)``.
        source: Label stored with each value.
        progress: Show a tqdm bar.

    Returns:
        ``{"measured": n_new, "skipped": n_already_stored, "total": n_distinct}``.
    """
    from tqdm import tqdm

    done = store.costs(metric, key)
    todo, seen = [], set()
    for arch in archs:
        if arch.code not in seen:
            seen.add(arch.code)
            if arch.code not in done:
                todo.append(arch)
    bar = tqdm(todo, desc=f"{metric} on {key}", unit="arch", disable=not progress)
    for arch in bar:
        value, spread = measure(arch)
        store.write_costs(metric, key, [arch], [value], [spread], source=source)
        bar.set_postfix(value=f"{value:.3g}")
    return {"measured": len(todo), "skipped": len(seen) - len(todo), "total": len(seen)}
