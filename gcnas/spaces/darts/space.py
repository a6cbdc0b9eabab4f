"""The DARTS / NAS-Bench-301 cell space behind the :class:`~gcnas.spaces.SearchSpace` protocol.

Two cells (normal, reduction), four intermediate nodes each; a node reads two distinct
earlier states (of the ``i + 2`` before it) through one of seven ops each. Up to the order
of a node's two pairs (they are summed), that is ``(3 * 6 * 10 * 7**8) ** 2``, about
1.1e18 architectures: too many to list, so :meth:`DartsSpace.size` is None.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Iterator, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts.conversions import format_genotype, parse_genotype
from gcnas.spaces.darts.encodings import DECISIONS, GRAPH_NODES, NODE_TYPES, cell_graph, from_decisions, to_decisions
from gcnas.spaces.darts.genotype import CELL_NODES, CELLS, OPS, Genotype
from gcnas.spaces.protocol import Decision, SpaceGraph, as_generator

__all__ = ["NUM_GENOTYPES", "SHAPES", "DartsSpace"]

NUM_GENOTYPES: int = (math.prod(math.comb(n + 2, 2) for n in range(CELL_NODES)) * len(OPS) ** (2 * CELL_NODES)) ** 2
"""Canonical genotypes of the space (each node's two pairs unordered): 1,076,746,950,455,072,400 (about 1.08e18)."""

SHAPES: dict[str, dict[str, Any]] = {
    "nb301": dict(C=32, layers=8, num_classes=10, auxiliary=False, affine=False, pool_bn=True),
    "darts": dict(C=36, layers=20, num_classes=10, auxiliary=True, affine=True, pool_bn=False),
}
"""Named network shapes for :meth:`DartsSpace.network` and :meth:`DartsSpace.costs`.

``nb301``: 32 initial channels, 8 cells, ops as in the DARTS search network (BN without
affine parameters in the ops, BN after the pools), no auxiliary head: counted with the
``torchstat`` rule on one 32x32 image, it reproduces the ``params`` and ``flops`` columns that
NAS-Bench-Suite-Zero publishes for NAS-Bench-301 (``benchmarks/space_darts_counts.py``).
``darts``: DARTS' CIFAR-10 evaluation network (36 channels, 20 cells, auxiliary head).
"""


@functools.lru_cache(maxsize=4096)
def _costs(text: str, shape: str, input_size: int, rule: str) -> tuple[float, float]:
    from gcnas.spaces.darts.counts import network_counts

    params, flops = network_counts(parse_genotype(text), SHAPES[shape], input_size=input_size, rule=rule)
    return params / 1e6, flops / 1e6


class DartsSpace:
    """The DARTS cell space (architecture type :class:`~gcnas.spaces.darts.Genotype`).

    Example:
        >>> space = DartsSpace()
        >>> g = space.sample(seed=0)
        >>> space.parse(space.format(g)) == g
        True
        >>> len(space.neighbours(g))
        120
    """

    name = "darts"
    decisions: tuple[Decision, ...] = DECISIONS
    node_types: tuple[str, ...] = NODE_TYPES
    max_nodes: int = GRAPH_NODES
    graph_names: tuple[str, ...] = CELLS
    # One readout stretch per node: with one mean per cell graph, arch2vec's embedding of 600
    # held-out genotypes decoded 0% of them exactly, with 11 stretches 100% (docs/encoders.md).
    readout_bins: int = GRAPH_NODES

    def __repr__(self) -> str:
        return "DartsSpace()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DartsSpace)

    def __hash__(self) -> int:
        return hash(self.name)

    # -- text -----------------------------------------------------------------------------

    def parse(self, text: str) -> Genotype:
        """Read a DARTS ``Genotype(...)`` string (see :func:`~gcnas.spaces.darts.parse_genotype`)."""
        return parse_genotype(text)

    def format(self, arch: Genotype) -> str:
        """Write ``arch`` as DARTS / NAS-Bench-301 print it."""
        return format_genotype(arch)

    def key(self, arch: Genotype) -> str:
        """The genotype string of the canonical form."""
        return format_genotype(arch.canonical())

    # -- listing and drawing --------------------------------------------------------------

    def size(self) -> int | None:
        """None: the ~1.08e18 genotypes (:data:`NUM_GENOTYPES`) cannot be listed."""
        return None

    def enumerate(self) -> Iterator[Genotype]:
        """Refused: the space holds about 1.08e18 genotypes.

        Raises:
            InvalidInputError: Always; draw with :meth:`sample` instead.
        """
        raise InvalidInputError(f"the DARTS space holds {NUM_GENOTYPES:.3g} genotypes and cannot be listed; "
                                "draw architectures with sample() or search it")

    def sample(self, seed: int | np.random.Generator | None = None) -> Genotype:
        """A canonical genotype drawn uniformly: each node reads a uniform pair of distinct
        earlier states, each through a uniform op."""
        rng = as_generator(seed)
        cells = {}
        for cell in CELLS:
            pairs = []
            for node in range(CELL_NODES):
                a, b = sorted(int(v) for v in rng.choice(node + 2, size=2, replace=False))
                ops = rng.integers(len(OPS), size=2)
                pairs += [(OPS[int(ops[0])], a), (OPS[int(ops[1])], b)]
            cells[cell] = pairs
        return Genotype(normal=cells["normal"], reduce=cells["reduce"])

    def neighbours(self, arch: Genotype) -> list[Genotype]:
        """The 120 canonical genotypes one op or one input away (per cell: 8 x 6 op changes, and
        each pair moved to an earlier state that its node does not read yet)."""
        arch = arch.canonical()
        result = []
        for cell in CELLS:
            pairs = list(arch.cell(cell))
            for k, (op, src) in enumerate(pairs):
                node = k // 2
                other = pairs[k ^ 1][1]
                changes = [(o, src) for o in OPS if o != op]
                changes += [(op, s) for s in range(node + 2) if s not in (src, other)]
                for change in changes:
                    new = pairs.copy()
                    new[k] = change
                    fields = {c: (new if c == cell else list(arch.cell(c))) for c in CELLS}
                    result.append(Genotype(**fields).canonical())
        return result

    def mutate(self, arch: Genotype, seed: int | np.random.Generator | None = None) -> Genotype:
        """One of :meth:`neighbours`, drawn uniformly."""
        options = self.neighbours(arch)
        return options[int(as_generator(seed).integers(len(options)))]

    def canonical(self, arch: Genotype) -> Genotype:
        """Each node's two pairs ordered by input (:meth:`Genotype.canonical`)."""
        return arch.canonical()

    # -- encodings ----------------------------------------------------------------------------

    def to_decisions(self, arch: Genotype) -> list[int]:
        """The 24 decision values (see :data:`~gcnas.spaces.darts.encodings.DECISIONS`)."""
        return to_decisions(arch)

    def from_decisions(self, values: Sequence[int]) -> Genotype:
        """The canonical genotype of 24 decision values."""
        return from_decisions(values)

    def to_graph(self, arch: Genotype) -> tuple[SpaceGraph, SpaceGraph]:
        """arch2vec's 11-node graphs of the normal and the reduction cell."""
        return cell_graph(arch.normal), cell_graph(arch.reduce)

    # -- the real network -----------------------------------------------------------------------

    def network(self, arch: Genotype, **shape: Any) -> Any:
        """DARTS' ``NetworkCIFAR`` of ``arch``.

        Args:
            arch: The genotype.
            **shape: Keyword arguments of :class:`~gcnas.spaces.darts.network.NetworkCIFAR`
                (``C``, ``layers``, ``num_classes``, ``auxiliary``, ``drop_path_prob``, ``affine``,
                ``pool_bn``, ``in_channels``); ``**SHAPES["darts"]`` gives DARTS' CIFAR-10 network.
                The names every space takes are accepted too: ``channels`` for ``C``, ``cells``
                (in all, two of them reductions) for ``layers``.

        Returns:
            The ``torch.nn.Module``.
        """
        from gcnas.spaces.darts.network import NetworkCIFAR

        for common, own in (("channels", "C"), ("cells", "layers")):
            if common in shape:
                if own in shape:
                    raise InvalidInputError(f"give the DARTS network {own}= or {common}=, not both "
                                            f"({own}={shape[own]!r}, {common}={shape[common]!r})")
                shape[own] = shape.pop(common)
        return NetworkCIFAR(arch, **shape)

    def supernet_class(self) -> type:
        """The weight-sharing supernet of this space (:class:`~gcnas.spaces.darts.supernet.DartsSuperNet`; imports torch)."""
        from gcnas.spaces.darts.supernet import DartsSuperNet

        return DartsSuperNet

    def costs(self, arch: Genotype, *, shape: str = "nb301", input_size: int = 32,
              rule: str = "torchstat") -> dict[str, float]:
        """Params and FLOPs of ``arch``'s network, in millions (cached per genotype).

        Args:
            arch: The genotype.
            shape: A name in :data:`SHAPES`; the default with the default rule gives the
                numbers NAS-Bench-Suite-Zero publishes for NAS-Bench-301.
            input_size: Side of the square input image.
            rule: ``"torchstat"`` or ``"macs"`` (:mod:`gcnas.spaces.counts`).

        Returns:
            ``{"params": ..., "flops": ...}``.
        """
        if shape not in SHAPES:
            raise InvalidInputError(f"unknown DARTS network shape {shape!r}; choose one of {', '.join(SHAPES)}")
        params, flops = _costs(format_genotype(arch), shape, int(input_size), rule)
        return {"params": params, "flops": flops}
