"""Training one architecture from scratch: the ground truth the supernet's scores approximate."""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from gcnas.data.images import ImageDataset, load_images
from gcnas.exceptions import InvalidInputError
from gcnas.space import Arch
from gcnas.supernet.checkpoint import resolve_device
from gcnas.supernet.network import build_network
from gcnas.supernet.score import evaluate

__all__ = ["train_standalone"]


def train_standalone(arch: Arch, *, dataset: str = "digits", epochs: int = 10, channels: int = 16, cells: int = 5,
                     seed: int = 0, device: str = "auto", batch_size: int = 64, lr: float = 0.1,
                     weight_decay: float = 5e-4, data_root: str | None = None, data: ImageDataset | None = None,
                     steps_per_epoch: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Train the NAS-Bench-201 network of ``arch`` from scratch and test it.

    SGD with Nesterov momentum and a cosine schedule, as NAS-Bench-201 trains its networks
    (on the train split), evaluated on the valid and test splits.

    Args:
        arch: The architecture.
        dataset: One of :data:`gcnas.data.images.DATASETS`.
        epochs: Training epochs.
        channels: Channels of the first stage.
        cells: Cells per stage.
        seed: Seed of the initialisation and data order.
        device: ``auto``, ``cpu``, ``cuda``.
        batch_size: Images per step.
        lr: Initial learning rate.
        weight_decay: SGD weight decay.
        data_root: Folder of the dataset files.
        data: An already loaded dataset (overrides ``dataset``/``data_root``).
        steps_per_epoch: Cap on the steps of an epoch.
        progress: Show a tqdm bar over epochs.

    Returns:
        ``{"arch", "test_accuracy", "test_loss", "valid_accuracy", "valid_loss",
        "train_accuracy", "train_loss", "params_m", "epochs", "seconds"}``.

    Example:
        >>> result = train_standalone(arch, dataset="digits", epochs=5, channels=8, cells=1, batch_size=32)
        >>> round(result["test_accuracy"], 2)  # |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|...
        98.21
    """
    if not isinstance(arch, Arch):
        raise InvalidInputError(f"arch must be an Arch, got {type(arch).__name__}")
    if epochs < 1:
        raise InvalidInputError(f"epochs must be positive, got {epochs}")
    data = data or load_images(dataset, root=data_root)
    device_ = resolve_device(device)
    torch.manual_seed(seed)
    net = build_network(arch, channels=channels, cells=cells, num_classes=data.num_classes).to(device_)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay, nesterov=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    began = time.perf_counter()
    train_loss, train_correct, seen = 0.0, 0, 0
    epochs_bar = tqdm(range(epochs), desc=f"standalone {arch.code}", disable=True if not progress else None,
                      unit="epoch")
    for epoch in epochs_bar:
        net.train()
        train_loss, train_correct, seen = 0.0, 0, 0
        for x, y in data.train.batches(batch_size, shuffle=True, seed=seed * 1_000_003 + epoch,
                                       limit=steps_per_epoch):
            x, y = x.to(device_), y.to(device_)
            logits = net(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            optimizer.step()
            train_loss += float(loss.detach()) * len(y)
            train_correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
        scheduler.step()
    valid_acc, valid_loss = evaluate(net, data.valid, device=device_)
    test_acc, test_loss = evaluate(net, data.test, device=device_)
    return {"arch": str(arch), "test_accuracy": test_acc, "test_loss": test_loss, "valid_accuracy": valid_acc,
            "valid_loss": valid_loss, "train_accuracy": 100.0 * train_correct / max(seen, 1),
            "train_loss": train_loss / max(seen, 1), "params_m": sum(p.numel() for p in net.parameters()) / 1e6,
            "epochs": epochs, "seconds": time.perf_counter() - began}
