"""The GCN predictor: graph convolutions over the cell's DAG, fitted to any score.

The network (:class:`DirectedGCN`) embeds each node (op type + position), then runs
``layers`` rounds of message passing in *both* directions of the DAG (a forward
convolution along the data flow and a backward one against it, as in BRP-NAS /
NPENAS), with residual connections and layer norm. The readout concatenates the
mean of all node states with the output node's state; a small MLP head gives one
number. Training minimises MSE (or L1: ``loss="l1"``) on standardised targets plus a
pairwise ranking loss (RankNet: logistic loss on every ordered pair of the batch), with
early stopping on a held-out part; an ensemble of ``ensemble`` members, each with its own seed and
held-out split, gives a mean and a spread.

Cells of any :class:`~gcnas.spaces.SearchSpace` (``space=``, NAS-Bench-201 by default): each
of the cell's graphs (``space.to_graph``: NAS-Bench-201's one cell, DARTS' normal and
reduction cell) passes through the same message passing (a node also knows which graph it is
in), and the head reads their readouts side by side. Per-cell numbers (``features=``, see
:mod:`gcnas.predictors.cells`) join the readout as graph-level inputs.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from gcnas._thirdparty import quiet_jit_deprecation
from gcnas.predictors.base import keep_params, register_predictor
from gcnas.predictors.cells import CostFeatures
from gcnas.predictors.graph import space_graphs, space_node_features
from gcnas.predictors.neural import NeuralPredictor

with quiet_jit_deprecation():  # PyG scripts functions while it is imported: see gcnas._thirdparty
    from torch_geometric.nn import DenseGCNConv

__all__ = ["DirectedGCN", "GCNPredictor"]


class DirectedGCN(nn.Module):
    """Bidirectional GCN over cell graphs (PyG dense GCN layers).

    The cell graphs are tiny (8 nodes for NAS-Bench-201, 11 for DARTS), so the layers work
    on dense adjacency batches (``torch_geometric.nn.DenseGCNConv``): one batched matmul per
    layer and direction instead of a scatter over an edge list.

    Args:
        hidden: Width of node states.
        layers: Rounds of message passing.
        dropout: Dropout in the head.
        bidirectional: Also pass messages against the data flow.
        graph_features: Width of the graph-level input ``extra`` fed to the head.
        node_features: Width of a node feature vector
            (:func:`~gcnas.predictors.graph.space_node_features` of the space).
        graphs: Graphs per cell (``S``); each is encoded by the same layers and their
            readouts are concatenated.

    Shapes:
        ``forward(x (G, N, F) | (G, S, N, F), adjacency (G, N, N) | (G, S, N, N),
        extra (G, graph_features) | None, mask (G, N) | (G, S, N) | None) -> (G,)``;
        ``adjacency[.., u, v] = 1`` when data flows from node ``u`` to node ``v``; ``mask``
        marks real nodes (None: every node is real and the last one is the output).
    """

    def __init__(self, hidden: int = 64, layers: int = 3, dropout: float = 0.1, bidirectional: bool = True,
                 graph_features: int = 0, *, node_features: int, graphs: int = 1) -> None:
        super().__init__()
        self.embed = nn.Linear(node_features, hidden)
        self.forward_convs = nn.ModuleList(DenseGCNConv(hidden, hidden) for _ in range(layers))
        self.backward_convs = (nn.ModuleList(DenseGCNConv(hidden, hidden) for _ in range(layers))
                               if bidirectional else None)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(2 * hidden * graphs + graph_features, hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor, extra: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        cells = x.shape[0]
        if x.dim() == 4:  # several graphs per cell: encode them as one batch
            x, adjacency = x.flatten(0, 1), adjacency.flatten(0, 1)
            mask = None if mask is None else mask.flatten(0, 1)
        h = self.embed(x)
        incoming = adjacency.transpose(1, 2)  # row v lists the nodes that feed v
        for i, conv in enumerate(self.forward_convs):
            message = conv(h, incoming, mask)
            if self.backward_convs is not None:
                message = message + self.backward_convs[i](h, adjacency, mask)
            h = self.norms[i](h + torch.relu(message))
        if mask is None:
            parts = [h.mean(dim=1), h[:, -1]]  # mean of all nodes, the output node
        else:
            weight = mask.unsqueeze(-1).to(h.dtype)
            last = mask.sum(dim=1).clamp(min=1) - 1  # the output is the last real node
            parts = [(h * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1),
                     h[torch.arange(h.shape[0]), last]]
        graph = torch.cat(parts, dim=1).reshape(cells, -1)
        if extra is not None:
            graph = torch.cat([graph, extra], dim=1)
        return self.head(graph).squeeze(-1)


@register_predictor("gcn")
class GCNPredictor(NeuralPredictor):
    """Graph-convolutional performance predictor (PyTorch Geometric), an ensemble.

    Args:
        hidden: Width of node states.
        layers: Message-passing rounds.
        ensemble: Members (each its own seed and held-out split); ``predict(...,
            return_std=True)`` returns their spread.
        epochs: Most training epochs per member.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        rank_weight: Weight of the pairwise ranking loss next to the regression loss (0 = none).
        batch_size: Minibatch size (the whole set when it is smaller).
        valid_fraction: Share of the training set held out for early stopping.
        patience: Epochs without held-out improvement before stopping.
        dropout: Dropout in the head.
        bidirectional: Backward message passing too.
        prune: Drop edges that cannot carry a signal (see :mod:`gcnas.predictors.graph`;
            spaces of one graph with a ``none`` node type, as NAS-Bench-201).
        cost_feature: Feed the network's log parameter count (``space.costs``: exact,
            label-free) to the head next to the graph readout, standardised over the whole
            space where it can be listed (NAS-Bench-201), else over the training cells.
        isomorphs: Isomorphic twins (other cells of the same ``space.key``) added per
            training architecture with its label (0 = none; ``None`` = ``min(4, 400 // n)``,
            so small training sets get the most help and large ones stay cheap); see
            :func:`~gcnas.predictors.neural.with_isomorphs`. Listable spaces only (another
            space: no twins).
        seed: Seed of initialisation, splits and minibatch order.
        progress: Show the training epochs of every member (:func:`gcnas.progress.progress`: a bar on a
            terminal, log lines elsewhere).
        loss: Regression loss, ``mse`` or ``l1`` (see :data:`~gcnas.predictors.neural.LOSSES`);
            ``l1`` on log latency is the relative-error loss of the latency predictor.
        space: The cells' search space: a :class:`~gcnas.spaces.SearchSpace` or its registered
            name (``"darts"``); None is ``"nb201"``. See :mod:`gcnas.predictors.cells`.
        features: Per-cell numbers fed to the head beside the readout: a callable
            ``cells -> (n, d)`` (e.g. :class:`~gcnas.predictors.cells.CostFeatures`,
            :class:`~gcnas.predictors.cells.TableFeatures`), standardised on the training cells.

    Example:
        >>> model = GCNPredictor(ensemble=3, seed=0).fit(train_archs, train_acc)
        >>> mean, std = model.predict(all_archs, return_std=True)
        >>> darts = GCNPredictor(space="darts", features=CostFeatures("darts")).fit(genotypes, acc)
    """

    def __init__(self, hidden: int = 64, layers: int = 3, ensemble: int = 5, epochs: int = 300,
                 lr: float = 3e-3, weight_decay: float = 1e-4, rank_weight: float = 1.0,
                 batch_size: int = 128, valid_fraction: float = 0.15, patience: int = 60,
                 dropout: float = 0.1, bidirectional: bool = True, prune: bool = True,
                 cost_feature: bool = True, isomorphs: int | None = None, seed: int = 0, progress: bool = False,
                 loss: str = "mse", space: Any = None, features: Any = None) -> None:
        keep_params(self, locals())

    # -- hooks -------------------------------------------------------------------------

    def _feature_maps(self) -> list[Any]:
        maps = super()._feature_maps()
        if self.cost_feature and self._space().size() is None:  # a listable space: size_feature instead
            maps = [CostFeatures(self.space, names=("params",)), *maps]
        return maps

    def _size_column(self) -> bool:
        return bool(self.cost_feature) and self._space().size() is not None

    def _network(self) -> DirectedGCN:
        space = self._space()
        return DirectedGCN(self.hidden, self.layers, self.dropout, self.bidirectional,
                           graph_features=(1 if self._size_column() else 0) + self._feature_width,
                           node_features=space_node_features(space), graphs=len(space.graph_names))

    def _encode(self, archs: list[Any], extra: np.ndarray | None) -> tuple[torch.Tensor, ...]:
        space = self._space()
        extra_t = None if extra is None else torch.from_numpy(extra)
        x, adjacency, mask = space_graphs(space, archs, prune=self.prune)
        if len(space.graph_names) == 1:  # one graph per cell: (n, N, F), as DirectedGCN reads it
            x, adjacency, mask = x[:, 0], adjacency[:, 0], mask[:, 0]
        if bool(mask.all()):  # no padding: the plain mean / last-node readout
            mask = None
        if self._size_column():
            size = size_feature(space, archs)
            extra_t = size if extra_t is None else torch.cat([size, extra_t], dim=1)
        return x, adjacency, extra_t, mask

    def _forward(self, net: nn.Module, inputs: tuple[torch.Tensor, ...], rows: np.ndarray) -> torch.Tensor:
        x, adjacency, extra, mask = inputs
        rows_t = torch.as_tensor(rows, dtype=torch.long)
        return net(x[rows_t], adjacency[rows_t], None if extra is None else extra[rows_t],
                   None if mask is None else mask[rows_t])


def size_feature(space: Any, archs: list[Any]) -> torch.Tensor:
    """``(n, 1)``: log parameter count of each network, standardised over the whole (listable) space.

    Computed exactly (``space.costs``), it needs no label: prior knowledge every member of
    the space has for free.
    """
    from gcnas.spaces import costs_many

    mean, scale = _size_moments(space)
    params = costs_many(space, archs)["params"]
    return torch.tensor((np.log(params) - mean) / scale, dtype=torch.float32).unsqueeze(-1)


def _size_moments(space: Any) -> tuple[float, float]:
    try:
        return _cached_size_moments(space)
    except TypeError:  # an unhashable space: no cache
        return _cached_size_moments.__wrapped__(space)


@functools.lru_cache(maxsize=4)
def _cached_size_moments(space: Any) -> tuple[float, float]:
    from gcnas.spaces import costs_many

    logs = np.log(costs_many(space, list(space.enumerate()))["params"])
    return float(logs.mean()), float(logs.std())
