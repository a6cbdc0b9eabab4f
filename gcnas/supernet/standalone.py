"""Training one architecture from scratch: the ground truth the supernet's scores approximate,
and the network a user ships.

:func:`train_standalone` trains and tests one cell's network and returns its figures.
:func:`train_model` does the same inside a run directory and keeps the result: the weights
in ``RUN/models/<code>.pt`` and, after every finished epoch, the whole training state in
``RUN/models/<code>.partial.pt``, so a killed run resumes from its last finished epoch and
ends exactly where an uninterrupted run would (on CPU). :func:`load_model` reads a model
file back.
"""

from __future__ import annotations

import io
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from gcnas.data.images import DATASETS, ImageDataset, load_images
from gcnas.data.store import atomic_write
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.progress import progress as show_progress
from gcnas.supernet.checkpoint import resolve_device
from gcnas.spaces import DEFAULT_SPACE, decision_index, given_shape, resolve_space, space_name
from gcnas.supernet.score import evaluate

__all__ = ["TrainedModel", "train_standalone", "train_model", "load_model", "model_path", "partial_path",
           "STRICT_SETTINGS"]

MODEL_FORMAT = "gcnas-model"
PARTIAL_FORMAT = "gcnas-model-partial"
VERSION = 1

STRICT_SETTINGS: tuple[str, ...] = ("dataset", "image_size", "num_classes", "channels", "cells", "epochs",
                                    "batch_size", "lr", "weight_decay", "seed", "steps_per_epoch")
"""Settings a kept model (finished or partial) must share with a new request to be reused."""

EpochCallback = Callable[[dict[str, Any]], None]


def _code(space: Any, arch: Any) -> int:
    return decision_index(space, arch)


def _check_cell(space: Any, arch: Any) -> None:
    try:
        space.format(arch)
    except (AttributeError, TypeError, ValueError):
        name = space_name(space)
        raise InvalidInputError(f"arch must be a {name} architecture, got {type(arch).__name__} {arch!r}; "
                                f"read one with get_space({name!r}).parse(text)") from None


def _network(space: Any, arch: Any, settings: dict[str, Any], num_classes: int) -> torch.nn.Module:
    """``space.network`` at the recorded shape; ``cells`` is passed only where it is set, so a
    space whose depth is part of the architecture (the IMC macro space) takes ``cells=None``."""
    return space.network(arch, **given_shape(channels=settings["channels"], cells=settings.get("cells"),
                                             num_classes=num_classes))

