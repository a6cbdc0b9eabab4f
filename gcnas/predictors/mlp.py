"""Baseline: an MLP on the flat one-hot encoding of a cell (:func:`gcnas.spaces.one_hot` of the
space's decisions; NAS-Bench-201: the six edges' ops, 30 inputs), with the graph-level features beside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from gcnas.predictors.base import keep_params, register_predictor
from gcnas.predictors.cells import resolve_space
from gcnas.predictors.neural import NeuralPredictor

__all__ = ["MLPPredictor", "one_hot_matrix", "one_hot_width"]


def one_hot_matrix(archs: list[Any], space: Any = None) -> np.ndarray:
    """``(n, W)`` float32 one-hot of cells: :func:`gcnas.spaces.one_hot`, one block per decision.

    Args:
        archs: Cells of ``space``.
        space: A :class:`~gcnas.spaces.SearchSpace` or its name (None: ``"nb201"``).

    Returns:
        The one-hot rows (NAS-Bench-201: ``(n, 30)``, six edges x five ops).
    """
    from gcnas.spaces import one_hot

    return one_hot(resolve_space(space), archs)


def one_hot_width(space: Any) -> int:
    """The ``W`` of :func:`one_hot_matrix`."""
    return sum(d.size for d in resolve_space(space).decisions)


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

    def _encode(self, archs: list[Any], extra: np.ndarray | None) -> torch.Tensor:
        x = one_hot_matrix(archs, self._space())
        return torch.from_numpy(x if extra is None else np.concatenate([x, extra], axis=1))

    def _forward(self, net: nn.Module, inputs: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        return net(inputs[torch.as_tensor(rows, dtype=torch.long)]).squeeze(-1)
