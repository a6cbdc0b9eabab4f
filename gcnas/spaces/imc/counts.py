"""Exact parameters and FLOPs of a macro network, counted from its layer list without building it.

:func:`network_layers` lists every leaf module of :class:`~gcnas.spaces.imc.network.MacroNetwork`
(named as in the module) with its channels, kernel, stride and feature-map sides for one
image; :func:`network_counts` sums them under the two rules of
:func:`gcnas.spaces.count_module` and gives the same numbers, in microseconds instead of a
forward pass (a test compares them):

- ``"torchstat"``: conv ``k^2 C_in C_out H_out W_out``, BN two per input element (affine),
  ReLU one per input element, the global pool ``(H + 1)(W + 1)`` per channel (torchstat's
  off-by-one), linear ``in * out``; params of every layer that runs (all of them here);
- ``"macs"``: multiply-accumulates of conv and linear layers, the linear bias counted;
  every parameter.

The layer list is also what a hardware cost model of the network reads (the shape of each
convolution to map onto a crossbar). This module does not import torch.
"""

from __future__ import annotations

from typing import NamedTuple

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.imc.arch import DEFAULT_CHANNELS, MacroArch, network_blocks

__all__ = ["RULES", "Layer", "network_layers", "network_counts"]

RULES: tuple[str, ...] = ("torchstat", "macs")
"""The counting rules, those of :mod:`gcnas.spaces.counts` (which imports torch, so they are named again here)."""


class Layer(NamedTuple):
    """One leaf module of the network and what it sees for one image.

    Attributes:
        name: Its name in :class:`~gcnas.spaces.imc.network.MacroNetwork` (``"stages.1.0.conv2"``).
        kind: ``"conv"``, ``"bn"``, ``"relu"``, ``"pool"`` or ``"linear"``.
        in_channels: Channels (features, for the linear layer) read.
        out_channels: Channels (features) written.
        kernel: Side of the convolution's kernel (1 for the other kinds).
        stride: The convolution's stride (1 for the other kinds).
        in_size: Side of the square feature map read (1 for the linear layer).
        out_size: Side of the feature map written.
    """

    name: str
    kind: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    in_size: int
    out_size: int

    @property
    def params(self) -> int:
        """Learnable parameters: conv weights (no bias), BN scale and shift, linear weights and bias."""
        if self.kind == "conv":
            return self.kernel ** 2 * self.in_channels * self.out_channels
        if self.kind == "bn":
            return 2 * self.out_channels
        if self.kind == "linear":
            return (self.in_channels + 1) * self.out_channels
        return 0

    def flops(self, rule: str) -> int:
        """FLOPs of the layer for one image under ``rule`` (one of :data:`RULES`; unchecked)."""
        outputs = self.out_channels * self.out_size ** 2
        if self.kind == "conv":
            return self.kernel ** 2 * self.in_channels * outputs
        if self.kind == "linear":
            return self.out_channels * (self.in_channels + (1 if rule == "macs" else 0))
        if rule == "macs":
            return 0
        inputs = self.in_channels * self.in_size ** 2
        if self.kind == "bn":
            return 2 * inputs
        if self.kind == "relu":
            return inputs
        return self.in_channels * (self.in_size + 1) ** 2  # the global pool, torchstat's (window + 1)^2


def _check_shape(channels: int, num_classes: int, input_size: int) -> None:
    for name, value in (("channels", channels), ("num_classes", num_classes), ("input_size", input_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"{name} must be an int >= 1, got {value!r}")


def _conv_bn(prefix: str, conv: str, bn: str, c_in: int, c_out: int, kernel: int, stride: int,
             size: int) -> tuple[list[Layer], int]:
    """A convolution (padding ``kernel // 2``) and its BN; returns the layers and the output side."""
    out = (size + 2 * (kernel // 2) - kernel) // stride + 1
    return [Layer(prefix + conv, "conv", c_in, c_out, kernel, stride, size, out),
            Layer(prefix + bn, "bn", c_out, c_out, 1, 1, out, out)], out


def _relu(name: str, channels: int, size: int) -> Layer:
    return Layer(name, "relu", channels, channels, 1, 1, size, size)


def network_layers(arch: MacroArch, *, channels: int = DEFAULT_CHANNELS, num_classes: int = 10,
                   input_size: int = 32) -> list[Layer]:
    """Every leaf module of ``arch``'s network, in the order data flows through them.

    A block's projection shortcut comes after its main path (it runs beside it).

    Args:
        arch: The network.
        channels: The stem's width and stage 0's widest width.
        num_classes: Classifier outputs.
        input_size: Side of the square 3-channel input image.

    Returns:
        The layers, ``stem.0`` first and ``classifier`` last.

    Example:
        >>> from gcnas.spaces.imc.arch import parse_macro
        >>> layers = network_layers(parse_macro("vgg-d1-k3-w100/vgg-d1-k3-w100/vgg-d1-k3-w100/vgg-d1-k7-w20"))
        >>> [(layer.name, layer.out_channels, layer.out_size) for layer in layers[-3:]]
        [('stages.3.0.relu2', 51, 4), ('pool', 51, 1), ('classifier', 10, 1)]
    """
    _check_shape(channels, num_classes, input_size)
    layers, size = _conv_bn("stem.", "0", "1", 3, channels, 3, 1, input_size)
    layers.append(_relu("stem.2", channels, size))
    for block in network_blocks(arch, channels):
        prefix = f"stages.{block.stage}.{block.index}."
        block_in = size
        for i, (c_in, c_out, kernel, stride) in enumerate(block.convs, start=1):
            conv_bn, size = _conv_bn(prefix, f"conv{i}", f"bn{i}", c_in, c_out, kernel, stride, size)
            layers += conv_bn
            if i < len(block.convs):
                layers.append(_relu(f"{prefix}relu{i}", c_out, size))
        if block.projection:
            layers += _conv_bn(prefix, "shortcut.0", "shortcut.1", block.in_channels, block.width, 1, block.stride,
                               block_in)[0]
        layers.append(_relu(f"{prefix}relu{len(block.convs)}", block.width, size))
    width = layers[-1].out_channels
    layers.append(Layer("pool", "pool", width, width, 1, 1, size, 1))
    layers.append(Layer("classifier", "linear", width, num_classes, 1, 1, 1, 1))
    return layers


def network_counts(arch: MacroArch, *, channels: int = DEFAULT_CHANNELS, num_classes: int = 10,
                   input_size: int = 32, rule: str = "torchstat") -> tuple[int, int]:
    """Params and FLOPs of ``arch``'s network for one image, as :func:`gcnas.spaces.count_module` counts them.

    Args:
        arch: The network.
        channels: The stem's width and stage 0's widest width.
        num_classes: Classifier outputs.
        input_size: Side of the square 3-channel input image.
        rule: ``"torchstat"`` or ``"macs"`` (see the module docstring).

    Returns:
        ``(params, flops)``, plain counts (the fields of ``count_module``'s ``Counts``).

    Example:
        >>> from gcnas.spaces.imc.arch import parse_macro
        >>> network_counts(parse_macro("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d4-k7-w20/basic-d3-k3-w80"))
        (2137810, 85382551)
    """
    if rule not in RULES:
        raise InvalidInputError(f"unknown counting rule {rule!r}; choose one of {', '.join(RULES)}")
    layers = network_layers(arch, channels=channels, num_classes=num_classes, input_size=input_size)
    return sum(layer.params for layer in layers), sum(layer.flops(rule) for layer in layers)
