"""Encodings of DARTS genotypes: arch2vec's cell graphs and the categorical decisions.

Graphs (arch2vec, Yan et al., NeurIPS 2020, DARTS experiments): each cell is an 11-node DAG
in topological order,

- node 0 ``c_k-2`` and node 1 ``c_k-1``: the cell's two inputs;
- nodes ``2 + 2i`` and ``3 + 2i``: the two operations of intermediate node ``i`` (their
  sum is that node's state), typed by their op;
- node 10 ``output``: the concatenation of the four intermediate states, so it reads all
  eight op nodes.

An op node that reads input 0 or 1 has an edge from node 0 or 1; one that reads
intermediate node ``j`` (input ``j + 2``) has edges from both op nodes of ``j``. The node
vocabulary is arch2vec's, ``none`` included (a genotype never holds it; the vocabulary
stays the one arch2vec's DARTS models were trained with).

Decisions: per cell and intermediate node, which two distinct inputs it reads (one of
``C(i + 2, 2)`` pairs, lexicographic) and the op on the lower and on the higher input.
A decision vector and a canonical genotype determine each other.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts.genotype import CELL_NODES, CELLS, OPS, Genotype
from gcnas.spaces.protocol import Decision, SpaceGraph

__all__ = ["NODE_TYPES", "GRAPH_NODES", "INPUT_PAIRS", "DECISIONS", "cell_graph", "to_decisions", "from_decisions"]

NODE_TYPES: tuple[str, ...] = ("c_k-2", "c_k-1", "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                               "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5", "output")
"""Node labels of :func:`cell_graph` (arch2vec's order)."""

GRAPH_NODES: int = 2 + 2 * CELL_NODES + 1
"""Nodes per cell graph: two inputs, eight op nodes, the output (11)."""

INPUT_PAIRS: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple(itertools.combinations(range(node + 2), 2)) for node in range(CELL_NODES))
"""For each intermediate node, the input pairs it may read, in decision-value order."""

DECISIONS: tuple[Decision, ...] = tuple(
    decision
    for cell in CELLS
    for node in range(CELL_NODES)
    for decision in (Decision(f"{cell}.node{node + 2}.inputs", tuple(f"{a}_{b}" for a, b in INPUT_PAIRS[node])),
                     Decision(f"{cell}.node{node + 2}.op_first", OPS),
                     Decision(f"{cell}.node{node + 2}.op_second", OPS)))
"""24 decisions: for each cell and node, its input pair, the op on its lower input, the op on its higher input."""

_TYPE_ID = {name: i for i, name in enumerate(NODE_TYPES)}
_OP_ID = {name: i for i, name in enumerate(OPS)}
_OUTPUT = GRAPH_NODES - 1


def cell_graph(pairs: Sequence[tuple[str, int]]) -> SpaceGraph:
    """The arch2vec graph of one cell.

    Args:
        pairs: The cell's eight ``(op, input)`` pairs (``Genotype.normal`` or ``.reduce``).

    Returns:
        A :class:`SpaceGraph` with ``(11, 11)`` adjacency and ``(11, 11)`` one-hot features
        over :data:`NODE_TYPES`.

    Example:
        >>> from gcnas.spaces.darts import DartsSpace
        >>> g = cell_graph(DartsSpace().sample(0).normal)
        >>> int(g.adjacency[:, 10].sum())     # the output reads all eight op nodes
        8
    """
    adjacency = np.zeros((GRAPH_NODES, GRAPH_NODES), dtype=np.uint8)
    features = np.zeros((GRAPH_NODES, len(NODE_TYPES)), dtype=np.float32)
    features[0, _TYPE_ID["c_k-2"]] = 1.0
    features[1, _TYPE_ID["c_k-1"]] = 1.0
    features[_OUTPUT, _TYPE_ID["output"]] = 1.0
    for k, (op, src) in enumerate(pairs):
        node = 2 + k
        features[node, _TYPE_ID[op]] = 1.0
        if src < 2:
            adjacency[src, node] = 1
        else:
            adjacency[2 + 2 * (src - 2), node] = 1
            adjacency[3 + 2 * (src - 2), node] = 1
        adjacency[node, _OUTPUT] = 1
    return SpaceGraph(adjacency, features)


def to_decisions(genotype: Genotype) -> list[int]:
    """The 24 decision values of ``genotype`` (its canonical form; see :data:`DECISIONS`)."""
    values: list[int] = []
    for cell in CELLS:
        pairs = genotype.cell(cell)
        for node in range(CELL_NODES):
            first, second = sorted(pairs[2 * node:2 * node + 2], key=lambda p: p[1])
            values += [INPUT_PAIRS[node].index((first[1], second[1])), _OP_ID[first[0]], _OP_ID[second[0]]]
    return values


def from_decisions(values: Sequence[int]) -> Genotype:
    """The canonical genotype of 24 decision values.

    Raises:
        InvalidInputError: A wrong length, or a value out of its decision's range.
    """
    values = list(values)
    if len(values) != len(DECISIONS):
        raise InvalidInputError(f"darts: expected {len(DECISIONS)} decision values, got {len(values)}")
    for decision, value in zip(DECISIONS, values):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                or not 0 <= value < decision.size:
            raise InvalidInputError(f"darts: decision {decision.name!r} must be an integer in 0..{decision.size - 1}, "
                                    f"got {value!r}")
    cells: dict[str, list[tuple[str, int]]] = {}
    it = iter(int(v) for v in values)
    for cell in CELLS:
        pairs: list[tuple[str, int]] = []
        for node in range(CELL_NODES):
            a, b = INPUT_PAIRS[node][next(it)]
            pairs += [(OPS[next(it)], a), (OPS[next(it)], b)]
        cells[cell] = pairs
    return Genotype(normal=cells["normal"], reduce=cells["reduce"])
