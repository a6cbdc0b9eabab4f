"""Scoring sub-networks with inherited weights (BatchNorm recalibrated), into the run store."""

from __future__ import annotations

import contextlib
import time
from typing import Iterable, Sequence

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from gcnas.data.images import ImageDataset, ImageSplit
from gcnas.data.store import RunStore, Sample
from gcnas.exceptions import InvalidInputError
from gcnas.space import Arch, NB201Space
from gcnas.supernet.checkpoint import TrainedSupernet
from gcnas.supernet.supernet import SuperNet

__all__ = ["ScoringBatches", "score_subnet", "sample_subnets", "derive", "evaluate"]

SOURCE = "supernet"


def _unwrap(supernet: SuperNet | TrainedSupernet) -> SuperNet:
    net = supernet.supernet if isinstance(supernet, TrainedSupernet) else supernet
    if not isinstance(net, SuperNet):
        raise InvalidInputError(f"expected a SuperNet or TrainedSupernet, got {type(net).__name__}")
    return net


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
def _recalibrate(net: SuperNet, arch: Arch, calibration: list[torch.Tensor]) -> None:
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


def score_subnet(supernet: SuperNet | TrainedSupernet, arch: Arch, data: ImageDataset | None = None, *,
                 bn_recalibrate: int = 4, batch_size: int = 256, split: str = "valid",
                 limit: int | None = None, device: torch.device | str | None = None,
                 batches: ScoringBatches | None = None) -> tuple[float, float]:
    """Accuracy of one sub-network with the supernet's weights.

    BatchNorm statistics are re-estimated on ``bn_recalibrate`` training batches (fixed
    order, not augmented, so a score does not depend on what was scored before), then
    restored. To score many cells, build :class:`ScoringBatches` once and pass ``batches``.

    Args:
        supernet: The trained supernet.
        arch: The sub-network.
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
    if not isinstance(arch, Arch):
        raise InvalidInputError(f"arch must be an Arch, got {type(arch).__name__}")
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


def sample_subnets(store: RunStore, supernet: SuperNet | TrainedSupernet, data: ImageDataset, *, num: int,
                   seed: int = 0, archs: Sequence[Arch] | None = None, bn_recalibrate: int = 4,
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
        progress: Show a tqdm bar.
        chunk: Architectures per store transaction.

    Returns:
        The samples of the requested architectures, in their order.
    """
    if archs is None:
        if num < 1:
            raise InvalidInputError(f"num must be positive, got {num}")
        archs = NB201Space().sample_many(num, seed, distinct=True, canonical=True)
    done = {s.arch: s for s in store.samples(SOURCE)}
    todo = [a for a in dict.fromkeys(archs) if a not in done]
    pending: list[Sample] = []
    batches = None
    if todo:
        batches = ScoringBatches(data, bn_recalibrate=bn_recalibrate, batch_size=batch_size, limit=limit,
                                 device=next(_unwrap(supernet).parameters()).device)
    for arch in tqdm(todo, desc="scoring sub-networks", disable=True if not progress else None, unit="arch"):
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


def derive(trained: TrainedSupernet) -> Arch:
    """The architecture a gradient strategy chose: the most probable op on each edge."""
    return trained.derive()
