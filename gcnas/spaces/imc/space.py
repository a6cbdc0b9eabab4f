"""The IMC macro space behind the :class:`~gcnas.spaces.SearchSpace` protocol (:class:`ImcSpace`).

Sixteen independent decisions (per stage: block type, depth, kernel, width) make
1,049,760,000 networks (:data:`~gcnas.spaces.imc.arch.NUM_NETWORKS`), each its own canonical form:
too many to list, so :meth:`ImcSpace.size` is None. Every decision vector is one network,
so drawing each decision uniformly draws uniformly over the space.
"""

from __future__ import annotations

import functools
from typing import Any, Iterator, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.imc.arch import (DECISIONS, DEFAULT_CHANNELS, NUM_NETWORKS, MacroArch, format_macro, from_decisions,
                                   parse_macro, to_decisions)
from gcnas.spaces.imc.graph import GRAPH_NAMES, MAX_NODES, NODE_TYPES, macro_graph
from gcnas.spaces.protocol import Decision, SpaceGraph, as_generator, check_decisions

__all__ = ["ImcSpace"]



def _checked(arch: Any) -> MacroArch:
    if not isinstance(arch, MacroArch):
        raise InvalidInputError(f"expected an IMC MacroArch, got {type(arch).__name__} {arch!r}; "
                                "read one with ImcSpace().parse(text)")
    return arch


@functools.lru_cache(maxsize=4096)
def _costs(arch: MacroArch, channels: int, input_size: int, num_classes: int, rule: str) -> tuple[float, float]:
    from gcnas.spaces.imc.counts import network_counts

    params, flops = network_counts(arch, channels=channels, num_classes=num_classes, input_size=input_size, rule=rule)
    return params / 1e6, flops / 1e6


