"""A macro network as one DAG of its layers: what the GCN predictor and arch2vec read.

Nodes, in topological order: ``input`` (the stem); a ``down`` node where stages 1, 2 and 3
begin (their first block halves the resolution); for each block its convolutions in order,
then its projection shortcut (a 1x1 convolution) where it has one, then an ``add`` node where
it is residual; last ``output`` (pooling and classifier). Without the ``down`` marks two
networks whose consecutive ``vgg`` stages share kernel and width but split their depth
differently (``vgg-d2-.../vgg-d1-...`` and ``vgg-d1-.../vgg-d2-...``) would have the same
graph (about 2% of the space), and no graph model could tell them apart. Edges follow the data: a block's
input feeds its first convolution and its shortcut convolution (or, for an identity
shortcut, its ``add`` directly); each convolution feeds the next; the last convolution and
the shortcut feed the ``add``; a block's output (its ``add``, or a ``vgg`` block's last
convolution) feeds the next block, the last one ``output``.

A convolution's node type names its kernel side and its block's width percent
(``conv3x3-w60``; a bottleneck's two 1x1 convolutions and every shortcut are ``conv1x1-w<pct>``),
since channels depend on the network's ``channels`` and the stage, while the graph must not:
it is the network's at :data:`~gcnas.spaces.imc.arch.DEFAULT_CHANNELS`, which is the same at
any ``channels >= 3`` (at 1 or 2, rounding can give stage 0 its stem's width and make a
shortcut the identity that the graph still draws as a projection).
"""

from __future__ import annotations

import numpy as np

from gcnas.spaces.imc.arch import BLOCKS, DEPTHS, KERNELS, NUM_STAGES, WIDTHS, Block, MacroArch, Stage, network_blocks
from gcnas.spaces.protocol import SpaceGraph

__all__ = ["GRAPH_NAMES", "NODE_TYPES", "MAX_NODES", "macro_graph"]

GRAPH_NAMES: tuple[str, ...] = ("net",)
"""The one graph of a network."""

NODE_TYPES: tuple[str, ...] = ("input", *(f"conv{k}x{k}-w{w}" for k in (1, *KERNELS) for w in WIDTHS), "add",
                               "down", "output")
"""Node vocabulary: ``input``, 20 convolution types (kernel side 1, 3, 5, 7 times width percent), ``add``,
``down`` (a stage boundary), ``output``."""

_TYPE = {name: i for i, name in enumerate(NODE_TYPES)}


def _nodes_and_edges(arch: MacroArch) -> tuple[list[str], list[tuple[int, int]]]:
    """Node types in topological order and the edges ``(u, v)`` between them."""
    nodes, edges = ["input"], []

    def add(node_type: str, *sources: int) -> int:
        nodes.append(node_type)
        edges.extend((source, len(nodes) - 1) for source in sources)
        return len(nodes) - 1

    block_out = 0
    for block in network_blocks(arch):
        if block.stride == 2:
            block_out = add("down", block_out)
        previous = block_out
        for _, _, kernel, _ in block.convs:
            previous = add(f"conv{kernel}x{kernel}-w{block.percent}", previous)
        if block.residual:
            shortcut = add(f"conv1x1-w{block.percent}", block_out) if block.projection else block_out
            previous = add("add", previous, shortcut)
        block_out = previous
    add("output", block_out)
    return nodes, edges


def macro_graph(arch: MacroArch) -> SpaceGraph:
    """The layer DAG of ``arch``'s network (see the module docstring).

    Args:
        arch: The network.

    Returns:
        The :class:`~gcnas.spaces.SpaceGraph`: ``(n, n)`` uint8 adjacency, ``(n, len(NODE_TYPES))``
        float32 one-hot features, ``n <= MAX_NODES``.

    Example:
        >>> from gcnas.spaces.imc.arch import parse_macro
        >>> graph = macro_graph(parse_macro("basic-d1-k3-w100/vgg-d1-k3-w20/vgg-d1-k3-w20/vgg-d1-k3-w20"))
        >>> [NODE_TYPES[i] for i in graph.node_ids[:4]], int(graph.adjacency[0, 3])
        (['input', 'conv3x3-w100', 'conv3x3-w100', 'add'], 1)
    """
    nodes, edges = _nodes_and_edges(arch)
    n = len(nodes)
    adjacency = np.zeros((n, n), dtype=np.uint8)
    for u, v in edges:
        adjacency[u, v] = 1
    features = np.zeros((n, len(NODE_TYPES)), dtype=np.float32)
    features[np.arange(n), [_TYPE[t] for t in nodes]] = 1.0
    return SpaceGraph(adjacency, features)


def _block_nodes(block: Block) -> int:
    """Nodes of one block: its convolutions, a projection shortcut, an ``add`` if residual."""
    return len(block.convs) + block.projection + block.residual


def _max_nodes() -> int:
    """The largest node count of any network.

    A stage's nodes (its ``down`` mark aside) depend on its own choices only: stage 0's first block reads the stem's
    fixed width, and the first block of stages 1-3 downsamples, so it projects whatever came
    before. The maximum is therefore ``input`` and ``output`` plus each stage's own maximum,
    found by trying every block type, depth and width in that stage (the kernel adds no node).
    """
    base = Stage(BLOCKS[0], DEPTHS[0], KERNELS[0], WIDTHS[0])
    total = 2 + NUM_STAGES - 1  # input, output and the three ``down`` marks
    for s in range(NUM_STAGES):
        total += max(sum(_block_nodes(block) for block in network_blocks(MacroArch(stages)) if block.stage == s)
                     for stages in ((base,) * s + (Stage(b, d, KERNELS[0], w),) + (base,) * (NUM_STAGES - 1 - s)
                                    for b in BLOCKS for d in DEPTHS for w in WIDTHS))
    return total


MAX_NODES: int = _max_nodes()
"""The largest graph: 73 nodes, four stages of four bottleneck blocks whose first block projects
(``input`` + 3 ``down`` + 4 x (5 + 3 x 4) + ``output``)."""
