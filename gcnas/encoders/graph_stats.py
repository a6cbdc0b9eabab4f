"""Training-free graph statistics of a cell's live part: a small, dense description of
what the cell computes, for surrogate models that see few architectures.

Works on the graphs of any search space (``space.to_graph``): the inputs of a graph are
its nodes without incoming edges, its output the last node. Only the live graph counts
(nodes that are not ``none`` and lie on a path from an input to the output), so cells
that differ only in dead parts, or by relabelling nodes, get the same statistics. For
every operation type (the space's node types but the inputs', the output's and ``none``)
the statistics are the number of live nodes of that type and the largest number of them
on one input-to-output path; then the number of live paths and the fewest non-identity
operations (all but ``skip_connect``) on any of them (0: a pure skip path, a residual).
A graph without a live path (its output is zero) gets all zeros. A space with several
graphs per cell (DARTS: normal and reduce) gets one block of columns per graph.

Unlike arch2vec these need no training and no labels; they are coarse (many cells
share them), so they are meant to be joined with a finer embedding
(``features="arch2vec+stats"`` in :class:`~gcnas.search.BayesianOptimization`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gcnas.spaces import SearchSpace, resolve_space

__all__ = ["graph_statistics", "statistic_names"]

_IDENTITY = "skip_connect"
_ZERO = "none"
_PROBE_CELLS = 16  # cells drawn to find which node types are inputs and outputs


def _op_types(space: Any) -> tuple[int, ...]:
    """The node types that are operations: not ``none``, never an input or the output of a graph."""
    ends = set()
    for seed in range(_PROBE_CELLS):
        for graph in space.to_graph(space.sample(seed)):
            ids, adj = graph.node_ids, np.asarray(graph.adjacency)
            ends.update(int(t) for t in ids[adj.sum(0) == 0])
            ends.add(int(ids[-1]))
    return tuple(i for i, name in enumerate(space.node_types) if name != _ZERO and i not in ends)


def statistic_names(space: SearchSpace[Any] | str = "nb201") -> list[str]:
    """Names of the columns of :func:`graph_statistics` for ``space``, in order.

    Args:
        space: The search space or its name.
    """
    space = resolve_space(space)
    ops = [space.node_types[i] for i in _op_types(space)]
    names = ([f"live_{op}" for op in ops] + ["live_paths"] + [f"max_{op}_on_path" for op in ops]
             + ["min_non_identity_on_path"])
    if len(space.graph_names) == 1:
        return names
    return [f"{graph}.{name}" for graph in space.graph_names for name in names]


def graph_statistics(archs: Sequence[Any], *, space: SearchSpace[Any] | str = "nb201") -> np.ndarray:
    """The live-graph statistics of each architecture.

    Args:
        archs: Architectures of ``space``.
        space: Their space or its name.

    Returns:
        ``(n, len(statistic_names(space)))`` float64, one row per architecture.

    Example:
        >>> from gcnas.spaces.nb201 import Arch
        >>> s = graph_statistics([Arch.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")])
        >>> dict(zip(statistic_names(), s[0]))["min_non_identity_on_path"]   # the skip path
        0.0
    """
    space = resolve_space(space)
    width = len(statistic_names(space))
    if not len(archs):
        return np.zeros((0, width))
    graphs = [space.to_graph(a) for a in archs]
    blocks = [_graph_block(space, [g[k] for g in graphs]) for k in range(len(space.graph_names))]
    return np.column_stack(blocks)


def _graph_block(space: SearchSpace[Any], graphs: list[Any]) -> np.ndarray:
    """The statistics of one graph of each cell (padded to ``max_nodes``)."""
    types = _op_types(space)
    n = space.max_nodes
    B = len(graphs)
    adj = np.zeros((B, n, n), dtype=bool)
    kind = np.full((B, n), -1, dtype=np.int64)
    last = np.zeros(B, dtype=np.int64)
    for b, graph in enumerate(graphs):
        size = graph.num_nodes
        adj[b, :size, :size] = np.asarray(graph.adjacency, dtype=bool)
        kind[b, :size] = graph.node_ids
        last[b] = size - 1
    position = np.arange(n)
    real = kind >= 0
    source = real & ~adj.any(axis=1)                                                        # (B, n) no inputs
    output = position[None, :] == last[:, None]
    adj = _live(adj, source, output, kind != space.node_types.index(_ZERO) if _ZERO in space.node_types else real)
    one_hot = np.stack([kind == t for t in types], axis=-1).astype(np.float64)             # (B, n, T)
    interior = real & ~source & ~output
    identity = np.isin(kind, [space.node_types.index(_IDENTITY)] if _IDENTITY in space.node_types else [])
    non_identity = (interior & ~identity).astype(np.float64)                               # (B, n)
    paths = source.astype(np.float64)
    most = np.zeros((B, n, len(types)))
    fewest = np.zeros((B, n))
    for v in range(n):
        into = adj[:, :, v] & (paths > 0)                                                  # (B, n) live parents
        reached = into.any(axis=1) & ~source[:, v]
        paths[:, v] = np.where(source[:, v], 1.0, (paths * into).sum(axis=1))
        best = np.where(into[:, :, None], most, -np.inf).max(axis=1)
        low = np.where(into, fewest, np.inf).min(axis=1)
        most[:, v] = np.where(reached[:, None], best + one_hot[:, v], 0.0)
        fewest[:, v] = np.where(reached, low + non_identity[:, v], 0.0)
    live_nodes = (adj.any(axis=1) | adj.any(axis=2)) & interior
    counts = (one_hot * live_nodes[:, :, None]).sum(axis=1)
    rows = np.arange(B)
    out = np.column_stack([counts, paths[rows, last], most[rows, last], fewest[rows, last]])
    out[paths[rows, last] == 0] = 0.0
    return out


def _live(adj: np.ndarray, source: np.ndarray, output: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """The edges between nodes that are not ``none`` and lie on a path from an input to the output."""
    adj = adj & alive[:, :, None] & alive[:, None, :]
    n = adj.shape[-1]
    reach = source.copy()
    for node in range(n):
        reach |= reach[:, node, None] & adj[:, node, :]
    back = output.copy()
    for node in range(n - 1, -1, -1):
        back |= back[:, node, None] & adj[:, :, node]
    on_path = reach & back
    return adj & on_path[:, :, None] & on_path[:, None, :]
