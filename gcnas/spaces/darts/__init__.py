"""The DARTS / NAS-Bench-301 cell space (one folder per space, NASLib's shape).

- ``genotype.py``: :class:`Genotype`, the architecture value type, and the op names;
- ``conversions.py``: the ``Genotype(...)`` string and NAS-Bench-301's ConfigSpace dict;
- ``encodings.py``: arch2vec's cell graphs and the 24 categorical decisions;
- ``primitives.py``: the DARTS ops; ``network.py``: the evaluation network (``NetworkCIFAR``);
- ``counts.py``: its exact params and FLOPs without building it;
- ``supernet.py``: the weight-sharing supernet over both cell types and genotype derivation;
- ``space.py``: :class:`DartsSpace`, the :class:`~gcnas.spaces.SearchSpace` implementation.

Torch is imported by ``primitives``, ``network`` and ``supernet`` only when they are used.
"""

from gcnas.spaces.darts.conversions import format_genotype, from_config, parse_genotype, to_config
from gcnas.spaces.darts.encodings import DECISIONS, GRAPH_NODES, NODE_TYPES, cell_graph
from gcnas.spaces.darts.genotype import CELLS, CONCAT, OPS, Genotype
from gcnas.spaces.darts.space import NUM_GENOTYPES, SHAPES, DartsSpace

__all__ = [
    "OPS",
    "CELLS",
    "CONCAT",
    "Genotype",
    "parse_genotype",
    "format_genotype",
    "to_config",
    "from_config",
    "NODE_TYPES",
    "GRAPH_NODES",
    "DECISIONS",
    "cell_graph",
    "NUM_GENOTYPES",
    "SHAPES",
    "DartsSpace",
]
