"""Exact parameter and FLOP counts of the NAS-Bench-201 network, layer by layer.

The network (``TinyNetwork`` of NAS-Bench-201, rebuilt by :func:`gcnas.spaces.nb201.network.build_network`)
is a 3x3 conv stem, three stages of ``cells`` cells with ``C``, ``2C`` and ``4C`` channels
separated by two residual reduction blocks, then BN-ReLU, global pooling and a linear
classifier. Every edge of a cell keeps its channel count and resolution, so each edge's
cost depends only on its op and its stage: the whole space is costed from a handful of
per-op layer lists, vectorised over architectures.

The counting rules are NAS-Bench-201's own (``xautodl.utils.get_model_infos``):

- params: every learnable tensor, BatchNorm affine included, in units of 1e6;
- FLOPs: multiply-accumulates of ``Conv2d`` and ``Linear`` layers (bias adds counted,
  pooling, BN, ReLU and additions not), in units of 1e6.

The same layer lists feed the analytic energy model (:mod:`gcnas.hardware.energy`),
which also needs activation traffic and element-wise work.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201.space import EDGES, OPS, Arch

__all__ = [
    "Layer",
    "network_costs",
    "network_costs_many",
    "network_layers",
    "op_counts",
]

class Layer(NamedTuple):
    """What one layer of the network does for one image (batch 1).

    Attributes:
        name: Where it sits, e.g. ``"stage1.edge:nor_conv_3x3"`` or ``"stem"``.
        macs: Multiply-accumulates counted as NAS-Bench-201 FLOPs.
        params: Learnable parameters (BN affine included).
        reads: Activation elements read.
        writes: Activation elements written.
        elementwise: Other arithmetic (pool adds, BN scale/shift, ReLU, node sums).
    """

    name: str
    macs: int
    params: int
    reads: int
    writes: int
    elementwise: int


def _conv(name: str, c_in: int, c_out: int, h_in: int, kernel: int, stride: int,
          *, relu: bool = True, bn: bool = True) -> tuple[Layer, int]:
    """A (ReLU ->) conv (-> BN) layer; returns the layer and the output size."""
    pad = kernel // 2
    h_out = (h_in + 2 * pad - kernel) // stride + 1
    out = c_out * h_out * h_out
    macs = kernel * kernel * c_in * out
    elementwise = (c_in * h_in * h_in if relu else 0) + (2 * out if bn else 0)
    params = kernel * kernel * c_in * c_out + (2 * c_out if bn else 0)
    return Layer(name, macs, params, c_in * h_in * h_in, out, elementwise), h_out


def _edge_layers(op: int, c: int, h: int, stage: int) -> list[Layer]:
    """One cell edge (``c`` channels in and out, stride 1) carrying op ``op``."""
    name = f"stage{stage}.edge:{OPS[op]}"
    size = c * h * h
    if OPS[op] == "none":
        return []
    if OPS[op] == "skip_connect":
        layers = []
    elif OPS[op] == "avg_pool_3x3":
        layers = [Layer(name, 0, 0, size, size, 9 * size)]
    else:
        kernel = 1 if OPS[op] == "nor_conv_1x1" else 3
        layers = [_conv(name, c, c, h, kernel, 1)[0]]
    # Every non-zero edge is summed into its destination node: read it, add it.
    return layers + [Layer(f"{name}.sum", 0, 0, size, 0, size)]


@functools.lru_cache(maxsize=64)
def _structure(channels: int, cells: int, num_classes: int, input_size: int
               ) -> tuple[tuple[Layer, ...], tuple[tuple[Layer, ...], ...]]:
    """Layers outside the cells, and the layers one edge of each op adds over all cells."""
    fixed: list[Layer] = []
    stem, h = _conv("stem", 3, channels, input_size, 3, 1, relu=False)
    fixed.append(stem)
    per_op: list[list[Layer]] = [[] for _ in OPS]
    c = channels
    for stage in range(3):
        if stage:
            c_out = 2 * c
            conv_a, h_out = _conv(f"reduce{stage}.conv_a", c, c_out, h, 3, 2)
            conv_b, _ = _conv(f"reduce{stage}.conv_b", c_out, c_out, h_out, 3, 1)
            # downsample: AvgPool2d(2, 2) then a bias-free 1x1 conv, no BN
            h_pool = h // 2
            pool = Layer(f"reduce{stage}.pool", 0, 0, c * h * h, c * h_pool * h_pool, c * h * h)
            down, _ = _conv(f"reduce{stage}.downsample", c, c_out, h_pool, 1, 1, relu=False, bn=False)
            add = Layer(f"reduce{stage}.add", 0, 0, 2 * c_out * h_out * h_out, c_out * h_out * h_out,
                        c_out * h_out * h_out)
            fixed += [conv_a, conv_b, pool, down, add]
            c, h = c_out, h_out
        for op in range(len(OPS)):
            per_op[op] += _edge_layers(op, c, h, stage) * cells
    size = c * h * h
    fixed.append(Layer("lastact", 0, 2 * c, size, size, 3 * size))
    fixed.append(Layer("global_pool", 0, 0, size, c, size))
    fixed.append(Layer("classifier", c * num_classes + num_classes, c * num_classes + num_classes,
                       c, num_classes, 0))
    return tuple(fixed), tuple(tuple(layers) for layers in per_op)


def _check(channels: int, cells: int, num_classes: int, input_size: int) -> None:
    for name, value, low in (("channels", channels, 1), ("cells", cells, 1),
                             ("num_classes", num_classes, 1), ("input_size", input_size, 4)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidInputError(f"{name} must be an int >= {low}, got {value!r}")


def network_layers(arch: Arch, *, channels: int = 16, cells: int = 5, num_classes: int = 10,
                   input_size: int = 32) -> list[Layer]:
    """Every layer of the network of ``arch`` (cell edges listed once per cell).

    Args:
        arch: The cell; ``channels``, ``cells``, ``num_classes``, ``input_size`` as in
            :func:`network_costs`.

    Returns:
        The layers, stem first; summing a field over them gives the network total.
    """
    _check(channels, cells, num_classes, input_size)
    fixed, per_op = _structure(int(channels), int(cells), int(num_classes), int(input_size))
    layers = list(fixed)
    for op in arch.ops:
        layers += [layer for layer in per_op[op]]
    return layers


def op_counts(archs: Sequence[Arch]) -> np.ndarray:
    """How often each op appears in each cell, ``(n, len(OPS))`` int64."""
    ops = np.array([a.ops for a in archs], dtype=np.int64).reshape(-1, len(EDGES))
    counts = np.zeros((len(ops), len(OPS)), dtype=np.int64)
    for op in range(len(OPS)):
        counts[:, op] = (ops == op).sum(axis=1)
    return counts


def layer_totals(field: str, *, channels: int = 16, cells: int = 5, num_classes: int = 10,
                 input_size: int = 32) -> tuple[float, np.ndarray]:
    """A layer field summed outside the cells and per op: ``(fixed, (len(OPS),))``."""
    _check(channels, cells, num_classes, input_size)
    fixed, per_op = _structure(int(channels), int(cells), int(num_classes), int(input_size))
    index = Layer._fields.index(field)
    return (float(sum(layer[index] for layer in fixed)),
            np.array([sum(layer[index] for layer in layers) for layers in per_op], dtype=np.float64))


def network_costs_many(archs: Sequence[Arch], *, channels: int = 16, cells: int = 5,
                       num_classes: int = 10, input_size: int = 32) -> dict[str, np.ndarray]:
    """Params and FLOPs of many architectures at once (all 15,625 in milliseconds).

    Args:
        archs: Architectures.
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs (10 CIFAR-10, 100 CIFAR-100, 120 ImageNet16-120).
        input_size: Square input resolution (32 CIFAR, 16 ImageNet16-120).

    Returns:
        ``{"params_m": (n,), "flops_m": (n,)}`` float64, in millions.

    Example:
        >>> from gcnas.spaces.nb201 import NB201Space
        >>> table = network_costs_many(NB201Space().all_archs())
        >>> float(table["params_m"].max())
        1.531546
    """
    counts = op_counts(archs)
    out = {}
    for key, field in (("params_m", "params"), ("flops_m", "macs")):
        fixed, per_op = layer_totals(field, channels=channels, cells=cells, num_classes=num_classes,
                                     input_size=input_size)
        out[key] = (fixed + counts @ per_op) / 1e6
    return out


def network_costs(arch: Arch, *, channels: int = 16, cells: int = 5, num_classes: int = 10,
                  input_size: int = 32) -> dict[str, float]:
    """Exact NAS-Bench-201 params and FLOPs of one architecture.

    Args:
        arch: The cell.
        channels: Channels of the first stage (NAS-Bench-201: 16).
        cells: Cells per stage (NAS-Bench-201: 5).
        num_classes: Classifier outputs.
        input_size: Square input resolution.

    Returns:
        ``{"params_m": float, "flops_m": float}`` in millions.

    Example:
        >>> network_costs(Arch((3,) * 6))
        {'params_m': 1.531546, 'flops_m': 220.11969}
    """
    if not isinstance(arch, Arch):
        raise InvalidInputError(f"network_costs needs an Arch, got {arch!r}")
    table = network_costs_many([arch], channels=channels, cells=cells, num_classes=num_classes,
                               input_size=input_size)
    return {key: float(values[0]) for key, values in table.items()}
