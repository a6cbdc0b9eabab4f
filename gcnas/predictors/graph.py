"""The one place where cells become the tensors of the graph predictors.

A cell of any :class:`~gcnas.spaces.SearchSpace` is read through ``space.to_graph``: one
:class:`~gcnas.spaces.SpaceGraph` per entry of ``space.graph_names`` (NAS-Bench-201: one
8-node graph: input, the six edge-ops in string order, output; DARTS: the normal and the
reduction cell, 11 nodes each). :func:`space_graphs` stacks them as dense padded tensors;
node features are the node-type one-hot over ``space.node_types`` followed by a one-hot of
the node's position, so that the network can tell *which* edge of the cell an operation sits
on (two cells with the same multiset of ops are different), and, when a cell has several
graphs, a one-hot of the graph it is in. Each cell is read in the form its decision vector
describes (``space.from_decisions(space.to_decisions(a))``), so the notations of one
architecture give the same graphs (DARTS' two orders of a node's pairs), while every listed
cell stays itself (NAS-Bench-201's isomorphic cells keep their own graphs).

With ``prune=True`` a graph keeps only the wiring that can carry a signal
(:func:`live_adjacency`): a node of type ``none`` outputs zero, so its edges are dropped, and
so are the edges of nodes that no longer lie on a path from the first node (the input) to
the last (the output). Cells that compute the same function then look alike to the
network. The rule needs one input and one output, so it applies to spaces of one graph per
cell whose ``node_types`` hold ``none`` (:func:`prunable`: NAS-Bench-201); other graphs
are used as the space gives them.

:func:`arch_data` / :func:`arch_batch` give the same graphs as PyTorch Geometric ``Data`` /
``Batch`` objects (one graph per cell).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from gcnas._thirdparty import quiet_jit_deprecation
from gcnas.exceptions import InvalidInputError
from gcnas.spaces import live_adjacency

with quiet_jit_deprecation():  # PyG scripts functions while it is imported: see gcnas._thirdparty
    from torch_geometric.data import Batch, Data

__all__ = ["prunable", "live_adjacency", "space_node_features", "space_graphs", "arch_data", "arch_batch"]

ZERO_OP = "none"
"""The node type whose op outputs zero (what pruning drops)."""


def prunable(space: Any) -> bool:
    """Whether :func:`live_adjacency` applies to ``space``'s graphs: one graph per cell, a ``none`` node type."""
    return len(space.graph_names) == 1 and ZERO_OP in space.node_types


def space_node_features(space: Any) -> int:
    """Width of a node feature vector of :func:`space_graphs`: node types + positions (+ graph ids)."""
    graphs = len(space.graph_names)
    return len(space.node_types) + space.max_nodes + (graphs if graphs > 1 else 0)


def space_graphs(space: Any, archs: Sequence[Any], *, prune: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The graphs of cells of any :class:`~gcnas.spaces.SearchSpace`, as dense padded tensors.

    Args:
        space: The space.
        archs: ``n`` cells of it.
        prune: Keep only live edges (:func:`live_adjacency`) where :func:`prunable`.

    Returns:
        ``x (n, S, N, F)`` float32 node features, ``adjacency (n, S, N, N)`` float32
        (``[.., u, v] = 1`` when data flows ``u -> v``) and ``mask (n, S, N)`` bool (real
        nodes; the rest is padding), with ``S = len(space.graph_names)``,
        ``N = space.max_nodes`` and ``F = space_node_features(space)``.

    Example:
        >>> from gcnas.spaces import get_space
        >>> darts = get_space("darts")
        >>> x, adjacency, mask = space_graphs(darts, [darts.sample(0)])
        >>> tuple(x.shape), tuple(adjacency.shape)
        ((1, 2, 11, 24), (1, 2, 11, 11))
    """
    count, width = len(space.graph_names), space_node_features(space)
    types, nodes = len(space.node_types), space.max_nodes
    zero_type = space.node_types.index(ZERO_OP) if prune and prunable(space) else None
    x = np.zeros((len(archs), count, nodes, width), dtype=np.float32)
    adjacency = np.zeros((len(archs), count, nodes, nodes), dtype=np.float32)
    mask = np.zeros((len(archs), count, nodes), dtype=bool)
    for i, arch in enumerate(archs):
        graphs = space.to_graph(space.from_decisions(space.to_decisions(arch)))
        if len(graphs) != count:
            raise InvalidInputError(f"{space.name}.to_graph gave {len(graphs)} graphs, graph_names lists {count}")
        for g, graph in enumerate(graphs):
            n = graph.num_nodes
            x[i, g, :n, :types] = graph.features
            x[i, g, :n, types:types + n] = np.eye(n, dtype=np.float32)
            if count > 1:
                x[i, g, :n, types + nodes + g] = 1.0
            wiring = graph.adjacency if zero_type is None else live_adjacency(graph.adjacency, graph.features,
                                                                               zero_type)
            adjacency[i, g, :n, :n] = wiring
            mask[i, g, :n] = True
    return torch.from_numpy(x), torch.from_numpy(adjacency), torch.from_numpy(mask)


def arch_data(arch: Any, space: Any = None, *, prune: bool = True) -> Data:
    """One cell of a one-graph space as a PyG ``Data``.

    Args:
        arch: The cell.
        space: Its space (a :class:`~gcnas.spaces.SearchSpace` or a name; None: ``"nb201"``).
        prune: Keep only the edges on live input-to-output paths (see module doc).

    Returns:
        ``Data(x=(n, F) float32, edge_index=(2, E) int64)``.

    Example:
        >>> from gcnas.spaces import get_space
        >>> data = arch_data(get_space("nb201").parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
        >>> data.x.shape, data.edge_index.shape
        (torch.Size([8, 15]), torch.Size([2, 0]))
    """
    from gcnas.predictors.cells import resolve_space

    space = resolve_space(space)
    if len(space.graph_names) != 1:
        raise InvalidInputError(f"arch_data reads spaces of one graph per cell; {space.name} has "
                                f"{len(space.graph_names)}: use space_graphs")
    x, adjacency, _ = space_graphs(space, [arch], prune=prune)
    n = space.to_graph(arch)[0].num_nodes
    src, dst = np.nonzero(adjacency[0, 0].numpy())
    return Data(x=x[0, 0, :n], edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)))


def arch_batch(archs: Sequence[Any], space: Any = None, *, prune: bool = True) -> Batch:
    """Many cells as one PyG ``Batch`` (a disjoint union of their graphs).

    Args:
        archs: The cells.
        space: As in :func:`arch_data`.
        prune: As in :func:`arch_data`.

    Returns:
        A ``Batch`` with ``x (sum n_i, F)``, ``edge_index (2, E)``, ``batch (sum n_i,)``.
    """
    return Batch.from_data_list([arch_data(a, space, prune=prune) for a in archs])
