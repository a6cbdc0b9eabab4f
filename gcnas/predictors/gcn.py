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
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from gcnas._thirdparty import quiet_jit_deprecation
from gcnas.predictors.base import keep_params, register_predictor
from gcnas.predictors.graph import NODE_FEATURES, NUM_NODES, arch_batch
from gcnas.predictors.neural import NeuralPredictor
from gcnas.space import Arch, NB201Space

with quiet_jit_deprecation():  # PyG scripts functions while it is imported: see gcnas._thirdparty
    from torch_geometric.nn import DenseGCNConv
    from torch_geometric.utils import to_dense_adj, to_dense_batch

__all__ = ["DirectedGCN", "GCNPredictor"]


class DirectedGCN(nn.Module):
    """Bidirectional GCN over the 8-node cell graph (PyG dense GCN layers).

    The cell graphs are tiny and all have 8 nodes, so the layers work on dense
    adjacency batches (``torch_geometric.nn.DenseGCNConv``): one batched matmul per
    layer and direction instead of a scatter over an edge list.

    Args:
        hidden: Width of node states.
        layers: Rounds of message passing.
        dropout: Dropout in the head.
        bidirectional: Also pass messages against the data flow.

    Shapes:
        ``forward(x (G, 8, 15), adjacency (G, 8, 8), extra (G, graph_features) | None) -> (G,)``,
        ``adjacency[g, u, v] = 1`` when data flows from node ``u`` to node ``v``; ``extra``
        are graph-level features fed to the head.
    """

    def __init__(self, hidden: int = 64, layers: int = 3, dropout: float = 0.1, bidirectional: bool = True,
                 graph_features: int = 0) -> None:
        super().__init__()
        self.embed = nn.Linear(NODE_FEATURES, hidden)
        self.forward_convs = nn.ModuleList(DenseGCNConv(hidden, hidden) for _ in range(layers))
        self.backward_convs = (nn.ModuleList(DenseGCNConv(hidden, hidden) for _ in range(layers))
                               if bidirectional else None)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(2 * hidden + graph_features, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(x)
        incoming = adjacency.transpose(1, 2)  # row v lists the nodes that feed v
        for i, conv in enumerate(self.forward_convs):
            message = conv(h, incoming)
            if self.backward_convs is not None:
                message = message + self.backward_convs[i](h, adjacency)
            h = self.norms[i](h + torch.relu(message))
        parts = [h.mean(dim=1), h[:, -1]]  # mean of all nodes, the output node
        if extra is not None:
            parts.append(extra)
        graph = torch.cat(parts, dim=1)
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
        prune: Drop edges that cannot carry a signal (see :mod:`gcnas.predictors.graph`).
        cost_feature: Feed the network's log parameter count (exact, label-free) to the
            head next to the graph readout.
        isomorphs: Isomorphic twins added per training architecture with its label
            (0 = none; ``None`` = ``min(4, 400 // n)``, so small training sets get the most
            help and large ones stay cheap); see :func:`~gcnas.predictors.neural.with_isomorphs`.
        seed: Seed of initialisation, splits and minibatch order.
        progress: Show a progress bar over ensemble members.
        loss: Regression loss, ``mse`` or ``l1`` (see :data:`~gcnas.predictors.neural.LOSSES`);
            ``l1`` on log latency is the relative-error loss of the latency predictor.

    Example:
        >>> model = GCNPredictor(ensemble=3, seed=0).fit(train_archs, train_acc)
        >>> mean, std = model.predict(all_archs, return_std=True)
    """

    def __init__(self, hidden: int = 64, layers: int = 3, ensemble: int = 5, epochs: int = 300,
                 lr: float = 3e-3, weight_decay: float = 1e-4, rank_weight: float = 1.0,
                 batch_size: int = 128, valid_fraction: float = 0.15, patience: int = 60,
                 dropout: float = 0.1, bidirectional: bool = True, prune: bool = True,
                 cost_feature: bool = True, isomorphs: int | None = None, seed: int = 0, progress: bool = False,
                 loss: str = "mse") -> None:
        keep_params(self, locals())

    # -- hooks -------------------------------------------------------------------------

    def _network(self) -> DirectedGCN:
        return DirectedGCN(self.hidden, self.layers, self.dropout, self.bidirectional,
                           graph_features=1 if self.cost_feature else 0)

    def _encode(self, archs: list[Arch]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        x, adjacency = _dense_parts(arch_batch(archs, prune=self.prune))
        return x, adjacency, (size_feature(archs) if self.cost_feature else None)

    def _forward(self, net: nn.Module, inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
                 rows: np.ndarray) -> torch.Tensor:
        x, adjacency, extra = inputs
        rows_t = torch.as_tensor(rows, dtype=torch.long)
        return net(x[rows_t], adjacency[rows_t], None if extra is None else extra[rows_t])


def size_feature(archs: list[Arch]) -> torch.Tensor:
    """``(n, 1)``: log parameter count of each network, standardised over the whole space.

    Computed exactly from the ops (:func:`gcnas.hardware.network_costs_many`), it needs
    no label: prior knowledge every member of the space has for free.
    """
    from gcnas.hardware import network_costs_many

    mean, scale = _size_moments()
    params = network_costs_many(archs)["params_m"] if archs else np.zeros(0)
    return torch.tensor((np.log(params) - mean) / scale, dtype=torch.float32).unsqueeze(-1)


@functools.lru_cache(maxsize=1)
def _size_moments() -> tuple[float, float]:
    from gcnas.hardware import network_costs_many

    logs = np.log(network_costs_many(NB201Space().all_archs())["params_m"])
    return float(logs.mean()), float(logs.std())


def _dense_parts(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """A PyG batch as node features ``(G, 8, F)`` and float adjacency ``(G, 8, 8)``."""
    x, _ = to_dense_batch(batch.x, batch.batch, max_num_nodes=NUM_NODES)
    adjacency = to_dense_adj(batch.edge_index, batch.batch, max_num_nodes=NUM_NODES, batch_size=x.shape[0])
    return x, adjacency