@dataclass
class TrainedModel:
    """The standalone network of one architecture with what it was trained with.

    Attributes:
        arch: The architecture.
        network: Its network (``space.network``), in eval mode.
        settings: ``dataset``, ``data_root``, ``image_size``, ``num_classes``, ``channels``,
            ``cells``, ``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``seed``,
            ``steps_per_epoch``.
        history: One record per finished epoch (``epoch``, ``train_loss``,
            ``train_accuracy``, ``lr``, ``seconds``); empty for an untrained network.
        result: What :func:`train_standalone` returns (valid and test accuracy, params ...);
            empty for an untrained network.
        preprocessing: What the network's input must be: ``image_size`` and the per-channel
            ``mean`` and ``std`` that images scaled to [0, 1] are normalised with (``None``
            when unknown, as for an untrained network).
        path: The file it was read from or written to (``None``: in memory only).
        epochs_run: Epochs trained by the call that returned it (0: read from a finished file).
        space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).
    """

    arch: Any
    network: torch.nn.Module
    settings: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    epochs_run: int = 0
    space: Any = None

    def __post_init__(self) -> None:
        self.space = resolve_space(self.space)

    @property
    def trained(self) -> bool:
        """Whether the weights were trained (``False``: as initialised)."""
        return bool(self.history)

    @classmethod
    def initialised(cls, arch: Any, *, channels: int = 16, cells: int | None = 5, num_classes: int = 10,
                    image_size: int = 32, seed: int = 0, space: Any = None) -> TrainedModel:
        """The network of ``arch`` as initialised with ``seed``, untrained.

        Args:
            arch: The architecture.
            channels: Channels of the first stage.
            cells: Cells per stage (None for a space whose depth is part of the architecture).
            num_classes: Classifier outputs.
            image_size: Side of the input images (recorded; the network takes any size).
            seed: Seed of the initialisation (the same seed gives the same weights).
            space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).

        Returns:
            A model with empty history and result and unknown normalisation.
        """
        space = resolve_space(space)
        torch.manual_seed(seed)
        settings = {"channels": channels, "cells": cells, "num_classes": num_classes, "image_size": image_size,
                    "seed": seed}
        network = _network(space, arch, settings, num_classes).eval()
        return cls(arch, network, settings, preprocessing={"image_size": image_size, "mean": None, "std": None},
                   space=space)

    def state(self) -> dict[str, Any]:
        """The content of its model file (CPU tensors and plain values; ``torch.load(weights_only=True)``)."""
        return {"format": MODEL_FORMAT, "version": VERSION, "space": space_name(self.space),
                "arch": self.space.format(self.arch), "code": _code(self.space, self.arch),
                "settings": dict(self.settings), "history": list(self.history), "result": dict(self.result),
                "preprocessing": dict(self.preprocessing),
                "state_dict": {k: v.detach().cpu() for k, v in self.network.state_dict().items()}}

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`state` to ``path`` atomically; :func:`load_model` reads it back."""
        _write(Path(path), self.state())
        return Path(path)


def model_path(run_dir: str | os.PathLike, arch: Any, space: Any = None) -> Path:
    """``run_dir/models/<code>.pt``: where :func:`train_model` keeps the weights of ``arch``
    (``code``: :func:`gcnas.spaces.decision_index` in ``space``, None is ``DEFAULT_SPACE``)."""
    return Path(run_dir) / "models" / f"{_code(resolve_space(space), arch)}.pt"


def partial_path(run_dir: str | os.PathLike, arch: Any, space: Any = None) -> Path:
    """``run_dir/models/<code>.partial.pt``: the unfinished training of ``arch``, after its last epoch."""
    return Path(run_dir) / "models" / f"{_code(resolve_space(space), arch)}.partial.pt"


def _write(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write(path, buffer.getvalue())


def _read(path: Path, fmt: str) -> dict[str, Any]:
    """A model or partial file, checked for its format."""
    if not path.is_file():
        raise DataNotFoundError(f"no model file at {str(path)!r}; train one with `gcnas train ARCH --run RUN` "
                                "(it writes RUN/models/<code>.pt)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for damaged or foreign files
        raise CorruptFileError(f"{str(path)!r} is not a readable model file ({type(error).__name__}); "
                               "pass a RUN/models/<code>.pt written by `gcnas train`") from None
    found = state.get("format") if isinstance(state, dict) else None
    if found == PARTIAL_FORMAT and fmt == MODEL_FORMAT:
        raise InvalidInputError(f"{str(path)!r} is an unfinished training (epoch {state.get('epoch')} of "
                                f"{state.get('settings', {}).get('epochs')}); rerun the same `gcnas train` to "
                                "finish it, then use RUN/models/<code>.pt")
    if found != fmt:
        raise CorruptFileError(f"{str(path)!r} is not a gcnas model file (format {found!r}, expected {fmt!r}); "
                               "pass a RUN/models/<code>.pt written by `gcnas train`")
    return state


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> TrainedModel:
    """A model file written by :func:`train_model` (or :meth:`TrainedModel.save`), ready to run.

    Args:
        path: ``RUN/models/<code>.pt`` or an exported ``pt`` file.
        device: Where to put the weights.

    Returns:
        The :class:`TrainedModel`, network in eval mode.

    Raises:
        DataNotFoundError: No file at ``path``.
        InvalidInputError: ``path`` is an unfinished training.
        CorruptFileError: The file is not a gcnas model file or its weights do not fit its arch.

    Example:
        >>> model = load_model("runs/x/models/11668.pt")
        >>> model.result["arch"], round(model.result["test_accuracy"], 2)
        (11668, 98.88)
    """
    path = Path(path)
    state = _read(path, MODEL_FORMAT)
    try:
        space = resolve_space(state.get("space", DEFAULT_SPACE))  # files before the space was recorded: NB201
        arch = space.parse(state["arch"])
        settings = dict(state["settings"])
        network = _network(space, arch, settings, settings["num_classes"])
        network.load_state_dict(state["state_dict"])
    except (KeyError, ValueError, TypeError, RuntimeError) as error:
        raise CorruptFileError(f"model file {str(path)!r} is damaged or its weights do not fit its arch "
                               f"({type(error).__name__}: {str(error)[:200]})") from None
    return TrainedModel(arch, network.to(resolve_device(device)).eval(), settings, list(state.get("history", [])),
                        dict(state.get("result", {})), dict(state.get("preprocessing", {})), path, space=space)


def _differences(saved: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    return [f"{key}={saved.get(key)!r} (asked {settings.get(key)!r})"
            for key in STRICT_SETTINGS if saved.get(key) != settings.get(key)]


def _resume(space: Any, partial: Path, arch: Any, settings: dict[str, Any], net: torch.nn.Module,
            optimizer: torch.optim.Optimizer, scheduler) -> tuple[list[dict[str, Any]], int]:
    """Load the training state of ``partial`` into the given objects; ``(history, epochs done)``."""
    saved = _read(partial, PARTIAL_FORMAT)
    differ = _differences(saved.get("settings", {}), settings)
    if saved.get("arch") != space.format(arch) or differ:
        raise InvalidInputError(
            f"{str(partial)!r} holds an unfinished training with other settings ({', '.join(differ) or 'arch'}); "
            "rerun with those settings to resume it, or delete the file to start anew")
    net.load_state_dict(saved["state_dict"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])  # nothing in the loop draws from it today; kept so a resume stays exact
    return list(saved["history"]), int(saved["epoch"])


def _train_epoch(net: torch.nn.Module, optimizer: torch.optim.Optimizer, batches, device: torch.device
                 ) -> tuple[float, float]:
    """One pass over ``batches``; ``(mean loss, accuracy %)``."""
    net.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        optimizer.step()
        loss_sum += float(loss.detach()) * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    return loss_sum / max(seen, 1), 100.0 * correct / max(seen, 1)


def _fit(space: Any, arch: Any, data: ImageDataset, settings: dict[str, Any], device: torch.device, *,
         partial: Path | None, progress: bool, callback: EpochCallback | None
         ) -> tuple[torch.nn.Module, list[dict[str, Any]], int]:
    """Train, resuming from ``partial`` when it exists; ``(network in eval mode, history, epochs_run)``."""
    epochs, seed, batch_size, limit = (settings[k] for k in ("epochs", "seed", "batch_size", "steps_per_epoch"))
    torch.manual_seed(seed)
    net = _network(space, arch, settings, data.num_classes).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=settings["lr"], momentum=0.9,
                                weight_decay=settings["weight_decay"], nesterov=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history: list[dict[str, Any]] = []
    start = 0
    if partial is not None and partial.exists():
        history, start = _resume(space, partial, arch, settings, net, optimizer, scheduler)
    for epoch in range(start, epochs):
        tick = time.perf_counter()
        batches = show_progress(data.train.batches(batch_size, shuffle=True, seed=seed * 1_000_003 + epoch,
                                                   limit=limit),
                                total=data.train.num_batches(batch_size, limit=limit), leave=False, unit="batch",
                                desc=f"standalone {_code(space, arch)} epoch {epoch + 1}/{epochs}", enabled=progress)
        loss, accuracy = _train_epoch(net, optimizer, batches, device)
        batches.close()
        lr_now = optimizer.param_groups[0]["lr"]
        scheduler.step()
        record = {"epoch": epoch + 1, "train_loss": loss, "train_accuracy": accuracy, "lr": lr_now,
                  "seconds": time.perf_counter() - tick}
        history.append(record)
        if partial is not None:
            _write(partial, {"format": PARTIAL_FORMAT, "version": VERSION, "arch": space.format(arch), "settings": settings,
                             "epoch": epoch + 1, "history": history, "rng": torch.get_rng_state(),
                             "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                             "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
        if progress:
            print(f"epoch {epoch + 1}/{epochs}  loss {loss:.4f}  acc {accuracy:.2f}%  {record['seconds']:.1f}s",
                  file=sys.stderr, flush=True)
        if callback is not None:
            callback(record)
    return net.eval(), history, epochs - start


def _result(space: Any, arch: Any, net: torch.nn.Module, data: ImageDataset, history: list[dict[str, Any]],
            device: torch.device) -> dict[str, Any]:
    """Valid and test figures of the trained ``net`` (``seconds`` is left to the caller)."""
    valid_acc, valid_loss = evaluate(net, data.valid, device=device)
    test_acc, test_loss = evaluate(net, data.test, device=device)
    last = history[-1]
    return {"arch": space.format(arch), "test_accuracy": test_acc, "test_loss": test_loss, "valid_accuracy": valid_acc,
            "valid_loss": valid_loss, "train_accuracy": last["train_accuracy"], "train_loss": last["train_loss"],
            "params_m": sum(p.numel() for p in net.parameters()) / 1e6, "epochs": len(history)}


def _settings(data: ImageDataset, *, data_root: str | os.PathLike | None, epochs: int, channels: int,
              cells: int | None,
              seed: int, batch_size: int, lr: float, weight_decay: float,
              steps_per_epoch: int | None) -> dict[str, Any]:
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidInputError(f"{name} must be positive, got {value}")
    if steps_per_epoch is not None and steps_per_epoch < 1:
        raise InvalidInputError(f"steps_per_epoch must be positive (None: the whole split), got {steps_per_epoch}")
    if not (math.isfinite(lr) and lr > 0):
        raise InvalidInputError(f"lr must be a positive number, got {lr}")
    return {"dataset": data.name, "data_root": None if data_root is None else str(data_root),
            "image_size": data.image_size, "num_classes": data.num_classes, "channels": channels, "cells": cells,
            "epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, "seed": seed,
            "steps_per_epoch": steps_per_epoch}


def _load_data(dataset: str, data: ImageDataset | None, data_root, download: bool, image_size: int | None,
               progress: bool) -> ImageDataset:
    if data is not None:
        return data
    if dataset not in DATASETS:
        raise InvalidInputError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    return load_images(dataset, root=data_root, download=download, image_size=image_size, progress=progress)


def train_standalone(arch: Any, *, dataset: str = "digits", epochs: int = 10, channels: int = 16,
                     cells: int | None = 5, space: Any = None, seed: int = 0, device: str = "auto", batch_size: int = 64, lr: float = 0.1,
                     weight_decay: float = 5e-4, data_root: str | None = None, data: ImageDataset | None = None,
                     steps_per_epoch: int | None = None, progress: bool = False,
                     callback: EpochCallback | None = None) -> dict[str, Any]:
    """Train the network of ``arch`` from scratch and test it.

    SGD with Nesterov momentum and a cosine schedule, as NAS-Bench-201 trains its networks
    (on the train split), evaluated on the valid and test splits. Nothing is kept on disk:
    :func:`train_model` is the same training with its weights kept and resumable.

    Args:
        arch: The architecture.
        dataset: One of :data:`gcnas.data.images.DATASETS`.
        epochs: Training epochs.
        channels: Channels of the first stage.
        cells: Cells per stage (None for a space whose depth is part of the architecture, "imc").
        space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).
        seed: Seed of the initialisation and data order.
        device: ``auto``, ``cpu``, ``cuda``.
        batch_size: Images per step.
        lr: Initial learning rate.
        weight_decay: SGD weight decay.
        data_root: Folder of the dataset files.
        data: An already loaded dataset (overrides ``dataset``/``data_root``).
        steps_per_epoch: Cap on the steps of an epoch.
        progress: Show progress per epoch (a bar on a terminal, log lines elsewhere) and a line after each.
        callback: Called with each epoch's record.

    Returns:
        ``{"arch", "test_accuracy", "test_loss", "valid_accuracy", "valid_loss",
        "train_accuracy", "train_loss", "params_m", "epochs", "seconds", "history"}``
        (``history``: one record per epoch, as :attr:`TrainedModel.history`).

    Example:
        >>> result = train_standalone(arch, dataset="digits", epochs=5, channels=8, cells=1, batch_size=32)
        >>> round(result["test_accuracy"], 2)  # |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|...
        98.88
    """
    space = resolve_space(space)
    _check_cell(space, arch)
    data = _load_data(dataset, data, data_root, False, None, progress)
    settings = _settings(data, data_root=data_root, epochs=epochs, channels=channels, cells=cells, seed=seed,
                         batch_size=batch_size, lr=lr, weight_decay=weight_decay, steps_per_epoch=steps_per_epoch)
    device_ = resolve_device(device)
    began = time.perf_counter()
    net, history, _ = _fit(space, arch, data, settings, device_, partial=None, progress=progress, callback=callback)
    result = {**_result(space, arch, net, data, history, device_), "seconds": time.perf_counter() - began}
    return {**result, "history": history}


def train_model(run_dir: str | os.PathLike, arch: Any, *, dataset: str = "digits", data_root: str | None = None,
                download: bool = False, image_size: int | None = None, epochs: int = 10, channels: int = 16,
                cells: int | None = 5, space: Any = None, seed: int = 0, device: str = "auto", batch_size: int = 64, lr: float = 0.1,
                weight_decay: float = 5e-4, steps_per_epoch: int | None = None, data: ImageDataset | None = None,
                progress: bool = False, callback: EpochCallback | None = None) -> TrainedModel:
    """Train ``arch`` from scratch as :func:`train_standalone` does, keeping the weights in ``run_dir``.

    After every epoch the whole training state (weights, optimizer, schedule, RNG, history)
    is written atomically to :func:`partial_path`; a call with the same settings after a
    kill resumes from the last finished epoch and, on CPU, ends with the same weights as an
    uninterrupted run. When training ends, the weights, settings, history, valid and test
    accuracy and the input normalisation go to :func:`model_path` (``RUN/models/<code>.pt``)
    and the partial file is removed. Asking again with the same settings returns that file
    without training; asking with other settings is refused (never overwritten).

    Args:
        run_dir: The run directory.
        arch: The architecture.
        dataset: One of :data:`gcnas.data.images.DATASETS` (``imagefolder``: a user's images).
        data_root: Folder of the dataset files (the image folder for ``imagefolder``).
        download: Let torchvision download CIFAR.
        image_size: Side ``imagefolder`` images are resized to (default 32).
        epochs: Training epochs.
        channels: Channels of the first stage.
        cells: Cells per stage (None for a space whose depth is part of the architecture, "imc").
        space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).
        seed: Seed of the initialisation and data order.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: Images per step.
        lr: Initial learning rate (cosine to 0).
        weight_decay: SGD weight decay.
        steps_per_epoch: Cap on the steps of an epoch (``None``: the whole train split).
        data: An already loaded dataset (its ``name`` must equal ``dataset``).
        progress: Show progress per epoch (a bar on a terminal, log lines elsewhere) and a line after each.
        callback: Called with each epoch's record after its partial file is written.

    Returns:
        The :class:`TrainedModel` (``epochs_run``: epochs trained by this call).

    Raises:
        InvalidInputError: A kept model or partial training of ``arch`` with other settings
            (the message names each one that differs), or bad settings.

    Example:
        >>> model = train_model("runs/x", arch, dataset="digits", epochs=5, channels=8, cells=1, batch_size=32)
        >>> model.path, round(model.result["test_accuracy"], 2)   # arch: code 11668
        (PosixPath('runs/x/models/11668.pt'), 98.88)
    """
    space = resolve_space(space)
    _check_cell(space, arch)
    if data is not None and data.name != dataset:
        raise InvalidInputError(f"data is {data.name!r} but dataset={dataset!r}")
    data = _load_data(dataset, data, data_root, download, image_size, progress)
    settings = _settings(data, data_root=data_root, epochs=epochs, channels=channels, cells=cells, seed=seed,
                         batch_size=batch_size, lr=lr, weight_decay=weight_decay, steps_per_epoch=steps_per_epoch)
    device_ = resolve_device(device)
    path = model_path(run_dir, arch, space)
    if path.exists():
        model = load_model(path, device=device_)
        differ = _differences(model.settings, settings)
        if model.arch != arch or differ:
            raise InvalidInputError(
                f"{str(path)!r} already holds {model.arch} trained with other settings "
                f"({', '.join(differ) or 'arch'}); rerun with those settings to reuse it, use another --run, "
                "or delete the file to train anew")
        return model
    began = time.perf_counter()
    partial = partial_path(run_dir, arch, space)
    net, history, epochs_run = _fit(space, arch, data, settings, device_, partial=partial, progress=progress,
                                    callback=callback)
    evaluated = time.perf_counter()
    result = _result(space, arch, net, data, history, device_)
    result["seconds"] = sum(r["seconds"] for r in history) + time.perf_counter() - evaluated  # across resumes
    preprocessing = {"image_size": data.image_size, "mean": [float(v) for v in data.train.mean],
                     "std": [float(v) for v in data.train.std]}
    model = TrainedModel(arch, net, settings, history, result, preprocessing, path, epochs_run, space)
    model.save(path)
    partial.unlink(missing_ok=True)
    if progress:
        print(f"trained {_code(space, arch)} in {time.perf_counter() - began:.1f}s; weights in {path}", file=sys.stderr)
    return model
