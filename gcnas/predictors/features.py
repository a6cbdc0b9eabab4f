"""Cheap per-cell features: parameter count, FLOPs and the zero-cost proxies, cached in the run store.

They cost nothing (params, FLOPs: counted) or one forward/backward pass of the freshly
initialised network (synflow, NASWOT, jacov; see :mod:`gcnas.predictors.zero_cost`), and they
carry ranking signal that a short-trained supernet lacks, so the fused ranking
(:mod:`gcnas.predictors.fused`) combines them with the supernet. :func:`cell_features`
computes them for many cells in chunks, writes every finished chunk to the run store
(``features`` table, keyed by feature name and the settings that make it), and on a rerun
computes only the cells that are missing.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from gcnas.data.store import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.predictors.zero_cost import ZERO_COST_PROXIES, jacov, naswot, synflow
from gcnas.progress import progress as show_progress
from gcnas.spaces import DEFAULT_SPACE, costs_many, get_space

__all__ = ["CELL_FEATURES", "DEFAULT_CELL_FEATURES", "ProxySettings", "cell_features", "parse_feature_names"]

SPACE = DEFAULT_SPACE
"""The space whose cells the features describe (through the registry); ``ProxySettings`` is its network's shape."""

COUNTED = ("params", "flops")
CELL_FEATURES: tuple[str, ...] = COUNTED + ZERO_COST_PROXIES
"""Every per-cell feature :func:`cell_features` knows."""
DEFAULT_CELL_FEATURES: tuple[str, ...] = ("params", "flops", "synflow", "naswot", "jacov")
DATA_FREE = ("params", "flops", "synflow")


@dataclass(frozen=True)
class ProxySettings:
    """The network the proxies are computed on (NAS-Bench-201's evaluation network by default).

    Attributes:
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
        seed: Seed of every network's initialisation.
        batch_size: Images in the one batch of NASWOT and jacov (NAS-Bench-Suite-Zero: 64).
    """

    channels: int = 16
    cells: int = 5
    num_classes: int = 10
    seed: int = 0
    batch_size: int = 64

    def __post_init__(self) -> None:
        for name in ("channels", "cells", "num_classes", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"ProxySettings.{name} must be a positive integer, got {value!r}")

    def key(self, name: str, images: torch.Tensor | None, image_size: int) -> str:
        """The store key of feature ``name`` under these settings (and this batch, if it reads one)."""
        shape = f"C{self.channels}-N{self.cells}-k{self.num_classes}-s{image_size}"
        if name in COUNTED:
            return shape
        if name in DATA_FREE:
            return f"{shape}-seed{self.seed}"
        return f"{shape}-seed{self.seed}-batch{_digest(images)}"


def _digest(images: torch.Tensor | None) -> str:
    if images is None:
        return "none"
    array = images.detach().to("cpu", torch.float32).contiguous().numpy()
    return hashlib.sha1(array.tobytes()).hexdigest()[:12] + f"x{array.shape[0]}"


def parse_feature_names(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"params,naswot"`` (or a sequence) -> validated names, in the order given.

    Raises:
        InvalidInputError: An unknown or repeated name.
    """
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in CELL_FEATURES]
    if unknown:
        raise InvalidInputError(f"unknown cell feature {', '.join(map(repr, unknown))}; choose from "
                                f"{', '.join(CELL_FEATURES)}")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"cell features named twice in {','.join(names)!r}")
    return tuple(names)


def _compute(name: str, archs: Sequence[Any], images: torch.Tensor | None, settings: ProxySettings,
             image_size: int, device: torch.device | str = "cpu") -> np.ndarray:
    shape = dict(channels=settings.channels, cells=settings.cells, num_classes=settings.num_classes)
    if name in COUNTED:
        space = get_space(SPACE)
        return costs_many(space, archs, input_size=image_size, **shape)[name]
    seeded = dict(shape, seed=settings.seed)
    if name == "synflow":
        return np.array([synflow(a, image_size=image_size, device=device, **seeded) for a in archs])
    score = {"naswot": naswot, "jacov": jacov}[name]
    return np.array([score(a, images.to(device), **seeded) for a in archs])


def cell_features(archs: Sequence[Any], *, store: RunStore | None = None, images: torch.Tensor | None = None,
                  names: Sequence[str] = DEFAULT_CELL_FEATURES, settings: ProxySettings | None = None,
                  image_size: int | None = None, chunk: int = 25, progress: bool = True,
                  device: torch.device | str = "cpu") -> dict[str, np.ndarray]:
    """Every feature of ``names`` for every cell of ``archs``, from the store's cache where it is there.

    Args:
        archs: The cells.
        store: Run store that caches the features (``None``: compute everything, keep nothing).
        images: ``(B, 3, H, W)`` normalised images for NASWOT and jacov (the first
            ``settings.batch_size`` are used); not needed for params, FLOPs and synflow.
        names: Features (:data:`CELL_FEATURES`).
        settings: The proxies' network; default :class:`ProxySettings()`.
        image_size: Input side for the data-free features (default: the images' side, else 32).
        chunk: Cells computed between two writes to the store (what a kill can lose).
        progress: Show a progress bar (on stderr) and a line per finished feature.
        device: Where the proxies' networks run (the cache key does not depend on it).

    Returns:
        ``{name: (len(archs),) float64}``; NASWOT and jacov are ``-inf`` for a cell whose score
        is undefined (no live path), which ranks it last.

    Example:
        >>> with RunStore("runs/x") as store:
        ...     feats = cell_features(archs, store=store, images=batch)   # resumes if killed
        >>> sorted(feats)
        ['flops', 'jacov', 'naswot', 'params', 'synflow']
    """
    names = parse_feature_names(names)
    settings = settings or ProxySettings()
    if images is not None:
        if images.ndim != 4 or images.shape[1] != 3:
            raise InvalidInputError(f"images must be (B, 3, H, W), got shape {tuple(images.shape)}")
        images = images[:settings.batch_size]
    needs_images = [n for n in names if n not in DATA_FREE]
    if needs_images and images is None:
        raise InvalidInputError(f"{', '.join(needs_images)} read a batch of images: pass images=, or leave "
                                f"them out of the features")
    side = image_size or (int(images.shape[-1]) if images is not None else 32)
    out: dict[str, np.ndarray] = {}
    for name in names:
        key = settings.key(name, images, side)
        known = store.features(name, key) if store is not None else {}  # (keyed by architecture)
        values = np.array([known.get(a, np.nan) for a in archs], dtype=np.float64)
        # a stored NULL is an undefined score (-inf for the proxies), not a missing one
        missing = [i for i, a in enumerate(archs) if a not in known]
        step = len(missing) if name in COUNTED else chunk
        bar = show_progress(total=len(missing), desc=f"cell features: {name}", unit="cell",
                            enabled=progress and bool(missing) and name not in COUNTED)
        for start in range(0, len(missing), max(step, 1)):
            todo = missing[start:start + step]
            computed = _compute(name, [archs[i] for i in todo], images, settings, side, device)
            values[todo] = computed
            if store is not None:
                store.write_features(name, key, [archs[i] for i in todo], computed)
            bar.update(len(todo))
        bar.close()
        if name not in COUNTED:
            values = np.where(np.isnan(values), -np.inf, values)
        out[name] = values
        if progress and missing and name not in COUNTED:
            print(f"cell features: {name} for {len(missing)} cells computed, {len(archs) - len(missing)} cached",
                  file=sys.stderr, flush=True)
    return out
