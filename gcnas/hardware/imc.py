"""An in-memory-computing (IMC) cost model: latency, energy and area of a network on
analog crossbars, after ISAAC (Shafiee et al., ISCA 2016).

Every ``Conv2d`` and ``Linear`` that runs in one forward pass (batch 1) is mapped on
crossbar arrays, weights stationary (every layer mapped at once):

- its weights, unrolled as a ``(k_h k_w C_in / groups) x (C_out / groups)`` matrix per group
  (one input per row), take ``slices = ceil(weight_bits / bits_per_cell)`` adjacent columns
  per weight; the ``rows_needed x cols_needed`` matrix of each group is tiled on
  ``ceil(rows_needed / rows) * ceil(cols_needed / cols)`` arrays (a group never shares an array
  with another);
- inputs are applied one bit per read cycle (1-bit DACs), so one layer takes
  ``read_cycles = H_out W_out * activation_bits`` cycles (1 output position for a Linear);
  all arrays of the layer read in parallel;
- per cycle every mapped column of every array is converted once (``adc_conversions =
  read_cycles * row tiles * groups * cols_needed``) and shifted-and-added once into its
  partial sum; the ADC of ``cols_per_adc`` columns converts them one after the other while
  the array reads the next input bit (sample-and-hold), so a cycle lasts
  ``max(read_ns, min(cols_per_adc, columns of the widest array) * adc_ns)``;
- energy = cell reads + DAC row drives + ADC conversions + shift-adds + buffer traffic (each
  input activation read once and each output written once, ``activation_bits`` each);
- layers run one after the other (no pipelining between layers): the network's latency is
  the sum of its layers', its area that of all its arrays with their ADCs and DACs.

Not modelled: the interconnect (router, bus), digital units beside the shift-adders
(pooling, activation, BatchNorm, residual sums), weight signs (ISAAC's biased encoding
costs no extra columns), leakage, conv biases, and data sparsity (every mapped cell is
read every cycle). The defaults are ISAAC's (:class:`IMCConfig`, docs/hardware.md). The
model is meant for ranking architectures; its absolute figures are indicative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, Sequence

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import resolve_space
from gcnas.spaces.counts import trace_calls

__all__ = ["ADC_SCALING", "IMCConfig", "IMCCosts", "IMCLayer", "imc_costs", "imc_costs_of", "imc_costs_of_layers"]

ADC_SCALING: dict[int, tuple[float, float]] = {
    4: (0.79, 361.04), 5: (0.99, 476.91), 6: (1.20, 626.91), 7: (1.42, 845.18), 8: (1.67, 1200.0),
    9: (1.969078145, 1827.911647), 10: (2.379022742, 3002.008032)}
"""Bits -> (pJ per conversion, um²) of a 32 nm SAR ADC at 4..10 bits: ISAAC's ADC (Kull et al.,
ISSCC 2013) scaled with Saberi et al. 2011 (capacitive-DAC power of SAR ADCs), as tabulated
in Accelergy's ``hwcomponents-library`` (``library/isaac.py``, ``IsaacADC``). Only the ratios to
the 8-bit entry are used, to scale ISAAC's 8-bit ADC to :attr:`IMCConfig.adc_bits`
(:attr:`IMCConfig.adc_energy_pj`, :attr:`IMCConfig.adc_unit_area_mm2`)."""

_ISAAC_ADC_8BIT = (16e-3 / 8 / 1.28e9 * 1e12, 0.0096 / 8)
"""ISAAC: the 8 ADCs of an IMA, 8-bit, 1.28 GS/s, 16 mW and 0.0096 mm² together -> 1.5625 pJ
per conversion and 0.0012 mm² each (PUMA ``adc_area``)."""


@dataclass(frozen=True)
class IMCConfig:
    """Crossbar geometry, precisions and per-event energies of the IMC model.

    The defaults are ISAAC's (A. Shafiee et al., "ISAAC: A Convolutional Neural Network
    Accelerator with In-Situ Analog Arithmetic in Crossbars", ISCA 2016, 32 nm; its table of
    component power and area per IMA of 8 crossbars), per component as PUMA's simulator
    encodes them (Ankit et al., ASPLOS 2019, ``puma-simulator/include/constants.py``, "XBAR -
    Models from ISAAC paper"); a per-event energy is a power times ISAAC's 100 ns cycle (or
    over its conversion rate, 1.28 GS/s).

    Args:
        rows: Crossbar rows (inputs). ISAAC: 128 x 128 crossbars.
        cols: Crossbar columns (bit lines). ISAAC: 128.
        bits_per_cell: Weight bits stored per cell. ISAAC: 2 bits per memristor cell.
        weight_bits: Weight precision. ISAAC: 16-bit fixed point (8 cells of 2 bits).
        activation_bits: Input precision, applied one bit per read cycle. ISAAC: 16-bit
            inputs through 1-bit DACs, 16 cycles.
        adc_bits: ADC resolution. ISAAC: 8 bits.
        cols_per_adc: Columns multiplexed onto one ADC. ISAAC: one ADC per 128-column
            crossbar (8 ADCs, 8 crossbars per IMA).
        read_ns: One crossbar read (one input bit on every row). ISAAC: 100 ns
            (PUMA ``xbar_ip_lat = 100.0``).
        adc_ns: One conversion. ISAAC: 1.28 GS/s, 128 columns in one 100 ns cycle -> 0.78125 ns.
        cell_pj: One cell read. ISAAC: 8 crossbars 2.4 mW (PUMA ``xbar_pow_dict``: 0.3 mW per
            128 x 128 array) over a 100 ns read of 16,384 cells -> 30 pJ / 16,384 = 1.831e-3 pJ.
        dac_pj: One row driven for one cycle. ISAAC: 8 x 128 1-bit DACs 4 mW
            -> 3.906 uW x 100 ns = 0.390625 pJ.
        adc_pj: One conversion at ``adc_bits``; ``None`` (the default) takes ISAAC's 8-bit
            figure, 16 mW / 8 ADCs / 1.28 GS/s = 1.5625 pJ, scaled by :data:`ADC_SCALING`
            (``adc_bits`` 4..10; give ``adc_pj`` and ``adc_area_mm2`` for other resolutions).
        shift_add_pj: One shift-and-add of a converted column. ISAAC: 4 shift-and-add units
            per IMA, 0.2 mW, fed by 8 ADCs at 1.28 GS/s -> 0.2 mW / 10.24 G/s = 0.01953 pJ.
        buffer_pj_per_bit: One activation bit read from or written to the tile buffer. ISAAC:
            64 KB eDRAM; PUMA (``edram_pow_dyn_dict['64']``, "0.0172 nJ"): 17.2 pJ per 256-bit access
            -> 0.0671875 pJ per bit.
        cell_area_um2: One cell, with its share of the array. ISAAC: 8 crossbars 0.0002 mm²
            (PUMA: 2.5e-5 mm² per 128 x 128 array) -> 25 um² / 16,384 = 1.526e-3 um².
        adc_area_mm2: One ADC at ``adc_bits``; ``None`` (the default) takes ISAAC's 8-bit ADC,
            8 ADCs 0.0096 mm² -> 0.0012 mm² (PUMA ``adc_area``), scaled by :data:`ADC_SCALING`.
        dac_area_mm2: One 1-bit row DAC. ISAAC: 8 x 128 DACs 0.00017 mm² -> 1.66e-7 mm².

    Raises:
        InvalidInputError: A value that is not positive (a count not a positive integer), or
            ``adc_pj`` or ``adc_area_mm2`` left ``None`` with ``adc_bits`` outside 4..10.

    Example:
        >>> IMCConfig().adc_energy_pj, IMCConfig(adc_bits=5).adc_energy_pj < IMCConfig().adc_energy_pj
        (1.5625, True)
        >>> round(IMCConfig().array_area_mm2, 6)    # crossbar + 1 ADC + 128 DACs
        0.001246
    """

    rows: int = 128
    cols: int = 128
    bits_per_cell: int = 2
    weight_bits: int = 16
    activation_bits: int = 16
    adc_bits: int = 8
    cols_per_adc: int = 128
    read_ns: float = 100.0
    adc_ns: float = 1 / 1.28
    cell_pj: float = 0.3e-3 * 100e-9 / (128 * 128) * 1e12
    dac_pj: float = 4e-3 / (8 * 128) * 100e-9 * 1e12
    adc_pj: float | None = None
    shift_add_pj: float = 0.2e-3 / (8 * 1.28e9) * 1e12
    buffer_pj_per_bit: float = 17.2 / 256
    cell_area_um2: float = 25.0 / (128 * 128)
    adc_area_mm2: float | None = None
    dac_area_mm2: float = 0.00017 / (8 * 128)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("adc_pj", "adc_area_mm2") and value is None:
                continue
            if f.type == "int":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise InvalidInputError(f"IMCConfig.{f.name} must be a positive integer, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise InvalidInputError(f"IMCConfig.{f.name} must be a positive finite number, got {value!r}")
        if (self.adc_pj is None or self.adc_area_mm2 is None) and self.adc_bits not in ADC_SCALING:
            raise InvalidInputError(f"IMCConfig: no ADC energy and area known for adc_bits={self.adc_bits} "
                                    f"(tabulated: {min(ADC_SCALING)}..{max(ADC_SCALING)}); "
                                    f"give adc_pj and adc_area_mm2")

    @property
    def adc_energy_pj(self) -> float:
        """One conversion: ``adc_pj``, or ISAAC's scaled to ``adc_bits`` where ``adc_pj`` is ``None``."""
        if self.adc_pj is not None:
            return self.adc_pj
        return _ISAAC_ADC_8BIT[0] * ADC_SCALING[self.adc_bits][0] / ADC_SCALING[8][0]

    @property
    def adc_unit_area_mm2(self) -> float:
        """One ADC: ``adc_area_mm2``, or ISAAC's scaled to ``adc_bits`` where it is ``None``."""
        if self.adc_area_mm2 is not None:
            return self.adc_area_mm2
        return _ISAAC_ADC_8BIT[1] * ADC_SCALING[self.adc_bits][1] / ADC_SCALING[8][1]

    @property
    def slices(self) -> int:
        """Columns that hold one weight: ``ceil(weight_bits / bits_per_cell)``."""
        return -(-self.weight_bits // self.bits_per_cell)

    @property
    def adcs_per_array(self) -> int:
        """ADCs of one array: ``ceil(cols / cols_per_adc)``."""
        return -(-self.cols // self.cols_per_adc)

    @property
    def array_area_mm2(self) -> float:
        """One array with its ADCs and row DACs, mm²."""
        return (self.rows * self.cols * self.cell_area_um2 * 1e-6 + self.adcs_per_array * self.adc_unit_area_mm2
                + self.rows * self.dac_area_mm2)


class IMCLayer(NamedTuple):
    """The IMC cost of one call of one ``Conv2d`` or ``Linear`` (see the module docstring).

    Attributes:
        name: The module's name in the network (``named_modules``).
        kind: ``"conv"`` or ``"linear"``.
        arrays: Crossbar arrays its weights take.
        read_cycles: Cycles, ``output positions * activation_bits``.
        adc_conversions: Conversions over all its arrays.
        latency_ns: ``read_cycles`` times the cycle time.
        energy_pj: The sum of the five parts below.
        cell_energy_pj: Cell reads.
        dac_energy_pj: Row drives.
        adc_energy_pj: Conversions.
        shift_add_energy_pj: Shift-and-adds (one per conversion).
        buffer_energy_pj: Input and output activations through the buffer.
    """

    name: str
    kind: str
    arrays: int
    read_cycles: int
    adc_conversions: int
    latency_ns: float
    energy_pj: float
    cell_energy_pj: float
    dac_energy_pj: float
    adc_energy_pj: float
    shift_add_energy_pj: float
    buffer_energy_pj: float


class IMCCosts(NamedTuple):
    """The IMC cost of one inference (batch 1) of a network.

    Attributes:
        latency_ms: Sum of the layers' latencies (layers in sequence).
        energy_uj: Sum of the layers' energies.
        area_mm2: ``arrays * config.array_area_mm2`` (crossbars, ADCs, DACs).
        arrays: Arrays of all layers (a module called twice holds its weights once).
        layers: One :class:`IMCLayer` per call, in the order of the forward pass.
    """

    latency_ms: float
    energy_uj: float
    area_mm2: float
    arrays: int
    layers: tuple[IMCLayer, ...]


def _mapped_layer(name: str, kind: str, groups: int, rows_needed: int, cols_needed: int, positions: int,
                  moved: int, config: IMCConfig) -> IMCLayer:
    """The costs of one layer from its shape: ``rows_needed x cols_needed`` weights per group
    (columns counted in bit slices), ``positions`` output positions, ``moved`` activations in and out."""
    row_tiles, col_tiles = -(-rows_needed // config.rows), -(-cols_needed // config.cols)
    read_cycles = positions * config.activation_bits
    # every row tile converts its own partial sums of every mapped column
    conversions = read_cycles * groups * row_tiles * cols_needed
    cell_reads = read_cycles * groups * rows_needed * cols_needed
    dac_drives = read_cycles * groups * rows_needed * col_tiles  # each column tile has its own row drivers
    busiest_adc = min(config.cols_per_adc, config.cols, cols_needed)
    cycle_ns = max(config.read_ns, busiest_adc * config.adc_ns)
    parts = (cell_reads * config.cell_pj, dac_drives * config.dac_pj, conversions * config.adc_energy_pj,
             conversions * config.shift_add_pj, moved * config.activation_bits * config.buffer_pj_per_bit)
    return IMCLayer(name, kind, groups * row_tiles * col_tiles, read_cycles, conversions, read_cycles * cycle_ns,
                    sum(parts), *parts)


def _layer(name: str, module: nn.Module, x: torch.Tensor, y: torch.Tensor, config: IMCConfig) -> IMCLayer:
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        return _mapped_layer(name, "conv", module.groups, k_h * k_w * module.in_channels // module.groups,
                             module.out_channels // module.groups * config.slices, y.shape[-2] * y.shape[-1],
                             x.numel() + y.numel(), config)
    positions = y.numel() // module.out_features  # 1 for (1, out); one per leading position otherwise
    return _mapped_layer(name, "linear", 1, module.in_features, module.out_features * config.slices, positions,
                         x.numel() + y.numel(), config)


def _totals(layers: list[IMCLayer], config: IMCConfig) -> IMCCosts:
    arrays = sum({layer.name: layer.arrays for layer in layers}.values())  # weights stored once per module
    return IMCCosts(latency_ms=sum(layer.latency_ns for layer in layers) * 1e-6,
                    energy_uj=sum(layer.energy_pj for layer in layers) * 1e-6,
                    area_mm2=arrays * config.array_area_mm2, arrays=arrays, layers=tuple(layers))


def imc_costs_of_layers(layers: Sequence[Any], config: IMCConfig = IMCConfig()) -> IMCCosts:
    """The IMC costs of a network given as its layer shapes, without building it.

    The fast path of :func:`imc_costs_of` for a space that lists its network's layers
    (an optional member ``layer_shapes(arch, **shape)``; the IMC macro space has it): the
    same arithmetic as :func:`imc_costs` on the built module, so the figures are equal.

    Args:
        layers: Records with ``name``, ``kind`` (``"conv"`` or ``"linear"``; others are
            skipped), ``in_channels``, ``out_channels``, ``kernel`` (square), ``in_size`` and
            ``out_size`` (sides of square maps; 1 for a linear layer), in the order they run;
            groups are 1.
        config: Crossbar geometry and energies.

    Returns:
        :class:`IMCCosts`.

    Raises:
        InvalidInputError: No conv or linear layer among ``layers``.
    """
    mapped = []
    for layer in layers:
        if layer.kind == "conv":
            moved = layer.in_channels * layer.in_size ** 2 + layer.out_channels * layer.out_size ** 2
            mapped.append(_mapped_layer(layer.name, "conv", 1, layer.kernel ** 2 * layer.in_channels,
                                        layer.out_channels * config.slices, layer.out_size ** 2, moved, config))
        elif layer.kind == "linear":
            mapped.append(_mapped_layer(layer.name, "linear", 1, layer.in_channels, layer.out_channels * config.slices,
                                        1, layer.in_channels + layer.out_channels, config))
    if not mapped:
        raise InvalidInputError("the layers hold no conv or linear layer: nothing to map on crossbars")
    return _totals(mapped, config)


def _checked_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape):
        raise InvalidInputError(f"input_shape must be (channels, height, width) of positive integers, got {shape!r}")
    return shape


def imc_costs(module: nn.Module, input_shape: Sequence[int] = (3, 32, 32),
              config: IMCConfig = IMCConfig()) -> IMCCosts:
    """The IMC latency, energy and area of one inference of any network (batch 1).

    Forward hooks on every ``Conv2d`` and ``Linear`` record their input and output over one
    ``eval()`` pass on zeros (as :func:`gcnas.spaces.count_module` counts), so only the layers
    that run count; the module is put back in the mode it was in, its weights unchanged.

    Args:
        module: A network taking one ``(1, *input_shape)`` tensor.
        input_shape: ``(channels, height, width)`` of one image.
        config: Crossbar geometry and energies (:class:`IMCConfig`, ISAAC's by default).

    Returns:
        :class:`IMCCosts`: totals in ms, uJ and mm², and one :class:`IMCLayer` per layer call.

    Raises:
        InvalidInputError: ``input_shape`` not three positive integers, or a network
            without any ``Conv2d`` / ``Linear`` that runs.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
        >>> costs = imc_costs(net, (3, 4, 4))
        >>> [(layer.name, layer.arrays, layer.read_cycles) for layer in costs.layers]
        [('0', 1, 256), ('2', 1, 16)]
        >>> costs.arrays, round(costs.latency_ms, 4)
        (2, 0.0272)
    """
    shape = _checked_shape(input_shape)
    layers: list[IMCLayer] = []
    trace_calls(module, shape, lambda layer: isinstance(layer, (nn.Conv2d, nn.Linear)),
                lambda name, layer, x, y: layers.append(_layer(name, layer, x, y, config)))
    if not layers:
        raise InvalidInputError(f"{type(module).__name__} ran no Conv2d or Linear on a {shape} input: "
                                f"nothing to map on crossbars")
    return _totals(layers, config)


def imc_costs_of(space: Any, arch: Any, *, input_size: int = 32, config: IMCConfig = IMCConfig(),
                 **shape: Any) -> IMCCosts:
    """The IMC costs of one architecture's network (``space.network(arch, **shape)``).

    Args:
        space: A space or its name (:func:`gcnas.spaces.resolve_space`; ``None`` is nb201).
        arch: The architecture, as the space's value or its string (read with ``space.parse``).
        input_size: Side of the square input image.
        config: Crossbar geometry and energies.
        **shape: The network's shape, passed to ``space.network`` (e.g. nb201's ``channels``,
            ``cells``, ``num_classes``; darts' ``C``, ``layers``, ``in_channels``: the image
            has ``in_channels`` channels, 3 if not given).

    Returns:
        :class:`IMCCosts` of one ``(in_channels, input_size, input_size)`` image.

    Example:
        >>> costs = imc_costs_of("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        ...                               "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        >>> costs.arrays, round(costs.latency_ms, 3), round(costs.energy_uj, 1), round(costs.area_mm2, 3)
        (890, 67.688, 633.0, 1.109)
    """
    space = resolve_space(space)
    if isinstance(arch, str):
        arch = space.parse(arch)
    layer_shapes = getattr(space, "layer_shapes", None)
    if callable(layer_shapes):  # the space lists its layers: no network to build and trace
        return imc_costs_of_layers(layer_shapes(arch, input_size=input_size, **shape), config)
    network = space.network(arch, **shape)
    return imc_costs(network, (shape.get("in_channels", 3), input_size, input_size), config)
