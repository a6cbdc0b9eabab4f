"""The value type of the IMC macro space: a CNN of four stages, each a stack of one block type.

A network is a stem (3x3 convolution to the first stage's widest width, BatchNorm, ReLU),
four stages with a stride-2 downsampling at the first block of stages 1, 2 and 3, then global
average pooling and a linear classifier. Each stage chooses four things:

- ``block``: one of three components, after VGG's and ResNet's convolutional layers,
  ``vgg`` (a conv-BN-ReLU pair, no shortcut), ``basic`` (ResNet's basic block: two ``k x k``
  convolutions with a shortcut) or ``bottleneck`` (ResNet's bottleneck: ``1x1``, ``k x k``,
  ``1x1`` with a shortcut; its inner width is half the block's);
- ``depth``: blocks in the stage, 1 to 4 (the network's depth adapts: 4 to 16 blocks);
- ``kernel``: the side of the block's spatial convolutions, 3, 5 or 7;
- ``width``: the block's output channels as a percentage of the stage's widest width
  (``channels * 2**stage``), 20, 40, 60, 80 or 100.

That is ``(3 * 4 * 3 * 5) ** 4 = 1,049,760,000`` networks (:data:`NUM_NETWORKS`), above the
6.4e8 of the system this space follows. A network is written as its four stages joined by
``/``, each ``block-dD-kK-wW``::

    basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80

This module imports nothing of gcnas but :mod:`gcnas.exceptions` and the protocol.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.protocol import Decision

__all__ = ["BLOCKS", "DEPTHS", "KERNELS", "WIDTHS", "NUM_STAGES", "NUM_NETWORKS", "DECISIONS", "Stage", "MacroArch",
           "parse_macro", "format_macro", "stage_width", "DEFAULT_CHANNELS", "Block", "network_blocks"]

BLOCKS: tuple[str, ...] = ("vgg", "basic", "bottleneck")
"""The three block types, in decision-value order."""

DEPTHS: tuple[int, ...] = (1, 2, 3, 4)
"""Blocks per stage."""

KERNELS: tuple[int, ...] = (3, 5, 7)
"""Side of a block's spatial convolutions."""

WIDTHS: tuple[int, ...] = (20, 40, 60, 80, 100)
"""A stage's output channels, in percent of its widest width (:func:`stage_width`)."""

NUM_STAGES: int = 4
"""Stages of every network (strides 1, 2, 2, 2)."""

NUM_NETWORKS: int = (len(BLOCKS) * len(DEPTHS) * len(KERNELS) * len(WIDTHS)) ** NUM_STAGES
"""Networks in the space: 1,049,760,000."""

DECISIONS: tuple[Decision, ...] = tuple(
    decision
    for s in range(NUM_STAGES)
    for decision in (Decision(f"stage{s}.block", BLOCKS),
                     Decision(f"stage{s}.depth", tuple(str(d) for d in DEPTHS)),
                     Decision(f"stage{s}.kernel", tuple(str(k) for k in KERNELS)),
                     Decision(f"stage{s}.width", tuple(str(w) for w in WIDTHS))))
"""16 decisions: per stage its block type, depth, kernel and width (in that order)."""

_STAGE_RE = re.compile(r"^(?P<block>[a-z]+)-d(?P<depth>\d+)-k(?P<kernel>\d+)-w(?P<width>\d+)$")


@dataclass(frozen=True)
class Stage:
    """One stage: ``depth`` blocks of type ``block`` with ``kernel x kernel`` convolutions and
    ``width`` percent of the stage's widest width.

    Example:
        >>> Stage("basic", 2, 3, 60)
        Stage(block='basic', depth=2, kernel=3, width=60)
    """

    block: str
    depth: int
    kernel: int
    width: int

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise InvalidInputError(f"unknown block type {self.block!r}; choose one of {', '.join(BLOCKS)}")
        for name, value, allowed in (("depth", self.depth, DEPTHS), ("kernel", self.kernel, KERNELS),
                                     ("width", self.width, WIDTHS)):
            if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
                raise InvalidInputError(f"stage {name} must be one of {', '.join(map(str, allowed))}, got {value!r}")

    def __str__(self) -> str:
        return f"{self.block}-d{self.depth}-k{self.kernel}-w{self.width}"


@dataclass(frozen=True)
class MacroArch:
    """A network of the IMC macro space: :data:`NUM_STAGES` stages.

    Example:
        >>> arch = parse_macro("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80")
        >>> arch.depth, arch.stages[2].block
        (10, 'bottleneck')
    """

    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if len(stages) != NUM_STAGES or not all(isinstance(s, Stage) for s in stages):
            raise InvalidInputError(f"a macro network has {NUM_STAGES} stages (Stage values), got {self.stages!r}")
        object.__setattr__(self, "stages", stages)

    @property
    def depth(self) -> int:
        """Blocks in all stages."""
        return sum(s.depth for s in self.stages)

    def __str__(self) -> str:
        return format_macro(self)


def stage_width(channels: int, stage: int, percent: int) -> int:
    """Output channels of a stage: ``percent`` of ``channels * 2**stage``, rounded, at least 1.

    Args:
        channels: The widest width of stage 0 (the network's ``channels``; also the stem's width).
        stage: 0..3.
        percent: One of :data:`WIDTHS`.

    Example:
        >>> [stage_width(32, s, 60) for s in range(4)]
        [19, 38, 77, 154]
    """
    return max(1, int(math.floor(channels * 2 ** stage * percent / 100 + 0.5)))


