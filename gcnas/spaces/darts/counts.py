"""Exact params and FLOPs of a genotype's network without building it.

A DARTS network is a skeleton that does not depend on the genotype (stem, the two 1x1
preprocessing blocks of every cell, the classifier, the auxiliary head) plus one op per
edge of every cell, and every counting rule of :mod:`gcnas.spaces.counts` sums over leaf
modules. So a genotype's counts are the skeleton's (counted once per shape: one network
built, its ops' counts taken away) plus each edge's op, counted once per (op, channels,
stride, map size) and kept. That takes under a millisecond instead of the ~0.1 s of building
and tracing a 32-channel network, which is what lets search refresh a pool of candidate cells
every step with their costs as features. The result equals counting the built network
exactly (``tests/spaces/darts/test_counts.py``).
"""

from __future__ import annotations

import functools
from typing import Any, Iterator

from gcnas.spaces.darts.genotype import CELL_NODES, Genotype

__all__ = ["network_counts"]


def _edges(genotype: Genotype, input_size: int, C: int = 36, layers: int = 20,
           **_: Any) -> Iterator[tuple[str, int, int, int]]:
    """``(op, channels, stride, input side)`` of every edge of the network, cell by cell."""
    from gcnas.spaces.darts.network import reduction_layers

    reductions = reduction_layers(layers)
    side, channels = input_size, C
    for index in range(layers):
        reduction = index in reductions
        if reduction:
            channels *= 2
        out_side = (side + 1) // 2 if reduction else side
        pairs = genotype.reduce if reduction else genotype.normal
        for op, src in pairs:
            from_input = src < 2
            stride = 2 if reduction and from_input else 1
            yield op, channels, stride, side if from_input else out_side
        side = out_side


@functools.lru_cache(maxsize=None)
def _op_counts(op: str, channels: int, stride: int, side: int, affine: bool, pool_bn: bool,
               rule: str) -> tuple[int, int]:
    from gcnas.spaces.counts import count_module
    from gcnas.spaces.darts.primitives import make_op

    counts = count_module(make_op(op, channels, stride, affine=affine, pool_bn=pool_bn), (channels, side, side),
                          rule=rule)
    return counts.params, counts.flops


def _edge_sum(genotype: Genotype, shape: dict[str, Any], input_size: int, rule: str) -> tuple[int, int]:
    params = flops = 0
    for op, channels, stride, side in _edges(genotype, input_size=input_size, **shape):
        p, f = _op_counts(op, channels, stride, side, bool(shape.get("affine", True)),
                          bool(shape.get("pool_bn", False)), rule)
        params, flops = params + p, flops + f
    return params, flops


@functools.lru_cache(maxsize=64)
def _skeleton(shape_items: tuple[tuple[str, Any], ...], input_size: int, rule: str) -> tuple[int, int]:
    """Counts of everything but the edges' ops: one network built and its ops taken away."""
    from gcnas.spaces.counts import count_module
    from gcnas.spaces.darts.network import NetworkCIFAR

    shape = dict(shape_items)
    cell = tuple(("sep_conv_3x3", src) for node in range(CELL_NODES) for src in (node, node + 1))
    reference = Genotype(normal=cell, reduce=cell)
    whole = count_module(NetworkCIFAR(reference, **shape), (3, input_size, input_size), rule=rule)
    params, flops = _edge_sum(reference, shape, input_size, rule)
    return whole.params - params, whole.flops - flops


def network_counts(genotype: Genotype, shape: dict[str, Any], *, input_size: int = 32,
                   rule: str = "torchstat") -> tuple[int, int]:
    """Params and FLOPs of ``NetworkCIFAR(genotype, **shape)`` on one ``input_size`` image.

    Args:
        genotype: The cells.
        shape: The keyword arguments of :class:`~gcnas.spaces.darts.network.NetworkCIFAR`
            (``C``, ``layers``, ``num_classes``, ``auxiliary``, ``affine``, ``pool_bn``), e.g. an
            entry of :data:`~gcnas.spaces.darts.SHAPES`.
        input_size: Side of the square RGB input.
        rule: ``"torchstat"`` or ``"macs"`` (:mod:`gcnas.spaces.counts`).

    Returns:
        ``(params, flops)``, plain counts, equal to ``count_module`` on the built network.

    Example:
        >>> from gcnas.spaces.darts import SHAPES, DartsSpace
        >>> network_counts(DartsSpace().sample(0), SHAPES["nb301"])[0] > 0
        True
    """
    skeleton = _skeleton(tuple(sorted(shape.items())), int(input_size), rule)
    params, flops = _edge_sum(genotype, shape, int(input_size), rule)
    return skeleton[0] + params, skeleton[1] + flops
