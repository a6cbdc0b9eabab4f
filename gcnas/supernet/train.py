"""The supernet training loop: cosine LR, per-epoch atomic checkpoints, exact resume, DDP.

Run under ``torchrun --nproc_per_node K`` to train with DistributedDataParallel (gloo on
CPU, NCCL on CUDA): every process draws the same architectures, takes every K-th batch,
and rank 0 writes the checkpoint and history (and, on resume, reads the checkpoint and
sends it to the other ranks, so only rank 0's machine needs the run directory).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from gcnas.data.images import ImageDataset, load_images
from gcnas.data.store import RunStore, atomic_write
from gcnas.exceptions import GcnasError, InvalidInputError
from gcnas.progress import progress as show_progress
from gcnas.spaces import get_space
from gcnas.supernet.checkpoint import (TrainedSupernet, build_from_config, checkpoint_path, read_checkpoint,
                                       resolve_device, supernet_space, write_checkpoint)
from gcnas.supernet.strategies import RouteSpace, check_strategy

__all__ = ["train_supernet", "STRICT_KEYS", "supernet_class", "checkpoint_space", "run_routes", "load_run_supernet"]

STRICT_KEYS: tuple[str, ...] = ("dataset", "space", "channels", "cells", "num_classes", "strategy",
                                "strategy_kwargs", "epochs", "seed")
"""Config entries a resumed run must share with its checkpoint."""

_MISSING_MEANS = {"space": "nb201"}
"""What a config entry absent from an older checkpoint meant."""


def supernet_class(space: str) -> Callable[..., torch.nn.Module]:
    """The weight-sharing supernet class of the space named ``space`` (its ``supernet_class()``).

    Raises:
        InvalidInputError: An unknown space, or one without a supernet.

    Example:
        >>> supernet_class("darts").__name__
        'DartsSuperNet'
    """
    resolved = get_space(space)
    if not callable(getattr(resolved, "supernet_class", None)):
        raise InvalidInputError(f"the {space!r} space has no weight-sharing supernet: give its space class a "
                                "supernet_class() method returning one (see docs/spaces.md)")
    return resolved.supernet_class()


def checkpoint_space(run_dir: str | os.PathLike) -> str:
    """The space the supernet in ``run_dir`` was trained over (its checkpoint's ``config["space"]``)."""
    config = read_checkpoint(checkpoint_path(run_dir)).get("config", {})
    return config.get("space", _MISSING_MEANS["space"])


def run_routes(run_dir: str | os.PathLike) -> RouteSpace:
    """The ``routes`` (a :class:`~gcnas.supernet.strategies.RouteSpace`) of the supernet trained in
    ``run_dir``: its space's class built at the checkpoint's shape on the meta device, no weights
    allocated (the IMC supernet's routes know its ``cells``).

    Example:
        >>> run_routes("runs/imc").max_depth
        2
    """
    config = read_checkpoint(checkpoint_path(run_dir)).get("config", {})
    with torch.device("meta"):
        net = supernet_class(config.get("space", _MISSING_MEANS["space"]))(config["channels"], config["cells"],
                                                                         config["num_classes"])
    return net.routes


def load_run_supernet(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> TrainedSupernet:
    """The supernet trained in ``run_dir``, built with the class of the space it was trained over.

    Example:
        >>> load_run_supernet("runs/darts").config["space"]
        'darts'
    """
    from gcnas.supernet.checkpoint import load_supernet

    return load_supernet(run_dir, device=device, supernet=supernet_class(checkpoint_space(run_dir)))


def _distributed() -> tuple[int, int, bool]:
    """``(rank, world_size, created)``, initialising the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    created = not torch.distributed.is_initialized()
    if created:
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("GCNAS_DDP_BACKEND") != "gloo" else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return torch.distributed.get_rank(), torch.distributed.get_world_size(), created


def _rank0_checkpoint(path: Path, rank: int, world: int, device: torch.device) -> dict[str, Any] | None:
    """The checkpoint at ``path`` as rank 0 reads it, sent to every rank.

    Only rank 0 writes the run directory, so on several machines the other ranks may not
    see it; they all resume from rank 0's copy (or all raise its error together).
    """
    try:
        saved = read_checkpoint(path) if rank == 0 and path.exists() else None
    except GcnasError as error:
        if world == 1:
            raise
        saved = error
    if world > 1:
        box = [saved]
        nccl = torch.distributed.get_backend() == "nccl"  # its objects travel on this rank's own GPU
        torch.distributed.broadcast_object_list(box, src=0, device=device if nccl else None)
        saved = box[0]
    if isinstance(saved, GcnasError):
        raise saved
    return saved


def _check_resume(saved: dict[str, Any], config: dict[str, Any], run_dir: Path) -> None:
    for key in STRICT_KEYS:
        if saved.get(key, _MISSING_MEANS.get(key)) != config.get(key):
            raise InvalidInputError(
                f"the checkpoint in {str(run_dir)!r} was trained with {key}={saved.get(key)!r}, "
                f"not {config.get(key)!r}; "
                f"resume with the same settings or use another --run")


def _epoch_record(epoch: int, totals: torch.Tensor, seconds: float, lr: float, strategy, world: int) -> dict[str, Any]:
    loss_sum, correct, seen = (float(v) for v in totals)
    record: dict[str, Any] = {
        "epoch": epoch + 1, "loss": loss_sum / max(seen, 1), "accuracy": 100.0 * correct / max(seen, 1),
        "lr": lr, "seconds": seconds, "images_per_s": seen / max(seconds, 1e-9), "world_size": world,
        "entropy": strategy.entropy(), "max_weight": strategy.max_weight(),
    }
    if strategy.probabilities() is not None:
        record["derived"] = str(strategy.derive())
        record["weights"] = [[round(float(v), 6) for v in row] for row in strategy.probabilities().cpu()]
    if hasattr(strategy, "tau"):
        record["tau"] = strategy.tau
    return record


def train_supernet(run_dir: str | os.PathLike, *, dataset: str = "digits", data_root: str | None = None,
                   download: bool = False, image_size: int | None = None, strategy: str = "uniform",
                   channels: int = 16, cells: int = 5, supernet: Callable[..., torch.nn.Module] | None = None,
                   epochs: int = 10, batch_size: int = 64, lr: float = 0.025, momentum: float = 0.9,
                   weight_decay: float = 5e-4, seed: int = 0, device: str = "auto", resume: bool = False,
                   strategy_kwargs: dict[str, Any] | None = None, steps_per_epoch: int | None = None,
                   amp: bool | None = None, channels_last: bool | None = None, compile: bool = False,
                   data: ImageDataset | None = None, progress: bool = True,
                   callback: Callable[[dict[str, Any]], None] | None = None) -> TrainedSupernet:
    """Train a weight-sharing supernet, checkpointing every epoch into ``run_dir/supernet/``.

    Args:
        run_dir: The run directory (``supernet/checkpoint.pt``, ``supernet/history.json``).
        dataset: One of :data:`gcnas.data.images.DATASETS`.
        data_root: Folder of the dataset files (CIFAR, ImageNet16-120).
        download: Let torchvision download CIFAR.
        image_size: Side ``imagefolder`` images are resized to (default 32).
        strategy: ``uniform``, ``gaea``, ``darts``, ``snas`` or ``nasp``.
        channels: Channels of the first stage (``C``).
        cells: Cells per stage (``N``); for ``DartsSuperNet`` the cells in all (DARTS' ``layers``).
        supernet: The supernet class, built as ``supernet(channels, cells, num_classes)``:
            ``None`` is NAS-Bench-201's :class:`~gcnas.supernet.SuperNet`;
            ``gcnas.spaces.darts.supernet.DartsSuperNet`` trains over the DARTS space (both
            cell types), ``gcnas.spaces.imc.supernet.MacroSuperNet`` over the IMC macro space
            (``cells``: the most blocks per stage; ``uniform`` only). Its ``routes.name`` is
            recorded as ``config["space"]``.
        epochs: Epochs in total (a resumed run continues up to this).
        batch_size: Images per step and process.
        lr: Initial SGD learning rate of the network weights (cosine to 0).
        momentum: SGD momentum (Nesterov).
        weight_decay: SGD weight decay.
        seed: Seed of the initialisation, the data order and the strategy.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        resume: Continue from the checkpoint in ``run_dir`` (exactly, on CPU).
        strategy_kwargs: Extra keyword arguments of the strategy (``arch_lr``, ``bilevel``...).
        steps_per_epoch: Cap on the steps of an epoch (``None``: the whole train split).
        amp: bf16 autocast (default: on for CUDA).
        channels_last: Channels-last memory format (default on: faster on CPU and CUDA alike).
        compile: Wrap the supernet in ``torch.compile``.
        data: An already loaded dataset (its ``name`` must equal ``dataset``).
        progress: Show progress per epoch (a bar on a terminal, log lines elsewhere).
        callback: Called with each epoch's record after its checkpoint is written.

    Returns:
        The :class:`TrainedSupernet` (history of every epoch, including resumed ones).

    Example:
        >>> trained = train_supernet("runs/gaea", strategy="gaea", strategy_kwargs={"arch_lr": 3.0},
        ...                          channels=8, cells=1, epochs=3, batch_size=32)
        >>> [round(r["entropy"], 3) for r in trained.history]  # log 5 = 1.609 is uniform
        [1.341, 1.045, 1.102]
    """
    if epochs < 1:
        raise InvalidInputError(f"epochs must be positive, got {epochs}")
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be positive, got {batch_size}")
    build = supernet_class("nb201") if supernet is None else supernet
    space = supernet_space(build)
    check_strategy(strategy, build.routes)  # before any data is read or any run folder made
    run_dir = Path(run_dir)
    rank, world, created_group = _distributed()
    device_ = resolve_device(device)
    if device_.type == "cuda" and world > 1:
        device_ = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    amp = device_.type == "cuda" if amp is None else amp
    channels_last = True if channels_last is None else channels_last
    if data is None:
        data = load_images(dataset, root=data_root, download=download, image_size=image_size, progress=progress)
    elif data.name != dataset:
        raise InvalidInputError(f"data is {data.name!r} but dataset={dataset!r}")
    config = {"dataset": dataset, "data_root": None if data_root is None else str(data_root),
              "image_size": data.image_size, "space": space,
              "channels": channels, "cells": cells, "num_classes": data.num_classes,
              "strategy": strategy, "strategy_kwargs": dict(strategy_kwargs or {}), "epochs": epochs,
              "batch_size": batch_size, "lr": lr, "momentum": momentum, "weight_decay": weight_decay,
              "seed": seed, "steps_per_epoch": steps_per_epoch, "world_size": world}

    path = checkpoint_path(run_dir)
    saved = _rank0_checkpoint(path, rank, world, device_)
    if saved is not None and not resume:
        raise InvalidInputError(
            f"{str(run_dir)!r} already holds a supernet checkpoint ({saved['epoch']} of {saved['config']['epochs']} "
            "epochs); pass --resume to continue it, or choose another --run")
    if saved is not None:
        _check_resume(saved["config"], config, run_dir)
    if rank == 0:  # the run records its space; one of another space is refused before any training
        RunStore(run_dir, space=space).close()
    torch.manual_seed(seed)
    supernet, strat = build_from_config(config, supernet)
    optimizer = torch.optim.SGD(supernet.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                                nesterov=momentum > 0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=0.0)
    history: list[dict[str, Any]] = []
    start = 0
    if saved is not None:
        supernet.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        strat.load_state_dict(saved["strategy"])
        torch.set_rng_state(saved["rng"])
        history, start = list(saved["history"]), int(saved["epoch"])

    supernet.to(device_)
    strat.to(device_)
    if channels_last:
        supernet.to(memory_format=torch.channels_last)
    model: torch.nn.Module = supernet
    if world > 1:
        ids = [device_.index] if device_.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(supernet, device_ids=ids, find_unused_parameters=True)
    if compile:
        model = torch.compile(model)
    autocast = (lambda: torch.autocast(device_.type, dtype=torch.bfloat16)) if amp else None
    began = time.perf_counter()
    for epoch in range(start, epochs):
        strat.start_epoch(epoch, epochs)
        supernet.train()
        tick = time.perf_counter()
        totals = torch.zeros(3, dtype=torch.float64, device=device_)
        batches = data.train.batches(batch_size, shuffle=True, seed=seed * 1_000_003 + epoch, rank=rank,
                                     world_size=world, limit=steps_per_epoch)
        valid = (_cycle(data.valid, batch_size, seed * 1_000_003 + epoch + 500_000, rank, world)
                 if strat.needs_valid else None)
        bar = show_progress(batches, total=data.train.num_batches(batch_size, world, steps_per_epoch),
                            desc=f"{strategy} epoch {epoch + 1}/{epochs}", enabled=progress and rank == 0,
                            leave=False, unit="batch")
        try:
            for x, y in bar:
                x, y = _to(x, device_, channels_last), y.to(device_, non_blocking=True)
                v = next(valid) if valid is not None else None
                if v is not None:
                    v = (_to(v[0], device_, channels_last), v[1].to(device_, non_blocking=True))
                loss, logits = strat.train_step(model, x, y, optimizer, valid=v, autocast=autocast)
                totals += torch.stack([loss.double() * len(y), (logits.argmax(1) == y).sum().double(),
                                       torch.tensor(float(len(y)), dtype=torch.float64, device=device_)])
                if progress and rank == 0 and bar.n % 5 == 0:
                    seconds = time.perf_counter() - tick
                    bar.set_postfix(loss=f"{float(totals[0] / totals[2]):.3f}",
                                    acc=f"{100 * float(totals[1] / totals[2]):.1f}",
                                    img_s=f"{float(totals[2]) * world / max(seconds, 1e-9):.0f}")
        except (torch.OutOfMemoryError, RuntimeError) as error:
            if not isinstance(error, torch.OutOfMemoryError) and "allocate" not in str(error):
                raise
            raise InvalidInputError(
                f"batch size {batch_size} does not fit in {device_} memory; lower --batch-size and rerun with "
                f"--resume (the checkpoint of epoch {epoch} is kept)") from None
        finally:
            bar.close()
        if world > 1:
            torch.distributed.all_reduce(totals)
        lr_now = optimizer.param_groups[0]["lr"]
        scheduler.step()
        record = _epoch_record(epoch, totals.cpu(), time.perf_counter() - tick, lr_now, strat, world)
        history.append(record)
        if rank == 0:
            state = {"config": config, "epoch": epoch + 1, "model": supernet.state_dict(),
                     "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                     "strategy": strat.state_dict(), "rng": torch.get_rng_state(), "history": history}
            write_checkpoint(path, state)
            atomic_write(path.parent / "history.json", json.dumps({"config": config, "epochs": history}, indent=1))
            if progress:
                print(_summary(record, epochs), file=sys.stderr, flush=True)
        if callback is not None:
            callback(record)
    if rank == 0:
        with RunStore(run_dir, space=space) as store:
            store.finish_stage("supernet:train", {**config, "final": history[-1] if history else None},
                               time.perf_counter() - began)
    if world > 1 and created_group:
        torch.distributed.destroy_process_group()
    supernet.eval()
    return TrainedSupernet(supernet, strat, history, config)


def _summary(record: dict[str, Any], epochs: int) -> str:
    text = (f"epoch {record['epoch']}/{epochs}  loss {record['loss']:.4f}  acc {record['accuracy']:.2f}%  "
            f"{record['images_per_s']:.0f} img/s  {record['seconds']:.1f}s")
    if record.get("entropy") is not None:
        text += f"  entropy {record['entropy']:.3f}/{math.log(len(record['weights'][0])):.3f}"
    return text


def _to(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def _cycle(split, batch_size: int, seed: int, rank: int, world: int):
    """Validation batches without end (a new permutation each pass)."""
    for lap in range(1_000_000):
        yielded = False
        for batch in split.batches(batch_size, shuffle=True, seed=seed + lap, rank=rank, world_size=world):
            yielded = True
            yield batch
        if not yielded:
            raise InvalidInputError("the validation split is empty")