def parse_macro(text: str) -> MacroArch:
    """Read ``block-dD-kK-wW/...`` (four stages).

    Raises:
        InvalidInputError: naming the stage that is malformed and the expected form.
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"a macro network is a string like 'basic-d2-k3-w60/...', got {type(text).__name__}")
    parts = [p.strip() for p in text.strip().split("/")]
    if len(parts) != NUM_STAGES:
        raise InvalidInputError(f"a macro network has {NUM_STAGES} stages joined by '/', got {len(parts)} in {text!r}"
                                " (example: basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80)")
    stages = []
    for s, part in enumerate(parts):
        match = _STAGE_RE.match(part)
        if match is None:
            raise InvalidInputError(f"stage {s} of {text!r} is {part!r}; write it as BLOCK-dDEPTH-kKERNEL-wWIDTH, "
                                    "e.g. basic-d2-k3-w60")
        try:
            stages.append(Stage(match["block"], int(match["depth"]), int(match["kernel"]), int(match["width"])))
        except InvalidInputError as error:
            raise InvalidInputError(f"stage {s} of {text!r}: {error}") from None
    return MacroArch(tuple(stages))


def format_macro(arch: MacroArch) -> str:
    """The one-line form :func:`parse_macro` reads."""
    return "/".join(str(s) for s in arch.stages)


def to_decisions(arch: MacroArch) -> list[int]:
    """The 16 decision values of :data:`DECISIONS`."""
    out = []
    for s in arch.stages:
        out += [BLOCKS.index(s.block), DEPTHS.index(s.depth), KERNELS.index(s.kernel), WIDTHS.index(s.width)]
    return out


def from_decisions(values: Sequence[int]) -> MacroArch:
    """The network of 16 checked decision values (inverse of :func:`to_decisions`)."""
    v = [int(x) for x in values]
    return MacroArch(tuple(Stage(BLOCKS[v[4 * s]], DEPTHS[v[4 * s + 1]], KERNELS[v[4 * s + 2]], WIDTHS[v[4 * s + 3]])
                           for s in range(NUM_STAGES)))


DEFAULT_CHANNELS: int = 32
"""The network's default ``channels``: the stem's width and stage 0's widest width."""


@dataclass(frozen=True)
class Block:
    """One block of a network as built at some ``channels``: the one description that the
    network, the counts and the graph are all read from (:func:`network_blocks`).

    Attributes:
        stage: 0..3.
        index: Position in its stage (0: the first block, which downsamples in stages 1-3).
        block: One of :data:`BLOCKS`.
        kernel: Side of its spatial convolutions.
        percent: Its stage's width choice (one of :data:`WIDTHS`).
        in_channels: Channels entering it (the previous block's ``width``; the stem's
            ``channels`` for the network's first block).
        width: Channels leaving it (:func:`stage_width`).
        stride: 2 for the first block of stages 1-3, else 1.

    Example:
        >>> first = network_blocks(parse_macro("bottleneck-d1-k5-w60/vgg-d1-k3-w20/vgg-d1-k3-w20/vgg-d1-k3-w20"))[0]
        >>> first.convs, first.projection
        (((32, 10, 1, 1), (10, 10, 5, 1), (10, 19, 1, 1)), True)
    """

    stage: int
    index: int
    block: str
    kernel: int
    percent: int
    in_channels: int
    width: int
    stride: int

    @property
    def residual(self) -> bool:
        """The block adds a shortcut to its last convolution (``basic`` and ``bottleneck``)."""
        return self.block != "vgg"

    @property
    def projection(self) -> bool:
        """The shortcut is a 1x1 convolution with BN (it changes the resolution or the channels)."""
        return self.residual and (self.stride != 1 or self.in_channels != self.width)

    @property
    def convs(self) -> tuple[tuple[int, int, int, int], ...]:
        """The main path's convolutions in order, each ``(in_channels, out_channels, kernel, stride)``.

        ``vgg`` and ``basic``: two ``kernel x kernel`` convolutions, the first with the stride.
        ``bottleneck``: ``1x1`` to the inner width ``max(1, (width + 1) // 2)``, ``kernel x kernel``
        with the stride, ``1x1`` to ``width``.
        """
        c_in, w, k, s = self.in_channels, self.width, self.kernel, self.stride
        if self.block == "bottleneck":
            inner = max(1, (w + 1) // 2)
            return (c_in, inner, 1, 1), (inner, inner, k, s), (inner, w, 1, 1)
        return (c_in, w, k, s), (w, w, k, 1)


def network_blocks(arch: MacroArch, channels: int = DEFAULT_CHANNELS) -> tuple[Block, ...]:
    """Every block of ``arch``'s network at ``channels``, stage by stage.

    Args:
        arch: The network.
        channels: The stem's width and stage 0's widest width.

    Returns:
        ``arch.depth`` blocks, in the order data flows through them.

    Raises:
        InvalidInputError: ``arch`` is not a :class:`MacroArch`, or ``channels`` not an int >= 1.
    """
    if not isinstance(arch, MacroArch):
        raise InvalidInputError(f"expected a MacroArch, got {type(arch).__name__} {arch!r}; "
                                "read one with parse_macro(text)")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise InvalidInputError(f"channels must be an int >= 1, got {channels!r}")
    blocks, c_in = [], channels
    for s, stage in enumerate(arch.stages):
        width = stage_width(channels, s, stage.width)
        for index in range(stage.depth):
            blocks.append(Block(s, index, stage.block, stage.kernel, stage.width, c_in, width,
                                2 if s > 0 and index == 0 else 1))
            c_in = width
    return tuple(blocks)
