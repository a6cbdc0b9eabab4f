"""The exact NAS-Bench-201 network of one architecture, and the macro skeleton.

The skeleton (shared with :class:`gcnas.supernet.SuperNet`): a 3x3 convolution stem with
BatchNorm, three stages of ``cells`` cells with ``C``, ``2C`` and ``4C`` channels joined by
two residual reduction blocks, then BatchNorm-ReLU, global average pooling and a linear
classifier. Parameter names equal those of the official implementation (``xautodl``'s
``TinyNetwork``), so the official state dict loads into :func:`build_network` unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201.space import EDGES, OPS, Arch
from gcnas.spaces.nb201.primitives import ResNetBasicblock, make_op

__all__ = ["MacroNetwork", "InferCell", "NB201Network", "build_network", "live_edges"]


def live_edges(ops: tuple[int, ...]) -> list[int]:
    """The edges of a cell that can change its output, in evaluation order.

    An edge is live when its op is not ``none`` and its target node is the output node or
    feeds it through other live edges. Dead edges only cost time: skipping them leaves
    the output (and every gradient) unchanged.

    Args:
        ops: The six op ids of the cell, in :data:`gcnas.spaces.nb201.EDGES` order.

    Returns:
        Indices into :data:`gcnas.spaces.nb201.EDGES`, sorted.
    """
    needed = {3}
    live: list[int] = []
    for e in reversed(range(len(EDGES))):
        to, frm = EDGES[e]
        if ops[e] != 0 and to in needed:
            live.append(e)
            needed.add(frm)
    return sorted(live)


def run_cell(layers: nn.ModuleList, x: torch.Tensor, ops: tuple[int, ...], index_of=None) -> torch.Tensor:
    """Evaluate a cell on ``x`` with the given op per edge, skipping dead edges.

    Args:
        layers: Modules indexed by edge (or by ``index_of(edge, op)``).
        x: ``(N, C, H, W)`` input.
        ops: Six op ids.
        index_of: Maps ``(edge, op)`` to a position in ``layers``; ``None`` means ``edge``.

    Returns:
        ``(N, C, H, W)``: node 3; zeros when no live path reaches it.
    """
    nodes: list[torch.Tensor | None] = [x, None, None, None]
    for e in live_edges(ops):
        to, frm = EDGES[e]
        source = nodes[frm] if nodes[frm] is not None else torch.zeros_like(x)
        layer = layers[e if index_of is None else index_of(e, ops[e])]
        out = layer(source)
        nodes[to] = out if nodes[to] is None else nodes[to] + out
    return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class InferCell(nn.Module):
    """A NAS-Bench-201 cell with one fixed operation per edge.

    Args:
        arch: The architecture.
        channels: Channels in and out.
    """

    def __init__(self, arch: Arch, channels: int) -> None:
        super().__init__()
        self.arch = arch
        self.layers = nn.ModuleList(make_op(OPS[op], channels) for op in arch.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, C, H, W)``."""
        return run_cell(self.layers, x, self.arch.ops)


class MacroNetwork(nn.Module):
    """The NAS-Bench-201 skeleton; subclasses supply the cell through :meth:`make_cell`.

    Args:
        channels: Channels of the first stage (``C``).
        cells: Cells per stage (``N``).
        num_classes: Classifier outputs.
    """

    def __init__(self, channels: int = 16, cells: int = 5, num_classes: int = 10) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("cells", cells), ("num_classes", num_classes)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        self.channels, self.num_cells, self.num_classes = channels, cells, num_classes
        c = channels
        self.stem = nn.Sequential(nn.Conv2d(3, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c))
        self.cells = nn.ModuleList()
        for stage in range(3):
            if stage:
                self.cells.append(ResNetBasicblock(c, 2 * c))
                c *= 2
            for _ in range(cells):
                self.cells.append(self.make_cell(c))
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def make_cell(self, channels: int) -> nn.Module:
        """The cell module of one position, with ``channels`` in and out."""
        raise NotImplementedError

    def head(self, feature: torch.Tensor) -> torch.Tensor:
        """``(N, 4C, h, w)`` features -> ``(N, num_classes)`` logits."""
        out = self.global_pooling(self.lastact(feature))
        return self.classifier(out.flatten(1))

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a clear error unless ``x`` is an ``(N, 3, H, W)`` image batch."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise InvalidInputError(f"expected an image batch of shape (N, 3, H, W), got {tuple(x.shape)}")


class NB201Network(MacroNetwork):
    """The standalone NAS-Bench-201 network of one architecture.

    Args:
        arch: The cell used at every cell position.
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
    """

    def __init__(self, arch: Arch, channels: int = 16, cells: int = 5, num_classes: int = 10) -> None:
        if not isinstance(arch, Arch):
            raise InvalidInputError(f"arch must be an Arch, got {type(arch).__name__}; use Arch.parse(text)")
        self.arch = arch
        super().__init__(channels, cells, num_classes)

    def make_cell(self, channels: int) -> nn.Module:
        return InferCell(self.arch, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` images -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        return self.head(feature)


def build_network(arch: Arch, channels: int = 16, cells: int = 5, num_classes: int = 10) -> nn.Module:
    """The exact NAS-Bench-201 network of ``arch``, freshly initialised.

    Args:
        arch: The architecture (its cell is repeated ``3 * cells`` times).
        channels: Channels of the first stage (NAS-Bench-201: 16).
        cells: Cells per stage (NAS-Bench-201: 5).
        num_classes: Classifier outputs (10 for CIFAR-10, 100 for CIFAR-100, 120 for
            ImageNet16-120).

    Returns:
        A module mapping ``(N, 3, H, W)`` images to ``(N, num_classes)`` logits.

    Example:
        >>> net = build_network(Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        ...                                      "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"))
        >>> round(sum(p.numel() for p in net.parameters()) / 1e6, 4)
        1.5315
    """
    return NB201Network(arch, channels=channels, cells=cells, num_classes=num_classes)
