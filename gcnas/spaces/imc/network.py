"""The network of one IMC macro architecture (:class:`MacroNetwork`).

The structure below is fixed: the elastic supernet of this space and the analytic counts
(:mod:`gcnas.spaces.imc.counts`) rebuild it layer for layer, and its module names are the
keys of its state dict. Every convolution has no bias and is followed by a BatchNorm;
``k x k`` convolutions pad ``k // 2``. ``network_blocks(arch, channels)`` gives each block's
channels and stride.

- ``stem``: ``Sequential(Conv2d(in_channels, channels, 3, padding=1), BatchNorm2d, ReLU)``
  (``stem.0``, ``stem.1``, ``stem.2``).
- ``stages[s][b]`` (``s`` = 0..3, ``b`` = 0..depth-1): a :class:`MacroBlock` of width
  ``w_s = stage_width(channels, s, percent)``; the first block of stages 1-3 has stride 2,
  every other block stride 1; a block reads the previous block's output (the stem's for
  the very first one). Its layers, in order:

  - ``vgg``: ``conv1`` (k, stride) ``bn1`` ``relu1``, ``conv2`` (k) ``bn2`` ``relu2``; no shortcut;
  - ``basic``: ``conv1`` (k, stride) ``bn1`` ``relu1``, ``conv2`` (k) ``bn2``, plus the
    shortcut, then ``relu2``;
  - ``bottleneck``: ``conv1`` (1x1 to ``inner = max(1, (w + 1) // 2)``) ``bn1`` ``relu1``,
    ``conv2`` (k, stride, inner to inner) ``bn2`` ``relu2``, ``conv3`` (1x1 to ``w``) ``bn3``,
    plus the shortcut, then ``relu3``;
  - ``shortcut``: ``None`` (identity) when the stride is 1 and the block keeps its channels,
    else ``Sequential(Conv2d(c_in, w, 1, stride), BatchNorm2d)`` (``shortcut.0``, ``shortcut.1``).

- ``pool``: ``AdaptiveAvgPool2d(1)``, flattened; ``classifier``: ``Linear(w_3, num_classes)`` with bias.

Each ReLU is its own module (none is called twice), so hook-based counters see every one.
"""

from __future__ import annotations

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.imc.arch import DEFAULT_CHANNELS, Block, MacroArch, network_blocks

__all__ = ["MacroBlock", "MacroNetwork"]


class MacroBlock(nn.Module):
    """One block of a macro network (see the module docstring for its layers).

    Args:
        spec: The block's type, kernel, channels and stride (from :func:`~gcnas.spaces.imc.arch.network_blocks`).

    Forward:
        ``(B, spec.in_channels, H, W)`` -> ``(B, spec.width, H', W')``, ``H' = ceil(H / stride)``.
    """

    def __init__(self, spec: Block) -> None:
        super().__init__()
        self.residual = spec.residual
        self.num_convs = len(spec.convs)
        for i, (c_in, c_out, kernel, stride) in enumerate(spec.convs, start=1):
            self.add_module(f"conv{i}", nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False))
            self.add_module(f"bn{i}", nn.BatchNorm2d(c_out))
            self.add_module(f"relu{i}", nn.ReLU(inplace=True))
        self.shortcut = (nn.Sequential(nn.Conv2d(spec.in_channels, spec.width, 1, spec.stride, bias=False),
                                       nn.BatchNorm2d(spec.width)) if spec.projection else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for i in range(1, self.num_convs + 1):
            out = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(out))
            if i == self.num_convs and self.residual:
                out = out + (x if self.shortcut is None else self.shortcut(x))
            out = getattr(self, f"relu{i}")(out)
        return out


class MacroNetwork(nn.Module):
    """The CNN of one macro architecture: stem, four stages of blocks, pooled linear classifier.

    Args:
        arch: The architecture.
        channels: The stem's width and stage 0's widest width (stage ``s`` is ``channels * 2**s``
            at 100 percent).
        num_classes: Classifier outputs.
        in_channels: Input image channels.

    Forward:
        ``(B, in_channels, H, W)`` -> logits ``(B, num_classes)``; any ``H, W >= 1`` (stages
        1-3 each halve the resolution, rounding up).

    Example:
        >>> from gcnas.spaces.imc.arch import parse_macro
        >>> arch = parse_macro("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80")
        >>> net = MacroNetwork(arch, channels=8)
        >>> net(torch.zeros(2, 3, 16, 16)).shape, type(net.stages[2][0]).__name__, net.stages[2][0].shortcut is None
        (torch.Size([2, 10]), 'MacroBlock', False)
    """

    def __init__(self, arch: MacroArch, channels: int = DEFAULT_CHANNELS, num_classes: int = 10,
                 in_channels: int = 3) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"MacroNetwork {name} must be an int >= 1, got {value!r}")
        blocks = network_blocks(arch, channels)
        self.arch = arch
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.stages = nn.ModuleList(nn.Sequential(*(MacroBlock(b) for b in blocks if b.stage == s))
                                    for s in range(len(arch.stages)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(blocks[-1].width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.stem(x)
        for stage in self.stages:
            out = stage(out)
        return self.classifier(torch.flatten(self.pool(out), 1))
