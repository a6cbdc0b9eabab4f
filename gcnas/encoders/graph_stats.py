"""Training-free graph statistics of a cell's live part: a small, dense description of
what the cell computes, for surrogate models that see few architectures.

Only the live graph counts (:meth:`ArchGraph.live`: edges that can reach the output), so
cells that differ only in dead parts, or by relabelling nodes, get the same statistics. For every operation type (all but
``none``) the statistics are the number of live nodes of that type and the largest
number of them on one input-to-output path; then the number of live paths and the
fewest non-identity operations on any of them (0: a pure skip path, a residual). A cell
without a live path (its output is zero) gets all zeros.

Unlike arch2vec these need no training and no labels; they are coarse (many cells
share them), so they are meant to be joined with a finer embedding
(``features="arch2vec+stats"`` in :class:`~gcnas.search.BayesianOptimization`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from gcnas.spaces.nb201 import NODE_TYPES, Arch, NB201Space, Space, live_adjacency

__all__ = ["graph_statistics", "statistic_names"]

_IDENTITY = ("skip_connect",)
_SKIPPED = ("input", "output", "none")


def _op_types() -> list[int]:
    return [i for i, name in enumerate(NODE_TYPES) if name not in _SKIPPED]


def statistic_names() -> list[str]:
    """Names of the columns of :func:`graph_statistics`, in order."""
    ops = [NODE_TYPES[i] for i in _op_types()]
    return ([f"live_{op}" for op in ops] + ["live_paths"] + [f"max_{op}_on_path" for op in ops]
            + ["min_non_identity_on_path"])


def graph_statistics(archs: Sequence[Arch], *, space: Space | None = None) -> np.ndarray:
    """The live-graph statistics of each architecture.

    Args:
        archs: Architectures.
        space: Their space (its ``to_graph``); default NAS-Bench-201.

    Returns:
        ``(n, len(statistic_names()))`` float64, one row per architecture.

    Example:
        >>> from gcnas.spaces.nb201 import Arch
        >>> s = graph_statistics([Arch.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")])
        >>> dict(zip(statistic_names(), s[0]))["min_non_identity_on_path"]   # the skip path
        0.0
    """
    space = space or NB201Space()
    types = _op_types()
    if not len(archs):
        return np.zeros((0, 2 * len(types) + 2))
    graphs = [space.to_graph(a)[0] for a in archs]
    features = np.stack([g.features for g in graphs])
    adj = live_adjacency(np.stack([g.adjacency for g in graphs]), features).astype(bool)   # (B, n, n)
    kind = features.argmax(-1)                                                             # (B, n)
    B, n = kind.shape
    one_hot = np.stack([kind == t for t in types], axis=-1).astype(np.float64)             # (B, n, T)
    interior = (np.arange(n) > 0) & (np.arange(n) < n - 1)
    identity = np.isin(kind, [NODE_TYPES.index(t) for t in _IDENTITY])
    non_identity = (interior & ~identity).astype(np.float64)                               # (B, n)
    paths = np.zeros((B, n))
    paths[:, 0] = 1.0
    most = np.zeros((B, n, len(types)))
    fewest = np.zeros((B, n))
    for v in range(1, n):
        into = adj[:, :, v] & (paths > 0)                                                  # (B, n) live parents
        reached = into.any(axis=1)
        paths[:, v] = (paths * into).sum(axis=1)
        best = np.where(into[:, :, None], most, -np.inf).max(axis=1)
        low = np.where(into, fewest, np.inf).min(axis=1)
        most[:, v] = np.where(reached[:, None], best + one_hot[:, v], 0.0)
        fewest[:, v] = np.where(reached, low + non_identity[:, v], 0.0)
    live_nodes = (adj.any(axis=1) | adj.any(axis=2)) & interior
    counts = (one_hot * live_nodes[:, :, None]).sum(axis=1)
    out = np.column_stack([counts, paths[:, -1], most[:, -1], fewest[:, -1]])
    out[paths[:, -1] == 0] = 0.0
    return out
