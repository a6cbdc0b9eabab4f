"""Zero-cost proxies: architecture scores computed at initialisation, without training.

They are the baselines a one-shot supernet has to beat, since they cost a forward pass:

- :func:`synflow` (Tanaka et al., 2020; as a NAS proxy, Abdelfattah et al., 2021): the
  sum over weights of ``|theta * d R / d theta|``, where ``R`` is the summed output of the
  network with every weight replaced by its absolute value, on an all-ones input, in
  float64, BatchNorm off. Data-free.
- :func:`naswot` (Mellor et al., 2021, "NAS without training"): ``log det K`` of the
  Hamming-similarity kernel of the ReLU activation patterns of one batch of images;
  networks that separate the images' activation codes score higher.
- :func:`jacov` (Mellor et al., 2021, first version; as in NAS-Bench-Suite-Zero): the
  correlation matrix of the input Jacobians of one batch, scored by
  ``-sum(log(lambda + k) + 1 / (lambda + k))`` over its eigenvalues (``k = 1e-5``); networks
  whose Jacobians are less correlated across images score higher.

All run on the space's real network (``space.network``; NAS-Bench-201's exact network by
default, ``channels`` / ``cells`` / ``num_classes`` its shape) as freshly initialised, with a
fixed initialisation seed so that a score is reproducible.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.progress import progress as show_progress
from gcnas.spaces import given_shape, resolve_space

__all__ = ["synflow", "naswot", "jacov", "zero_cost_scores", "ZERO_COST_PROXIES"]


def _fresh(arch: Any, channels: int, cells: int | None, num_classes: int, seed: int, space: Any = None) -> nn.Module:
    """The space's network of ``arch`` as initialised with ``seed`` (``cells`` passed only when set:
    a space whose depth is part of the architecture takes none)."""
    space = resolve_space(space)
    try:
        space.format(arch)
    except (AttributeError, TypeError, ValueError):
        raise InvalidInputError(f"arch must be a {space.name} architecture, got {type(arch).__name__} {arch!r}; "
                                "read one with get_space(name).parse(text)") from None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return space.network(arch, **given_shape(channels=channels, cells=cells, num_classes=num_classes))


def synflow(arch: Any, *, image_size: int = 32, channels: int = 16, cells: int | None = 5, num_classes: int = 10,
            seed: int = 0, device: torch.device | str = "cpu", space: Any = None) -> float:
    """The synaptic-flow score of ``arch`` at initialisation (data-free).

    Args:
        arch: The cell.
        image_size: Side of the (all-ones) input.
        channels: Channels of the first stage (NAS-Bench-201: 16).
        cells: Cells per stage (NAS-Bench-201: 5).
        num_classes: Classifier outputs.
        seed: Seed of the initialisation.
        device: Where the network runs.
        space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).

    Returns:
        ``log(1 + score)``: the score spans many orders of magnitude; the log keeps its order.

    Example:
        >>> synflow(get_space("nb201").parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"))
    """
    net = _fresh(arch, channels, cells, num_classes, seed, space).to(device).double().eval()  # fresh BN in eval: identity
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones(1, 3, image_size, image_size, dtype=torch.float64, device=device))
    out.sum().backward()
    total = 0.0
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)) and module.weight.grad is not None:
            total += float((module.weight.detach() * module.weight.grad).abs().sum())
    return float(np.log1p(total))


def naswot(arch: Any, images: torch.Tensor, *, channels: int = 16, cells: int | None = 5, num_classes: int = 10,
           seed: int = 0, space: Any = None) -> float:
    """The NASWOT score: ``log |det K|`` of the ReLU-code kernel on one batch.

    Args:
        arch: The cell.
        images: ``(B, 3, H, W)`` normalised images (the paper uses B = 128); the network runs
            where they are.
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
        seed: Seed of the initialisation.
        space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).

    Returns:
        The log-determinant (higher: more distinct activation patterns); ``-inf`` when the
        kernel is singular (two images with the same code at every ReLU, e.g. a cell without
        a live path), which ranks such a cell last.
    """
    net = _fresh(arch, channels, cells, num_classes, seed, space).to(images.device).train()
    batch = images.shape[0]
    kernel = torch.zeros(batch, batch, dtype=torch.float64, device=images.device)

    def add_codes(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        codes = (output.detach().reshape(batch, -1) > 0).double()
        kernel.add_(codes @ codes.T + (1 - codes) @ (1 - codes).T)

    hooks = [m.register_forward_hook(add_codes) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(images)
    finally:
        for hook in hooks:
            hook.remove()
    return float(torch.linalg.slogdet(kernel).logabsdet)


def jacov(arch: Any, images: torch.Tensor, *, channels: int = 16, cells: int | None = 5, num_classes: int = 10,
          seed: int = 0, space: Any = None) -> float:
    """The Jacobian-covariance score: how decorrelated the input Jacobians of one batch are.

    Args:
        arch: The cell.
        images: ``(B, 3, H, W)`` normalised images (NAS-Bench-Suite-Zero uses B = 64); the
            network runs where they are, in training mode (batch statistics), as in the paper.
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
        seed: Seed of the initialisation.
        space: The space of ``arch`` (a space or its name; None is ``DEFAULT_SPACE``).

    Returns:
        ``-sum(log(lambda + 1e-5) + 1 / (lambda + 1e-5))`` over the eigenvalues of the
        correlation matrix of the per-image Jacobians of the summed logits; ``-inf`` when the
        Jacobians are undefined or constant (a cell without a live path), ranking it last.
    """
    net = _fresh(arch, channels, cells, num_classes, seed, space).to(images.device).train()
    x = images.detach().clone().requires_grad_(True)
    net(x).sum().backward()
    if x.grad is None:
        return float("-inf")
    jacobians = x.grad.reshape(x.shape[0], -1).double().cpu().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(jacobians)
    if not np.all(np.isfinite(corr)):
        return float("-inf")
    eigenvalues = np.linalg.eigvalsh(corr)  # symmetric: real eigenvalues
    k = 1e-5
    with np.errstate(divide="ignore", invalid="ignore"):
        score = -np.sum(np.log(eigenvalues + k) + 1.0 / (eigenvalues + k))
    return float(score) if np.isfinite(score) else float("-inf")


ZERO_COST_PROXIES: tuple[str, ...] = ("synflow", "naswot", "jacov")


def zero_cost_scores(archs: Sequence[Any], images: torch.Tensor, *, proxies: Sequence[str] = ZERO_COST_PROXIES,
                     channels: int = 16, cells: int | None = 5, num_classes: int = 10, seed: int = 0,
                     progress: bool = True, callback: Callable[[int, dict[str, float]], None] | None = None,
                     device: torch.device | str = "cpu", space: Any = None) -> dict[str, np.ndarray]:
    """Every proxy of :data:`ZERO_COST_PROXIES` (or ``proxies``) for many cells.

    Args:
        archs: The cells.
        images: One normalised batch for the data-dependent proxies.
        proxies: Which proxies.
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
        seed: Seed of every network's initialisation.
        progress: Show a progress bar.
        callback: Called with ``(position, {proxy: score})`` after each cell (for caching).
        device: Where the networks run.
        space: The space of the cells (a space or its name; None is ``DEFAULT_SPACE``).

    Returns:
        ``{proxy: (len(archs),) float64}``.
    """
    unknown = [p for p in proxies if p not in ZERO_COST_PROXIES]
    if unknown:
        raise InvalidInputError(f"unknown zero-cost proxy {unknown}; choose from {', '.join(ZERO_COST_PROXIES)}")
    out = {p: np.empty(len(archs)) for p in proxies}
    shape = dict(channels=channels, cells=cells, num_classes=num_classes, seed=seed, space=space)
    images = images.to(device)
    for i, arch in enumerate(show_progress(archs, desc="zero-cost proxies", unit="arch", enabled=progress)):
        row = {}
        if "synflow" in proxies:
            row["synflow"] = synflow(arch, image_size=images.shape[-1], device=device, **shape)
        if "naswot" in proxies:
            row["naswot"] = naswot(arch, images, **shape)
        if "jacov" in proxies:
            row["jacov"] = jacov(arch, images, **shape)
        for name, value in row.items():
            out[name][i] = value
        if callback is not None:
            callback(i, row)
    return out
