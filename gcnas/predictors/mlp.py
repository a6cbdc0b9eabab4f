"""Baseline: an MLP on the flat one-hot encoding of a cell (NAS-Bench-201: the six ops, 30 inputs;
another space: :func:`gcnas.spaces.one_hot` of its decisions), with the graph-level features beside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from gcnas.predictors.base import keep_params, register_predictor
from gcnas.predictors.neural import NeuralPredictor
from gcnas.spaces.nb201 import Arch

__all__ = ["MLPPredictor", "one_hot_matrix", "cell_one_hot", "one_hot_width"]


def one_hot_matrix(archs: list[Arch]) -> np.ndarray:
    """``(n, 30)`` float32: :meth:`Arch.one_hot` of every architecture."""
    return np.stack([a.one_hot() for a in archs]) if archs else np.zeros((0, 30), dtype=np.float32)


def cell_one_hot(space: Any, archs: list[Any]) -> np.ndarray:
    """``(n, W)`` float32 one-hot of cells: :func:`one_hot_matrix` for NAS-Bench-201 (``space``
    None), else :func:`gcnas.spaces.one_hot` (one block per decision of the space)."""
    if space is None:
        return one_hot_matrix(archs)
    from gcnas.spaces import one_hot

    return one_hot(space, archs)


def one_hot_width(space: Any) -> int:
    """The ``W`` of :func:`cell_one_hot`."""
    return 30 if space is None else sum(d.size for d in space.decisions)


@register_predictor("mlp")
class MLPPredictor(NeuralPredictor):
    """Multi-layer perceptron on one-hot ops, an ensemble trained like the GCN.

    Args:
        hidden: Width of the hidden layers.
        layers: Hidden layers.
        ensemble, epochs, lr, weight_decay, rank_weight, batch_size, valid_fraction,
            patience, seed, progress: As in :class:`~gcnas.predictors.GCNPredictor`.
        dropout: Dropout after each hidden layer.
        space, features: As in :class:`~gcnas.predictors.GCNPredictor` (the features join the
            one-hot input).

    Example:
        >>> MLPPredictor(seed=0).fit(archs, acc).predict(archs[:3])
    """

    def __init__(self, hidden: int = 128, layers: int = 3, ensemble: int = 5, epochs: int = 300,
                 lr: float = 1e-3, weight_decay: float = 1e-4, rank_weight: float = 0.0,
                 batch_size: int = 128, valid_fraction: float = 0.15, patience: int = 60,
                 dropout: float = 0.1, seed: int = 0, progress: bool = False, space: Any = None,
                 features: Any = None) -> None:
        keep_params(self, locals())

    def _network(self) -> nn.Module:
        modules: list[nn.Module] = []
        width = one_hot_width(self._space()) + self._feature_width
        for _ in range(self.layers):
            modules += [nn.Linear(width, self.hidden), nn.ReLU(), nn.Dropout(self.dropout)]
            width = self.hidden
        modules.append(nn.Linear(width, 1))
        return nn.Sequential(*modules)

    def _encode(self, archs: list[Arch], extra: np.ndarray | None) -> torch.Tensor:
        x = cell_one_hot(self._space(), archs)
        return torch.from_numpy(x if extra is None else np.concatenate([x, extra], axis=1))

    def _forward(self, net: nn.Module, inputs: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        return net(inputs[torch.as_tensor(rows, dtype=torch.long)]).squeeze(-1)
