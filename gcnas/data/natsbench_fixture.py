"""Write small NATS-Bench topology archives in the official fast-mode on-disk format.

The full archive (``NATS-tss-v1_0-3ffb9-simple``) cannot be shipped or downloaded here,
so tests and examples use a fixture written by :func:`write_tss_archive`: the same
layout and the same objects as NATS-Bench's own ``tss-collect.py`` (``ArchResults`` /
``ResultsCount`` state dicts from ``nats_bench``, saved with ``nats_bench.pickle_save``),
with synthetic but plausible figures for a handful of architectures. The figures are
NOT NATS-Bench results, and the index order is a seeded shuffle, NOT the official one.
"""

from __future__ import annotations

import collections
import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from gcnas.data.natsbench import HPS
from gcnas.exceptions import InvalidInputError
from gcnas.spaces import get_space

__all__ = ["write_tss_archive"]

_SEEDS = {"12": (111, 777), "200": (777, 888, 999)}
_EVAL_SETS = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
              "cifar100": ("x-valid", "x-test", "ori-test"),
              "ImageNet16-120": ("x-valid", "x-test", "ori-test")}
_CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
_RESOLUTION = {"cifar10-valid": 32, "cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}
_CEILING = {"cifar10-valid": 91.0, "cifar10": 94.0, "cifar100": 73.0, "ImageNet16-120": 47.0}
_OP_QUALITY = (0.0, 0.4, 0.7, 1.0, 0.3)  # none, skip, conv1x1, conv3x3, pool


def write_tss_archive(directory: str | os.PathLike, archs: Iterable[Any], *, seed: int = 0,
                      meta_archs: Sequence[Any] | None = None,
                      hps: Sequence[str] = HPS) -> Path:
    """Write a fast-mode NATS-Bench topology archive that ``nats_bench.create`` loads.

    Args:
        directory: The archive directory to create (name it ``NATS-tss-v1_0-3ffb9-simple``
            to mimic the real one); existing files in it are overwritten.
        archs: NAS-Bench-201 cells (or their strings) that get a results file ``{index:06d}.pickle.pbz2``.
        seed: Seeds the index order and the synthetic figures.
        meta_archs: The index order written to ``meta.pickle.pbz2``; default every cell of
            the space in a seeded shuffle. Must contain every arch of ``archs``.
        hps: Training lengths to write (``"12"`` and/or ``"200"`` epochs).

    Returns:
        The archive directory.

    Example:
        >>> archs = [get_space("nb201").sample(seed) for seed in range(4)]
        >>> root = write_tss_archive(tmp / "NATS-tss-v1_0-3ffb9-simple", archs)
        >>> nats_bench.create(str(root), "tss", fast_mode=True, verbose=False)
    """
    from nats_bench import pickle_save

    space = get_space("nb201")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if meta_archs is None:
        cells = list(space.enumerate())
        meta = [cells[i] for i in rng.permutation(len(cells))]
    else:
        meta = [space.parse(a) if isinstance(a, str) else a for a in meta_archs]
    position = {arch: index for index, arch in enumerate(meta)}
    bad = [h for h in hps if h not in _SEEDS]
    if bad:
        raise InvalidInputError(f"unknown hp {bad[0]!r}; valid: {', '.join(_SEEDS)}")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    pickle_save({"meta_archs": [space.format(a) for a in meta], "total_archs": len(meta),
                 "arch2infos": None, "evaluated_indexes": set()}, str(root / "meta.pickle"))
    for arch in archs:
        arch = space.parse(arch) if isinstance(arch, str) else arch
        if arch not in position:
            raise InvalidInputError(f"{arch} is not in meta_archs")
        index = position[arch]
        ops = space.to_decisions(arch)  # the op of each edge
        data = collections.OrderedDict((hp, _arch_results(index, space.format(arch), ops, hp, rng).state_dict())
                                       for hp in hps)
        pickle_save(data, str(root / f"{index:06d}.pickle"))
    return root


def _arch_results(index: int, arch: str, ops: list[int], hp: str, rng: np.random.Generator):
    """One ``ArchResults`` (all datasets and trials of one training length), weights cleared.

    ``arch`` is the cell's NATS-Bench string, ``ops`` its op id per edge.
    """
    from nats_bench import ArchResults

    results = ArchResults(index, arch)
    quality = float(np.mean([_OP_QUALITY[op] for op in ops]))
    counts = np.bincount(ops, minlength=5)
    for dataset, eval_sets in _EVAL_SETS.items():
        latency = 1e-3 * (3.0 + 1.6 * counts[3] + 0.7 * counts[2] + 0.4 * counts[4]) * (
            0.5 if _RESOLUTION[dataset] == 16 else 1.0)
        for trial in _SEEDS[hp]:
            result = _results_count(arch, dataset, hp, trial, quality, counts, rng)
            result.update_latency([float(latency)])
            results.update(dataset, trial, result)
    results.clear_params()
    return results


def _results_count(arch: str, dataset: str, hp: str, trial: int, quality: float,
                   counts: np.ndarray, rng: np.random.Generator):
    from nats_bench import ResultsCount

    epochs = int(hp)
    final = _CEILING[dataset] * (0.7 + 0.3 * quality) * (0.82 if epochs == 12 else 1.0)
    progress = (1 - np.exp(-4.0 * np.arange(1, epochs + 1) / epochs)) / (1 - math.exp(-4.0))

    def curve(offset: float, noise: float) -> dict[int, float]:
        acc = np.clip(progress * (final + offset) + rng.normal(0, noise, epochs), 0.0, 100.0)
        return {e: float(a) for e, a in enumerate(acc)}

    def loss(acc: dict[int, float]) -> dict[int, float]:
        return {e: 0.05 + 3.0 * (1 - a / 100) ** 1.5 for e, a in acc.items()}

    classes, size = _CLASSES[dataset], _RESOLUTION[dataset]
    params = 0.0728 + 0.2432 * counts[3] + 0.0280 * counts[2] + 65e-6 * classes
    flops = (7.8 + 35.39 * counts[3] + 3.93 * counts[2] + 0.45 * counts[4]) * (size / 32) ** 2
    config = {"channel": 16, "num_cells": 5, "arch_str": str(arch), "class_num": classes}
    train = curve(6.0, 0.3)
    result = ResultsCount(dataset, None, train, loss(train), float(params), float(flops), config,
                          str(trial), epochs, None)
    result.update_train_info(train, {e: min(100.0, a + 15) for e, a in train.items()}, loss(train), None)
    result.reset_pseudo_train_times(9.0 + 7.0 * quality)
    accs, losses, times = {}, {}, {}
    for offset, name in enumerate(_EVAL_SETS[dataset]):
        acc = curve(-0.4 * offset, 0.25)
        acc_loss = loss(acc)
        for epoch in range(epochs):
            key = f"{name}@{epoch}"
            accs[key], losses[key], times[key] = acc[epoch], acc_loss[epoch], 1.5
    result.update_eval(accs, losses, times)
    return result