class ImcSpace:
    """The IMC macro space (architecture type :class:`~gcnas.spaces.imc.MacroArch`).

    Example:
        >>> space = ImcSpace()
        >>> arch = space.parse("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80")
        >>> space.format(space.sample(0)) == space.format(space.sample(0)), len(space.neighbours(arch))
        (True, 44)
        >>> space.costs(arch)
        {'params': 2.13781, 'flops': 85.382551}
    """

    name = "imc"
    decisions: tuple[Decision, ...] = DECISIONS
    node_types: tuple[str, ...] = NODE_TYPES
    max_nodes: int = MAX_NODES
    graph_names: tuple[str, ...] = GRAPH_NAMES

    def __repr__(self) -> str:
        return "ImcSpace()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImcSpace)

    def __hash__(self) -> int:
        return hash(self.name)

    # -- text -----------------------------------------------------------------------------

    def parse(self, text: str) -> MacroArch:
        """Read ``block-dD-kK-wW/...`` (four stages; :func:`~gcnas.spaces.imc.parse_macro`).

        Raises:
            InvalidInputError: naming the malformed stage and the expected form.
        """
        return parse_macro(text)

    def format(self, arch: MacroArch) -> str:
        """The one-line form :meth:`parse` reads."""
        return format_macro(_checked(arch))

    def key(self, arch: MacroArch) -> str:
        """The one-line form: no two networks of the space are equivalent, so this is :meth:`format`."""
        return self.format(arch)

    # -- listing and drawing --------------------------------------------------------------

    def size(self) -> int | None:
        """None: the 1,049,760,000 networks (:data:`~gcnas.spaces.imc.NUM_NETWORKS`) are not listed."""
        return None

    def enumerate(self) -> Iterator[MacroArch]:
        """Refused: the space holds about 1.05e9 networks.

        Raises:
            InvalidInputError: Always; draw with :meth:`sample` instead.
        """
        raise InvalidInputError(f"the IMC macro space holds {NUM_NETWORKS:,} networks and cannot be listed; "
                                "draw architectures with sample() or search it")

    def sample(self, seed: int | np.random.Generator | None = None) -> MacroArch:
        """A network drawn uniformly: each of the 16 decisions uniformly and independently.

        Args:
            seed: An int seed, a NumPy generator (advanced in place) or None.
        """
        rng = as_generator(seed)
        return from_decisions([int(rng.integers(d.size)) for d in DECISIONS])

    def neighbours(self, arch: MacroArch) -> list[MacroArch]:
        """The 44 networks one decision value away: per stage, the 2 other block types, 3 other
        depths, 2 other kernels and 4 other widths, in decision then value order."""
        values = to_decisions(_checked(arch))
        result = []
        for i, decision in enumerate(DECISIONS):
            for value in range(decision.size):
                if value != values[i]:
                    result.append(from_decisions(values[:i] + [value] + values[i + 1:]))
        return result

    def mutate(self, arch: MacroArch, seed: int | np.random.Generator | None = None) -> MacroArch:
        """One of :meth:`neighbours`, drawn uniformly."""
        options = self.neighbours(arch)
        return options[int(as_generator(seed).integers(len(options)))]

    def canonical(self, arch: MacroArch) -> MacroArch:
        """``arch`` itself: every network of the space is its own class."""
        return _checked(arch)

    # -- encodings ----------------------------------------------------------------------------

    def to_decisions(self, arch: MacroArch) -> list[int]:
        """The 16 decision values: per stage, block, depth, kernel and width (:data:`~gcnas.spaces.imc.DECISIONS`)."""
        return to_decisions(_checked(arch))

    def from_decisions(self, values: Sequence[int]) -> MacroArch:
        """The network of 16 decision values.

        Raises:
            InvalidInputError: Not 16 values, or one out of its decision's range (named).
        """
        return from_decisions(check_decisions(self, values))

    def to_graph(self, arch: MacroArch) -> tuple[SpaceGraph]:
        """The network's layer DAG (:func:`~gcnas.spaces.imc.graph.macro_graph`), the one graph ``"net"``."""
        return (macro_graph(_checked(arch)),)

    # -- the real network -----------------------------------------------------------------------

    def network(self, arch: MacroArch, cells: int | None = None, **shape: Any) -> Any:
        """The :class:`~gcnas.spaces.imc.network.MacroNetwork` of ``arch``.

        Args:
            arch: The network.
            cells: Must be None: accepted so that callers written for cell spaces (which pass
                ``cells``) reach this space too; the depth is part of the architecture here.
            **shape: ``channels`` (32), ``num_classes`` (10), ``in_channels`` (3).

        Returns:
            The ``torch.nn.Module``, ``(N, in_channels, H, W)`` images to ``(N, num_classes)`` logits.

        Raises:
            InvalidInputError: ``cells`` is not None.
        """
        if cells is not None:
            raise InvalidInputError(f"the IMC macro space takes no cells={cells!r}: each stage's depth (1-4 blocks) "
                                    "is part of the architecture; pass cells=None or leave it out")
        from gcnas.spaces.imc.network import MacroNetwork

        return MacroNetwork(_checked(arch), **shape)

    def supernet_class(self) -> type:
        """The weight-sharing supernet of this space (:class:`~gcnas.spaces.imc.supernet.MacroSuperNet`;
        imports torch)."""
        from gcnas.spaces.imc.supernet import MacroSuperNet

        return MacroSuperNet

    def layer_shapes(self, arch: MacroArch, *, channels: int = DEFAULT_CHANNELS, input_size: int = 32,
                     num_classes: int = 10) -> list[Any]:
        """Every leaf layer of ``arch``'s network with its channels, kernel and map sizes, without
        building it (:func:`~gcnas.spaces.imc.counts.network_layers`): what the IMC cost model
        reads instead of tracing the network (``gcnas.hardware.imc_costs_of``).

        Args:
            arch: The network.
            channels: The stem's width and stage 0's widest width.
            input_size: Side of the square 3-channel input image.
            num_classes: Classifier outputs.

        Returns:
            The :class:`~gcnas.spaces.imc.counts.Layer` records, in the order data flows through them.
        """
        from gcnas.spaces.imc.counts import network_layers

        return network_layers(_checked(arch), channels=channels, num_classes=num_classes, input_size=input_size)

    def costs(self, arch: MacroArch, *, channels: int = DEFAULT_CHANNELS, input_size: int = 32, num_classes: int = 10,
              rule: str = "torchstat") -> dict[str, float]:
        """Exact params and FLOPs of ``arch``'s network in millions, counted analytically (cached per network).

        Args:
            arch: The network.
            channels: The stem's width and stage 0's widest width.
            input_size: Side of the square 3-channel input image.
            num_classes: Classifier outputs.
            rule: ``"torchstat"`` or ``"macs"`` (:mod:`gcnas.spaces.counts`); both give what
                :func:`gcnas.spaces.count_module` counts on the built network.

        Returns:
            ``{"params": ..., "flops": ...}``.
        """
        params, flops = _costs(_checked(arch), channels, input_size, num_classes, rule)
        return {"params": params, "flops": flops}
