"""The one place where architectures become PyTorch Geometric graphs.

Every graph predictor of gcnas reads a cell through :func:`arch_data` (one graph) or
:func:`arch_batch` (many graphs in one disjoint-union batch). The graph is
:meth:`Arch.to_graph`: 8 nodes (input, the six edge-ops in string order, output),
edges in the direction data flows. Node features are the one-hot op type followed by
a one-hot of the node's position, so that the network can tell *which* edge of the
cell an operation sits on (two cells with the same multiset of ops are different).

With ``prune=True`` (the default) the graph keeps only the wiring that can carry a
signal: an op-node whose op is ``none`` outputs zero, so its edges are dropped, and
so are the edges of nodes that no longer lie on an input-to-output path. Cells that
compute the same function then look alike to the network.

Any other search space comes through the :class:`~gcnas.spaces.SearchSpace` protocol:
:func:`space_graphs` stacks the graphs of ``space.to_graph`` (several per cell: DARTS' normal
and reduction cell) as dense tensors, node features = node-type one-hot over
``space.node_types`` ‖ position one-hot ‖ which graph of the cell (when there are several).
Those graphs are used as the space gives them (no pruning: the rule above is NAS-Bench-201's).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from gcnas._thirdparty import quiet_jit_deprecation
from gcnas.spaces.nb201 import NODE_TYPES, Arch, live_adjacency

with quiet_jit_deprecation():  # PyG scripts functions while it is imported: see gcnas._thirdparty
    from torch_geometric.data import Batch, Data

__all__ = ["NODE_FEATURES", "NUM_NODES", "arch_data", "arch_batch", "live_adjacency", "space_node_features",
           "space_graphs"]

NUM_NODES = 8
NODE_FEATURES = len(NODE_TYPES) + NUM_NODES
"""Width of a node feature vector: op one-hot (7) + position one-hot (8)."""

def _node_features(features: np.ndarray) -> np.ndarray:
    return np.concatenate([features, np.eye(len(features), dtype=np.float32)], axis=1)


def arch_data(arch: Arch, *, prune: bool = True) -> Data:
    """One cell as a PyG ``Data``.

    Args:
        arch: The architecture.
        prune: Keep only the edges on live input-to-output paths (see module doc).

    Returns:
        ``Data(x=(8, 15) float32, edge_index=(2, E) int64)``.

    Example:
        >>> data = arch_data(Arch.from_code(0))   # every op 'none': no live edge
        >>> data.x.shape, data.edge_index.shape
        (torch.Size([8, 15]), torch.Size([2, 0]))
    """
    graph = arch.to_graph()
    adjacency = live_adjacency(graph.adjacency, graph.features) if prune else graph.adjacency
    src, dst = np.nonzero(adjacency)
    return Data(x=torch.from_numpy(_node_features(graph.features)),
                edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)))


def arch_batch(archs: Sequence[Arch], *, prune: bool = True) -> Batch:
    """Many cells as one PyG ``Batch`` (a disjoint union of their graphs).

    Args:
        archs: The architectures.
        prune: As in :func:`arch_data`.

    Returns:
        A ``Batch`` with ``x (8n, 15)``, ``edge_index (2, E)``, ``batch (8n,)``; the
        output node of graph ``i`` is node ``8 * i + 7``.
    """
    return Batch.from_data_list([arch_data(a, prune=prune) for a in archs])


def space_node_features(space: Any) -> int:
    """Width of a node feature vector of :func:`space_graphs`: node types + positions (+ graph ids)."""
    graphs = len(space.graph_names)
    return len(space.node_types) + space.max_nodes + (graphs if graphs > 1 else 0)


def space_graphs(space: Any, archs: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The graphs of cells of any :class:`~gcnas.spaces.SearchSpace`, as dense padded tensors.

    Each cell is read in canonical form (``space.canonical``), so equivalent notations give
    the same graphs.

    Args:
        space: The space.
        archs: ``n`` cells of it.

    Returns:
        ``x (n, S, N, F)`` float32 node features, ``adjacency (n, S, N, N)`` float32
        (``[.., u, v] = 1`` when data flows ``u -> v``) and ``mask (n, S, N)`` bool (real
        nodes; the rest is padding), with ``S = len(space.graph_names)``,
        ``N = space.max_nodes`` and ``F = space_node_features(space)``.

    Example:
        >>> x, adjacency, mask = space_graphs(DartsSpace(), [DartsSpace().sample(0)])
        >>> tuple(x.shape), tuple(adjacency.shape)
        ((1, 2, 11, 24), (1, 2, 11, 11))
    """
    count, width = len(space.graph_names), space_node_features(space)
    types, nodes = len(space.node_types), space.max_nodes
    x = np.zeros((len(archs), count, nodes, width), dtype=np.float32)
    adjacency = np.zeros((len(archs), count, nodes, nodes), dtype=np.float32)
    mask = np.zeros((len(archs), count, nodes), dtype=bool)
    for i, arch in enumerate(archs):
        graphs = space.to_graph(space.canonical(arch))
        for g, graph in enumerate(graphs):
            n = graph.num_nodes
            x[i, g, :n, :types] = graph.features
            x[i, g, :n, types:types + n] = np.eye(n, dtype=np.float32)
            if count > 1:
                x[i, g, :n, types + nodes + g] = 1.0
            adjacency[i, g, :n, :n] = graph.adjacency
            mask[i, g, :n] = True
    return torch.from_numpy(x), torch.from_numpy(adjacency), torch.from_numpy(mask)
