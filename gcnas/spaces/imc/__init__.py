"""The IMC macro space: CNNs of adaptable depth from VGG- and ResNet-style blocks, searched for
accuracy and in-memory-computing latency / energy.

- ``arch.py``: :class:`MacroArch` (four :class:`Stage` values), its one-line notation, the
  16 categorical decisions, and :func:`network_blocks` (each block's channels and stride);
- ``network.py``: :class:`~gcnas.spaces.imc.network.MacroNetwork`, the network of one architecture;
- ``counts.py``: its exact params and FLOPs from its layer list, without building it;
- ``graph.py``: the network as one layer DAG (the GCN's and arch2vec's input);
- ``space.py``: :class:`ImcSpace`, the :class:`~gcnas.spaces.SearchSpace` implementation.

Torch is imported by ``network`` (and the supernet) only when they are used.
"""

from gcnas.spaces.imc.arch import (BLOCKS, DECISIONS, DEFAULT_CHANNELS, DEPTHS, KERNELS, NUM_NETWORKS, NUM_STAGES, WIDTHS,
                                   Block, MacroArch, Stage, format_macro, network_blocks, parse_macro, stage_width)
from gcnas.spaces.imc.counts import Layer, network_counts, network_layers
from gcnas.spaces.imc.graph import GRAPH_NAMES, MAX_NODES, NODE_TYPES, macro_graph
from gcnas.spaces.imc.space import ImcSpace

__all__ = ["BLOCKS", "DEPTHS", "KERNELS", "WIDTHS", "NUM_STAGES", "NUM_NETWORKS", "DECISIONS", "Stage", "MacroArch",
           "parse_macro", "format_macro", "stage_width", "DEFAULT_CHANNELS", "Block", "network_blocks", "Layer",
           "network_layers", "network_counts", "GRAPH_NAMES", "NODE_TYPES", "MAX_NODES", "macro_graph", "ImcSpace"]
