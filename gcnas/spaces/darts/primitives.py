"""The operations of the DARTS cell space, as DARTS (Liu et al., ICLR 2019) defines them.

Every op maps ``C`` channels to ``C`` channels; ``stride=2`` halves the resolution (the
edges that leave a reduction cell's two inputs). The convolutions are ReLU-conv-BN:

- ``sep_conv_kxk``: two stacked blocks of ReLU, depthwise ``k x k`` conv, pointwise conv, BN
  (the first block carries the stride);
- ``dil_conv_kxk``: one block of ReLU, depthwise ``k x k`` conv with dilation 2, pointwise
  conv, BN (receptive field 5x5 / 9x9);
- ``max_pool_3x3`` / ``avg_pool_3x3`` (average without the padding), followed by a BN
  without affine parameters in the search network (``pool_bn=True``), bare in the
  evaluation network;
- ``skip_connect``: the identity, or :class:`FactorizedReduce` where the stride is 2;
- ``none`` (supernet only): zeros of the output shape.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts.genotype import OPS

__all__ = ["PRIMITIVES", "ReLUConvBN", "SepConv", "DilConv", "FactorizedReduce", "Zero", "make_op"]

PRIMITIVES: tuple[str, ...] = ("none", *OPS)
"""The supernet's candidate ops on every edge: ``none`` then the seven genotype ops."""


class ReLUConvBN(nn.Sequential):
    """ReLU, ``k x k`` conv (no bias), BN: ``(B, C_in, H, W) -> (B, C_out, H/stride, W/stride)``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine))


class DilConv(nn.Sequential):
    """ReLU, depthwise ``k x k`` conv with ``dilation``, pointwise conv, BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
                 affine: bool = True) -> None:
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_in, kernel, stride, padding, dilation=dilation, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out, affine=affine))


class SepConv(nn.Sequential):
    """Two :class:`DilConv` blocks without dilation; the first carries the stride and keeps ``c_in``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(DilConv(c_in, c_in, kernel, stride, padding, 1, affine),
                         DilConv(c_in, c_out, kernel, 1, padding, 1, affine))


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing half the pixels: two stride-2 1x1 convs, the second
    on the input shifted by one pixel, concatenated, then BN. ``(B, C_in, H, W) -> (B, C_out, H/2, W/2)``
    (``H``, ``W`` even)."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise InvalidInputError(f"FactorizedReduce needs an even c_out, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the op's output (``stride`` 1 or 2)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


def _pool(kind: str, c: int, stride: int, pool_bn: bool) -> nn.Module:
    pool = (nn.MaxPool2d(3, stride=stride, padding=1) if kind == "max"
            else nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False))
    return nn.Sequential(pool, nn.BatchNorm2d(c, affine=False)) if pool_bn else pool


_FACTORIES: dict[str, Callable[[int, int, bool, bool], nn.Module]] = {
    "none": lambda c, s, affine, pool_bn: Zero(s),
    "max_pool_3x3": lambda c, s, affine, pool_bn: _pool("max", c, s, pool_bn),
    "avg_pool_3x3": lambda c, s, affine, pool_bn: _pool("avg", c, s, pool_bn),
    "skip_connect": lambda c, s, affine, pool_bn: nn.Identity() if s == 1 else FactorizedReduce(c, c, affine),
    "sep_conv_3x3": lambda c, s, affine, pool_bn: SepConv(c, c, 3, s, 1, affine),
    "sep_conv_5x5": lambda c, s, affine, pool_bn: SepConv(c, c, 5, s, 2, affine),
    "dil_conv_3x3": lambda c, s, affine, pool_bn: DilConv(c, c, 3, s, 2, 2, affine),
    "dil_conv_5x5": lambda c, s, affine, pool_bn: DilConv(c, c, 5, s, 4, 2, affine),
}


def make_op(name: str, channels: int, stride: int, *, affine: bool = True, pool_bn: bool = False) -> nn.Module:
    """Build one operation.

    Args:
        name: One of :data:`PRIMITIVES`.
        channels: ``C``, in and out.
        stride: 1, or 2 on the edges leaving a reduction cell's inputs.
        affine: Learnable BN scale and shift in the convolutions (False in the DARTS supernet).
        pool_bn: A BN (without affine) after the pools, as in the DARTS supernet.

    Returns:
        The module, ``(B, C, H, W) -> (B, C, H / stride, W / stride)``.

    Example:
        >>> make_op("sep_conv_3x3", 8, 1)(torch.zeros(1, 8, 6, 6)).shape
        torch.Size([1, 8, 6, 6])
    """
    if name not in _FACTORIES:
        raise InvalidInputError(f"unknown DARTS op {name!r}; choose one of {', '.join(PRIMITIVES)}")
    if stride not in (1, 2):
        raise InvalidInputError(f"stride must be 1 or 2, got {stride!r}")
    return _FACTORIES[name](channels, stride, affine, pool_bn)
