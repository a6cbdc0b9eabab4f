"""Scoring sub-networks with inherited weights (BatchNorm recalibrated), into the run store.

The supernet may be of any space whose supernet takes an architecture as its route
(NAS-Bench-201's :class:`~gcnas.supernet.SuperNet`, ``gcnas.spaces.darts.supernet.DartsSuperNet``):
the cells drawn and stored are the run store's space's (``store.space``).

:func:`sample_subnets` scores in this process; :func:`sample_subnets_sharded` hands chunks of
cells to the workers of a :class:`gcnas.parallel.Executor` (local processes, or Ray on
several machines), each of which loads the checkpoint and the images once, while the
caller alone writes the run store.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from gcnas.data.images import ImageDataset, ImageSplit, load_images
from gcnas.data.store import RunStore, Sample
from gcnas.exceptions import GcnasError, InvalidInputError
from gcnas.progress import progress as show_progress
from gcnas.spaces.registry import get_space
from gcnas.supernet.checkpoint import TrainedSupernet, checkpoint_path, load_supernet

if TYPE_CHECKING:
    from gcnas.parallel import Executor

__all__ = ["ScoringBatches", "ScoringSource", "score_subnet", "sample_subnets", "sample_subnets_sharded",
           "scoring_data", "run_in_order", "derive", "evaluate", "sample_distinct"]

SOURCE = "supernet"
T = TypeVar("T")


def _unwrap(supernet: torch.nn.Module | TrainedSupernet) -> torch.nn.Module:
    net = supernet.supernet if isinstance(supernet, TrainedSupernet) else supernet
    if not isinstance(net, torch.nn.Module) or not hasattr(type(net), "routes"):
        raise InvalidInputError(f"expected a supernet (SuperNet, DartsSuperNet) or TrainedSupernet, "
                                f"got {type(net).__name__}")
    return net


def sample_distinct(space, num: int, seed: int | np.random.Generator | None = 0, *,
                    draw: Callable[[np.random.Generator], object] | None = None) -> list:
    """``num`` distinct canonical architectures of ``space``, drawn uniformly.

    A space that can be listed (``space.size()`` not None) is drawn without replacement from
    its canonical members in :meth:`enumerate` order, so NAS-Bench-201 gives the cells it
    always gave (``sample_many(num, seed, canonical=True)``); one that cannot, or a ``draw``
    given, is sampled until ``num`` distinct keys (``space.key``) came up.

    Args:
        space: A :class:`~gcnas.spaces.SearchSpace`.
        num: How many.
        seed: Seed or NumPy generator.
        draw: Draws one architecture instead of ``space.sample``: a supernet that runs only
            part of its space draws from that part (``routes.sample_arch``; the IMC supernet's
            stages are at most ``cells`` blocks deep).

    Returns:
        The architectures, in the order drawn.

    Raises:
        InvalidInputError: ``num`` below 1, or more than the space holds.

    Example:
        >>> from gcnas.spaces import get_space
        >>> len(sample_distinct(get_space("darts"), 5, seed=0))
        5
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise InvalidInputError(f"the number of architectures must be a positive int, got {num!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if space.size() is not None and draw is None:
        pool = [a for a in space.enumerate() if space.canonical(a) == a]
        if num > len(pool):
            raise InvalidInputError(f"cannot draw {num} distinct architectures: the {space.name} space holds "
                                    f"{len(pool)} canonical ones")
        return [pool[int(i)] for i in rng.choice(len(pool), size=int(num), replace=False)]
    drawn: dict[str, object] = {}
    for _ in range(100 * int(num) + 1000):  # a huge space repeats itself almost never
        arch = space.canonical((draw or space.sample)(rng))
        drawn.setdefault(space.key(arch), arch)
        if len(drawn) == num:
            return list(drawn.values())
    raise InvalidInputError(f"drew only {len(drawn)} distinct architectures of the {space.name} space in "
                            f"{100 * int(num) + 1000} draws; ask for fewer")


@torch.no_grad()
def evaluate(model: torch.nn.Module, split: ImageSplit, *, route=None, batch_size: int = 256,
             limit: int | None = None, device: torch.device | str = "cpu") -> tuple[float, float]:
    """Accuracy (%) and mean cross-entropy of ``model`` on ``split`` (eval mode).

    Args:
        model: A network; called as ``model(x)`` or, when ``route`` is given, ``model(x, route)``.
        split: The images.
        route: An ``Arch`` or op-weight tensor for a :class:`SuperNet`.
        batch_size: Images per forward pass.
        limit: Use only the first ``limit`` batches.
        device: Where the model lives.

    Returns:
        ``(accuracy_percent, loss)``.
    """
    batches = ((x.to(device), y.to(device)) for x, y in split.batches(batch_size, limit=limit))
    return _accuracy(model, route, batches)


def _bn_layers(net: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


class ScoringBatches:
    """The images every sub-network is scored on, normalised once and reused for all of them.

    Args:
        data: The dataset the supernet was trained on.
        bn_recalibrate: Training batches (not augmented) for BatchNorm statistics.
        batch_size: Images per forward pass.
        split: ``valid`` or ``test``: the images scored.
        limit: Scored batches (``None``: the whole split).
        device: Where the batches are kept.
    """

    def __init__(self, data: ImageDataset, *, bn_recalibrate: int = 4, batch_size: int = 256, split: str = "valid",
                 limit: int | None = None, device: torch.device | str = "cpu") -> None:
        if split not in ("valid", "test"):
            raise InvalidInputError(f"split must be 'valid' or 'test', got {split!r}")
        if bn_recalibrate < 0:
            raise InvalidInputError(f"bn_recalibrate must be >= 0, got {bn_recalibrate}")
        self.bn_recalibrate = bn_recalibrate
        def move(x: torch.Tensor) -> torch.Tensor:
            return x.to(device).contiguous(memory_format=torch.channels_last)

        self.calibration = [move(x) for x, _ in data.train.batches(batch_size, limit=bn_recalibrate,
                                                                   augment=False)] if bn_recalibrate else []
        self.scored = [(move(x), y.to(device)) for x, y in getattr(data, split).batches(batch_size, limit=limit)]


@torch.no_grad()
def _recalibrate(net: torch.nn.Module, arch, calibration: list[torch.Tensor]) -> None:
    layers = _bn_layers(net)
    for bn in layers:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    net.train()
    for x in calibration:
        net(x, arch)
    net.eval()


@torch.no_grad()
def _accuracy(net: torch.nn.Module, route, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    """Accuracy (%) and mean cross-entropy of ``net`` (eval mode) over ``(x, y)`` batches."""
    net.eval()
    correct, loss_sum, seen = 0, 0.0, 0
    for x, y in batches:
        logits = net(x) if route is None else net(x, route)
        loss_sum += float(F.cross_entropy(logits.float(), y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    return 100.0 * correct / max(seen, 1), loss_sum / max(seen, 1)


def score_subnet(supernet: torch.nn.Module | TrainedSupernet, arch, data: ImageDataset | None = None, *,
                 bn_recalibrate: int = 4, batch_size: int = 256, split: str = "valid",
                 limit: int | None = None, device: torch.device | str | None = None,
                 batches: ScoringBatches | None = None) -> tuple[float, float]:
    """Accuracy of one sub-network with the supernet's weights.

    BatchNorm statistics are re-estimated on ``bn_recalibrate`` training batches (fixed
    order, not augmented, so a score does not depend on what was scored before), then
    restored. To score many cells, build :class:`ScoringBatches` once and pass ``batches``.

    Args:
        supernet: The trained supernet.
        arch: The sub-network: an architecture of the supernet's space (an ``Arch``, a ``Genotype``).
        data: The dataset it was trained on.
        bn_recalibrate: Training batches for BatchNorm statistics (0: keep the trained ones).
        batch_size: Images per forward pass.
        split: ``valid`` (default) or ``test``.
        limit: Score on the first ``limit`` batches only.
        device: Defaults to where the supernet's weights are.
        batches: Prepared images (then ``data``, ``bn_recalibrate``, ``batch_size``, ``split``
            and ``limit`` are taken from them).

    Returns:
        ``(accuracy_percent, loss)``.

    Example:
        >>> accuracy, loss = score_subnet(load_supernet("runs/demo"), arch, load_images("digits"))
    """
    net = _unwrap(supernet)
    kind = _arch_type(type(net).routes.name)
    if not isinstance(arch, kind):
        raise InvalidInputError(f"arch must be an {kind.__name__} (an architecture of the supernet's "
                                f"{type(net).routes.name!r} space), got {type(arch).__name__}")
    device = device or next(net.parameters()).device
    if batches is None:
        if data is None:
            raise InvalidInputError("score_subnet needs the dataset (data=) or prepared batches (batches=)")
        batches = ScoringBatches(data, bn_recalibrate=bn_recalibrate, batch_size=batch_size, split=split,
                                 limit=limit, device=device)
    layers = _bn_layers(net)
    saved = [(bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone(), bn.momentum)
             for bn in layers]
    device = torch.device(device)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())  # bf16 on GPUs, as in training
    try:
        with autocast:
            if batches.calibration:
                _recalibrate(net, arch, batches.calibration)
            return _accuracy(net, arch, batches.scored)
    finally:
        for bn, (mean, var, count, momentum) in zip(layers, saved):
            bn.running_mean.copy_(mean), bn.running_var.copy_(var), bn.num_batches_tracked.copy_(count)
            bn.momentum = momentum


@functools.lru_cache(maxsize=None)
def _arch_type(space: str) -> type:
    """The architecture type of the space named ``space``."""
    return type(get_space(space).sample(0))


def _check_space(store: RunStore, supernet: torch.nn.Module | TrainedSupernet) -> None:
    """Refuse to store the scores of a supernet of one space in a run of another."""
    name = type(_unwrap(supernet)).routes.name
    if store.space_name != name:
        raise InvalidInputError(f"the supernet is over the {name!r} space but run {str(store.run_dir)!r} holds "
                                f"{store.space_name!r} architectures; score it into a run of its own space")


def _plan(store: RunStore, num: int, seed: int, archs: Sequence | None, routes) -> tuple[list, dict, list]:
    """``(archs, done, todo)``: the cells asked for, those the store holds, those left to score; the
    cells are drawn as the supernet's ``routes`` draw them, where they offer ``sample_arch``."""
    if archs is None:
        if num < 1:
            raise InvalidInputError(f"num must be positive, got {num}")
        archs = sample_distinct(store.space, num, seed, draw=getattr(routes, "sample_arch", None))
    archs = list(archs)
    done = {s.arch: s for s in store.samples(SOURCE)}
    return archs, done, [a for a in dict.fromkeys(archs) if a not in done]


def sample_subnets(store: RunStore, supernet: torch.nn.Module | TrainedSupernet, data: ImageDataset, *, num: int,
                   seed: int = 0, archs: Sequence | None = None, bn_recalibrate: int = 4,
                   batch_size: int = 256, limit: int | None = None, progress: bool = True,
                   chunk: int = 8) -> list[Sample]:
    """Score ``num`` distinct canonical sub-networks and write them to ``store`` (source ``supernet``).

    Resumable: architectures already in the store's ``supernet`` samples are not scored
    again, and results are written every ``chunk`` architectures.

    Args:
        store: The run store.
        supernet: The trained supernet.
        data: The dataset it was trained on.
        num: How many architectures (ignored when ``archs`` is given).
        seed: Seed of the architecture draw (distinct canonical cells).
        archs: Score these instead of drawing.
        bn_recalibrate: Training batches for BatchNorm recalibration per architecture.
        batch_size: Images per forward pass.
        limit: Validation batches per architecture (``None``: the whole split).
        progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
        chunk: Architectures per store transaction.

    Returns:
        The samples of the requested architectures, in their order.
    """
    _check_space(store, supernet)
    archs, done, todo = _plan(store, num, seed, archs, _unwrap(supernet).routes)
    pending: list[Sample] = []
    batches = None
    if todo:
        batches = ScoringBatches(data, bn_recalibrate=bn_recalibrate, batch_size=batch_size, limit=limit,
                                 device=next(_unwrap(supernet).parameters()).device)
    for arch in show_progress(todo, desc="scoring sub-networks", unit="arch", enabled=progress):
        tick = time.perf_counter()
        accuracy, loss = score_subnet(supernet, arch, batches=batches)
        pending.append(Sample(arch, accuracy, loss, {"bn_recalibrate": bn_recalibrate, "split": "valid",
                                                     "seconds": round(time.perf_counter() - tick, 4)}))
        if len(pending) >= chunk:
            store.add_samples(SOURCE, pending)
            done.update((s.arch, s) for s in pending)
            pending = []
    if pending:
        store.add_samples(SOURCE, pending)
        done.update((s.arch, s) for s in pending)
    return [done[a] for a in archs]


# -- sharded scoring ---------------------------------------------------------------------------

def scoring_data(trained: TrainedSupernet, data_root: str | os.PathLike | None = None, *,
                 progress: bool = True) -> ImageDataset:
    """The dataset ``trained`` was trained on, loaded as its checkpoint's config says.

    Args:
        trained: The loaded supernet (its ``config`` names the dataset, root and image size).
        data_root: Folder of the dataset files, instead of the one it was trained from.
        progress: Show a progress bar while an image folder is decoded.

    Returns:
        The :class:`~gcnas.data.images.ImageDataset`.
    """
    config = trained.config
    return load_images(config["dataset"], root=data_root or config.get("data_root"),
                       image_size=config.get("image_size"), progress=progress)


@dataclass(frozen=True)
class ScoringSource:
    """What a scoring worker loads, once per process, and how it scores.

    Every worker reads the checkpoint and the dataset itself, so with Ray on several
    machines ``run_dir`` (its ``supernet/checkpoint.pt``) and the dataset must be at these
    paths on every machine; the run store is written by the caller only.

    Args:
        run_dir: The run directory of the trained supernet.
        data_root: Folder of the dataset files (default: the one it was trained from).
        device: Where each worker puts the supernet (``cpu``, ``cuda``, ``cuda:N``, ``auto``).
        bn_recalibrate: Training batches for BatchNorm recalibration per architecture.
        batch_size: Images per forward pass.
        limit: Validation batches per architecture (``None``: the whole split).

    Example:
        >>> source = ScoringSource("runs/demo", bn_recalibrate=4, limit=2)
    """

    run_dir: str
    data_root: str | None = None
    device: str = "cpu"
    bn_recalibrate: int = 4
    batch_size: int = 256
    limit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_dir", str(self.run_dir))
        if self.data_root is not None:
            object.__setattr__(self, "data_root", str(self.data_root))
        for name, low in (("bn_recalibrate", 0), ("batch_size", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInputError(f"{name} must be an int >= {low}, got {value!r}")
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int)
                                       or self.limit < 1):
            raise InvalidInputError(f"limit must be a positive int or None, got {self.limit!r}")


_LOADED: dict[tuple, tuple[TrainedSupernet, ScoringBatches]] = {}
"""In a worker process: the supernet and images of the source it serves (one at a time)."""


def _loaded(source: ScoringSource) -> tuple[TrainedSupernet, ScoringBatches]:
    """The source's supernet and prepared images, loaded on this worker's first chunk only."""
    path = checkpoint_path(source.run_dir)
    stat = path.stat() if path.exists() else None
    key = (source, None if stat is None else (stat.st_mtime_ns, stat.st_size))  # a retrained checkpoint reloads
    if key not in _LOADED:
        _LOADED.clear()
        from gcnas.supernet.train import checkpoint_space, supernet_class

        trained = load_supernet(source.run_dir, device=source.device,
                                supernet=supernet_class(checkpoint_space(source.run_dir)))
        data = scoring_data(trained, source.data_root, progress=False)
        batches = ScoringBatches(data, bn_recalibrate=source.bn_recalibrate, batch_size=source.batch_size,
                                 limit=source.limit, device=next(trained.supernet.parameters()).device)
        _LOADED[key] = trained, batches
    return _LOADED[key]


def _score_chunk(source: ScoringSource, texts: list[str]) -> list[Sample]:
    """A worker's task: score the cells written in ``texts`` (``space.format``; each sample names the worker)."""
    from gcnas.parallel import current_worker

    trained, batches = _loaded(source)
    space = get_space(type(trained.supernet).routes.name)
    worker, samples = current_worker(), []
    for text in texts:
        arch, tick = space.parse(text), time.perf_counter()
        accuracy, loss = score_subnet(trained, arch, batches=batches)
        samples.append(Sample(arch, accuracy, loss, {"bn_recalibrate": source.bn_recalibrate, "split": "valid",
                                                     "seconds": round(time.perf_counter() - tick, 4),
                                                     "worker": worker}))
    return samples


def run_in_order(executor: Executor, fn: Callable[..., T], tasks: Sequence[tuple],
                 write: Callable[[int, T], None], *, window: int | None = None,
                 salvage: Callable[[list[tuple[int, T]]], None] | None = None) -> None:
    """Run ``fn(*task)`` for every task on ``executor`` and ``write`` the results in task order.

    Each result is written as soon as it and every result before it are back, so what is
    written is always a prefix of the tasks, whatever order the workers finish in. At most
    ``window`` tasks are out (submitted and not yet written) at once. When a task raises, a
    worker is lost, ``write`` raises or the caller is interrupted, the tasks not started are
    cancelled, the results already back are handed to ``salvage`` (default: ``write``
    each, out of order) so that no finished work is lost, and the error is raised.

    Args:
        executor: The workers (:func:`gcnas.parallel.make_executor`).
        fn: A module-level function (it is pickled to the workers).
        tasks: The arguments of each call.
        write: ``(task_index, result)``, called here, in task order.
        window: Tasks out at once (default ``2 * executor.workers``: every worker busy and
            one task queued for each).
        salvage: Called once with ``[(task_index, result), ...]`` on the way out of an error.

    Example:
        >>> with make_executor("process", workers=2) as executor:
        ...     run_in_order(executor, pow, [(2, k) for k in range(5)], lambda i, r: print(i, r))
        0 1
        1 2
        ...
    """
    window = 2 * executor.workers if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise InvalidInputError(f"window must be a positive int, got {window!r}")
    out: dict[int, Future[T]] = {}
    back: dict[int, T] = {}
    written = submitted = 0
    try:
        while written < len(tasks):
            while submitted < len(tasks) and submitted - written < window:
                out[submitted] = executor.submit(fn, *tasks[submitted])
                submitted += 1
            wait(out.values(), return_when=FIRST_COMPLETED)
            for index in sorted(i for i, future in out.items() if future.done()):
                back[index] = out.pop(index).result()
            while written in back:
                result = back.pop(written)
                written += 1
                write(written - 1, result)
    except BaseException:
        for future in out.values():
            future.cancel()
        for index, future in sorted(out.items()):
            if future.done() and not future.cancelled() and future.exception() is None:
                back[index] = future.result()
        if back:
            leftovers = sorted(back.items())
            if salvage is not None:
                salvage(leftovers)
            else:
                for index, result in leftovers:
                    write(index, result)
        raise


def sample_subnets_sharded(store: RunStore, source: ScoringSource, executor: Executor, *, num: int,
                           seed: int = 0, archs: Sequence | None = None, chunk: int = 4,
                           progress: bool = True, callback: Callable[[list[Sample]], None] | None = None
                           ) -> list[Sample]:
    """:func:`sample_subnets` on the workers of ``executor``, the store written here.

    The cells not yet in the store are cut into chunks of ``chunk``; each worker loads the
    checkpoint and the images once (on its first chunk) and scores its chunks exactly as
    :func:`sample_subnets` would (same calibration batches, same BatchNorm recalibration),
    so the scores equal the sequential ones. Chunks are written to the store in the order
    of the cells, each as soon as it and every chunk before it are back
    (:func:`run_in_order`, at most ``2 * executor.workers`` chunks out): the store then
    holds the sequential run's rows in the sequential order, and a kill loses only the
    chunks out. A rerun scores what is missing. When a worker fails (or on Ctrl-C), every
    chunk already back is written first, then the error is raised.

    Args:
        store: The run store (written by this process only).
        source: What the workers load and how they score.
        executor: The workers (:func:`gcnas.parallel.make_executor`).
        num: How many architectures (ignored when ``archs`` is given).
        seed: Seed of the architecture draw (distinct canonical cells).
        archs: Score these instead of drawing.
        chunk: Cells per task (small chunks balance the work and fill the store steadily).
        progress: Show progress (:func:`gcnas.progress.progress`: a bar on a terminal, log lines elsewhere).
        callback: Called with each chunk's samples after they are written in order.

    Returns:
        The samples of the requested architectures, in their order.

    Example:
        >>> from gcnas.parallel import make_executor
        >>> with RunStore("runs/demo") as store, make_executor("process", workers=4) as executor:
        ...     samples = sample_subnets_sharded(store, ScoringSource("runs/demo"), executor, num=200)
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InvalidInputError(f"chunk must be a positive int (cells per task), got {chunk!r}")
    if not isinstance(source, ScoringSource):
        raise InvalidInputError(f"source must be a ScoringSource, got {type(source).__name__}")
    from gcnas.supernet.train import run_routes

    routes = run_routes(source.run_dir)
    if routes.name != store.space_name:  # refused before any worker starts
        raise InvalidInputError(f"the supernet of {source.run_dir!r} is over the {routes.name!r} space but run "
                                f"{str(store.run_dir)!r} holds {store.space_name!r} architectures; score it into a "
                                "run of its own space")
    archs, done, todo = _plan(store, num, seed, archs, routes)
    tasks = [(source, [store.space.format(a) for a in todo[i:i + chunk]]) for i in range(0, len(todo), chunk)]
    bar = show_progress(total=len(todo), desc=f"scoring sub-networks ({executor.workers} {executor.kind} workers)",
                        unit="arch", enabled=progress)

    def keep(samples: list[Sample]) -> None:
        store.add_samples(SOURCE, samples)
        done.update((s.arch, s) for s in samples)
        bar.update(len(samples))

    def write(index: int, samples: list[Sample]) -> None:
        keep(samples)
        if callback is not None:
            callback(samples)

    try:
        run_in_order(executor, _score_chunk, tasks, write,
                     salvage=lambda leftovers: keep([s for _, samples in leftovers for s in samples]))
    except Exception as error:
        if not isinstance(error, GcnasError):
            error.add_note(f"{len(done)} cells are in the run store's supernet samples; rerun the same command "
                           "to score the rest")
        raise
    finally:
        bar.close()
    return [done[a] for a in archs]


def derive(trained: TrainedSupernet):
    """The architecture a gradient strategy chose: the most probable op on each edge."""
    return trained.derive()
