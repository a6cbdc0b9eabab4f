"""The NAS-Bench-201 / NATS-Bench topology space (one folder per space, NASLib's shape).

- ``space.py``: :class:`Arch`, the architecture value type (six op ids), its NATS-Bench
  string, the 8-node graph, the isomorphism classes (6,466 canonical cells), and
  :class:`NB201Space`, the :class:`~gcnas.spaces.SearchSpace` implementation;
- ``primitives.py``: the NAS-Bench-201 ops and the residual reduction block;
- ``network.py``: the exact NAS-Bench-201 network of one cell (xautodl's ``TinyNetwork``);
- ``supernet.py``: the weight-sharing supernet over the 6 edges x 5 ops, and its routes;
- ``costs.py``: exact params / FLOPs of the network, layer by layer (NAS-Bench-201's rule).

Torch is imported by ``primitives``, ``network`` and ``supernet`` only when they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gcnas.spaces.nb201.counts import Layer, network_costs, network_costs_many, network_layers
from gcnas.spaces.nb201.space import (EDGES, NODE_TYPES, NUM_ARCHS, OPS, Arch, ArchGraph, NB201Space, Space,
                                      as_generator, live_adjacency)

_TORCH_EXPORTS = {
    "MacroNetwork": "network",
    "NB201Network": "network",
    "build_network": "network",
    "live_edges": "network",
    "make_op": "primitives",
    "DiscreteRoute": "supernet",
    "NB201Routes": "supernet",
    "SuperNet": "supernet",
}
"""Names whose modules import torch, loaded on first use so that parsing and sampling stay light."""

__all__ = [
    "OPS",
    "EDGES",
    "NODE_TYPES",
    "NUM_ARCHS",
    "Arch",
    "ArchGraph",
    "Space",
    "NB201Space",
    "as_generator",
    "live_adjacency",
    "Layer",
    "network_costs",
    "network_costs_many",
    "network_layers",
    *_TORCH_EXPORTS,
]


def __getattr__(name: str) -> Any:
    # PEP 562: import the torch modules on first use (gcnas._lazy would break the layering rule).
    import importlib

    if name not in _TORCH_EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_TORCH_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from gcnas.spaces.nb201.network import MacroNetwork, NB201Network, build_network, live_edges
    from gcnas.spaces.nb201.primitives import make_op
    from gcnas.spaces.nb201.supernet import DiscreteRoute, NB201Routes, SuperNet
