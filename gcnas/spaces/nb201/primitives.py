"""The NAS-Bench-201 candidate operations and the residual reduction block.

Module and attribute names follow the official implementation (``xautodl``:
``ReLUConvBN.op``, ``ResNetBasicblock.conv_a/conv_b/downsample``), so the parameter
names of :func:`gcnas.spaces.nb201.network.build_network` match the official network's and a state
dict moves between the two unchanged. Inside a NAS-Bench-201 cell every edge keeps the
channel count and the resolution, so ``skip_connect`` is the identity and the pooling
needs no 1x1 pre-processing.
"""

from __future__ import annotations

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201.space import OPS

__all__ = ["ReLUConvBN", "Zero", "Identity", "AvgPool", "ResNetBasicblock", "make_op"]


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d (no bias) -> BatchNorm2d, the NAS-Bench-201 convolution.

    Args:
        c_in: Input channels.
        c_out: Output channels.
        kernel_size: Square kernel size (1 or 3).
        stride: Convolution stride.
        padding: Zero padding.
        affine: Whether BatchNorm has a learnable scale and shift.
        track_running_stats: Whether BatchNorm keeps running statistics.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=not affine),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, c_in, H, W) -> (N, c_out, H / stride, W / stride)``."""
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` operation: an all-zero tensor of the input's shape."""

    is_zero = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> zeros (N, C, H, W)``."""
        return x.mul(0.0)


class Identity(nn.Module):
    """The ``skip_connect`` operation inside a cell (same channels, stride 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Returns ``x`` unchanged."""
        return x


class AvgPool(nn.Module):
    """``avg_pool_3x3``: 3x3 average pooling, stride 1, padding not counted."""

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, C, H, W)``."""
        return self.op(x)


class ResNetBasicblock(nn.Module):
    """The residual block between stages: halves the resolution, changes the channels.

    Args:
        c_in: Input channels.
        c_out: Output channels (twice ``c_in`` in NAS-Bench-201).
        affine: Whether BatchNorm has a learnable scale and shift.
        track_running_stats: Whether BatchNorm keeps running statistics.
    """

    def __init__(self, c_in: int, c_out: int, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, affine, track_running_stats)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )
        self.in_dim = c_in
        self.out_dim = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, c_in, H, W) -> (N, c_out, H / 2, W / 2)``."""
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def make_op(name: str, channels: int, affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """One candidate operation of a cell edge.

    Args:
        name: One of :data:`gcnas.spaces.nb201.OPS`.
        channels: Channels in and out (a cell keeps them).
        affine: Whether BatchNorm layers have a learnable scale and shift.
        track_running_stats: Whether BatchNorm layers keep running statistics.

    Returns:
        The module, mapping ``(N, C, H, W)`` to ``(N, C, H, W)``.

    Example:
        >>> make_op("nor_conv_3x3", 16)(torch.zeros(2, 16, 8, 8)).shape
        torch.Size([2, 16, 8, 8])
    """
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0, affine, track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1, affine, track_running_stats)
    if name == "avg_pool_3x3":
        return AvgPool()
    raise InvalidInputError(f"unknown operation {name!r}; expected one of {', '.join(OPS)}")
