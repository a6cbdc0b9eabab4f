"""The in-memory-computing cost model: hand-computed layers, totals, sanity, any space, bad input."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.hardware import ADC_SCALING, IMCConfig, imc_costs, imc_costs_of
from gcnas.spaces import get_space

# Small round numbers, so that every figure below can be checked on paper.
SMALL = IMCConfig(rows=64, cols=64, bits_per_cell=2, weight_bits=8, activation_bits=8, adc_bits=8, cols_per_adc=16,
                  read_ns=100.0, adc_ns=1.0, cell_pj=0.001, dac_pj=0.5, adc_pj=2.0, shift_add_pj=0.02,
                  buffer_pj_per_bit=0.1, cell_area_um2=0.01, adc_area_mm2=0.001, dac_area_mm2=1e-6)


def test_conv_layer_by_hand():
    # 3x3 conv 16 -> 32 on 8x8, padding 1: output 32 x 8 x 8
    costs = imc_costs(nn.Conv2d(16, 32, 3, padding=1, bias=False), (16, 8, 8), SMALL)
    (layer,) = costs.layers
    rows_needed = 3 * 3 * 16                           # 144 rows -> ceil(144 / 64) = 3 row tiles
    cols_needed = 32 * (8 // 2)                        # 8-bit weights, 2-bit cells: 4 columns each; 128 -> 2 tiles
    assert layer.kind == "conv" and layer.name == ""
    assert layer.arrays == 3 * 2 == 6
    assert layer.read_cycles == 8 * 8 * 8 == 512       # 64 positions x 8 input bits
    assert layer.adc_conversions == 512 * 3 * 128 == 196_608
    # the busiest ADC converts 16 columns x 1 ns = 16 ns < the 100 ns read: the read sets the cycle
    assert layer.latency_ns == 512 * 100.0
    cell = 512 * rows_needed * cols_needed * 0.001     # 9,437,184 cell reads
    dac = 512 * rows_needed * 2 * 0.5                  # each of the 2 column tiles drives its 144 rows
    adc = 196_608 * 2.0
    shift_add = 196_608 * 0.02
    buffer = (16 * 8 * 8 + 32 * 8 * 8) * 8 * 0.1       # input and output activations, 8 bits each
    assert (layer.cell_energy_pj, layer.dac_energy_pj, layer.adc_energy_pj, layer.shift_add_energy_pj,
            layer.buffer_energy_pj) == pytest.approx((cell, dac, adc, shift_add, buffer))
    assert layer.energy_pj == pytest.approx(cell + dac + adc + shift_add + buffer)
    assert layer.energy_pj == pytest.approx(9437.184 + 73728 + 393216 + 3932.16 + 2457.6)
    assert costs.latency_ms == pytest.approx(51200e-6)
    assert costs.energy_uj == pytest.approx(layer.energy_pj * 1e-6)
    # per array: 64 x 64 cells x 0.01 um² + 4 ADCs (64 / 16) x 0.001 mm² + 64 DACs x 1e-6 mm²
    assert SMALL.array_area_mm2 == pytest.approx(4096 * 0.01e-6 + 4 * 0.001 + 64 * 1e-6)
    assert costs.area_mm2 == pytest.approx(6 * SMALL.array_area_mm2)


def test_adc_multiplexing_sets_the_cycle_when_slower_than_the_read():
    # 64 columns per ADC at 2 ns: 128 ns per cycle > the 100 ns read
    config = replace(SMALL, cols_per_adc=64, adc_ns=2.0)
    (layer,) = imc_costs(nn.Conv2d(16, 32, 3, padding=1, bias=False), (16, 8, 8), config).layers
    assert layer.latency_ns == 512 * 128.0
    # a layer whose array holds only 20 columns: its ADC converts 20, 40 ns < 100 ns
    (narrow,) = imc_costs(nn.Conv2d(16, 5, 1, bias=False), (16, 8, 8), config).layers
    assert narrow.latency_ns == 512 * 100.0


def test_linear_layer_by_hand():
    # Linear 100 -> 10 after flattening a 4 x 5 x 5 input
    net = nn.Sequential(nn.Flatten(), nn.Linear(100, 10))
    costs = imc_costs(net, (4, 5, 5), SMALL)
    (layer,) = costs.layers
    assert (layer.name, layer.kind) == ("1", "linear")
    assert layer.arrays == 2 * 1                      # 100 rows -> 2 row tiles; 10 x 4 = 40 columns -> 1
    assert layer.read_cycles == 1 * 8                  # one output position, 8 input bits
    assert layer.adc_conversions == 8 * 2 * 40 == 640
    assert layer.latency_ns == 8 * 100.0               # busiest ADC: 16 columns x 1 ns < 100 ns
    expected = 8 * 100 * 40 * 0.001 + 8 * 100 * 1 * 0.5 + 640 * 2.0 + 640 * 0.02 + (100 + 10) * 8 * 0.1
    assert layer.energy_pj == pytest.approx(expected) == pytest.approx(32 + 400 + 1280 + 12.8 + 88)


def test_grouped_and_depthwise_convs_map_each_group_on_its_own_arrays():
    # groups=4, 3x3, 32 -> 64: per group a (9 x 8) x (16 x 4) = 72 x 64 matrix -> 2 x 1 arrays
    (grouped,) = imc_costs(nn.Conv2d(32, 64, 3, padding=1, groups=4, bias=False), (32, 8, 8), SMALL).layers
    assert grouped.arrays == 4 * 2 * 1
    assert grouped.adc_conversions == 512 * 4 * 2 * 64
    # depthwise 3x3 on 16 channels: 16 groups of a 9 x 4 matrix, one array each
    (depthwise,) = imc_costs(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), (16, 8, 8), SMALL).layers
    assert depthwise.arrays == 16
    assert depthwise.adc_conversions == 512 * 16 * 4


def test_dilation_and_stride_change_positions_not_the_mapping():
    plain = imc_costs(nn.Conv2d(16, 32, 3, padding=1), (16, 8, 8), SMALL).layers[0]
    dilated = imc_costs(nn.Conv2d(16, 32, 3, padding=2, dilation=2), (16, 8, 8), SMALL).layers[0]
    strided = imc_costs(nn.Conv2d(16, 32, 3, padding=1, stride=2), (16, 8, 8), SMALL).layers[0]
    assert plain.arrays == dilated.arrays == strided.arrays
    assert dilated.read_cycles == plain.read_cycles
    assert strided.read_cycles == 4 * 4 * 8


def test_network_total_is_the_sum_of_its_layers():
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1, groups=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(32, 10))
    costs = imc_costs(net, (3, 16, 16), SMALL)
    assert [layer.name for layer in costs.layers] == ["0", "4", "8"]
    assert costs.arrays == sum(layer.arrays for layer in costs.layers)
    assert costs.latency_ms == pytest.approx(sum(layer.latency_ns for layer in costs.layers) * 1e-6)
    assert costs.energy_uj == pytest.approx(sum(layer.energy_pj for layer in costs.layers) * 1e-6)
    assert costs.area_mm2 == pytest.approx(costs.arrays * SMALL.array_area_mm2)
    assert net.training  # put back in the mode it was in


def test_a_module_called_twice_holds_its_weights_once():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(16, 16, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    costs = imc_costs(Twice(), (16, 8, 8), SMALL)
    first, second = costs.layers
    assert first == second
    assert costs.arrays == first.arrays
    assert costs.energy_uj == pytest.approx(2 * first.energy_pj * 1e-6)


def test_more_channels_cost_more_arrays_and_energy():
    narrow = imc_costs(nn.Conv2d(16, 32, 3, padding=1), (16, 8, 8))
    wide = imc_costs(nn.Conv2d(64, 128, 3, padding=1), (64, 8, 8))
    assert wide.arrays > narrow.arrays
    assert wide.energy_uj > narrow.energy_uj
    assert wide.area_mm2 > narrow.area_mm2


def test_adc_energy_and_area_follow_its_resolution_unless_given():
    for attribute in ("adc_energy_pj", "adc_unit_area_mm2"):
        values = [getattr(IMCConfig(adc_bits=bits), attribute) for bits in sorted(ADC_SCALING)]
        assert values == sorted(values) and len(set(values)) == len(values), attribute
    assert IMCConfig().adc_energy_pj == pytest.approx(16e-3 / 8 / 1.28e9 * 1e12)  # ISAAC: 1.5625 pJ
    assert IMCConfig().adc_unit_area_mm2 == pytest.approx(0.0096 / 8)             # ISAAC: 0.0012 mm²
    net, shape = nn.Conv2d(16, 32, 3, padding=1), (16, 8, 8)
    assert imc_costs(net, shape, IMCConfig(adc_bits=6)).energy_uj < imc_costs(net, shape).energy_uj
    given = IMCConfig(adc_bits=12, adc_pj=5.0, adc_area_mm2=0.01)
    assert (given.adc_energy_pj, given.adc_unit_area_mm2) == (5.0, 0.01)


def test_isaac_defaults():
    config = IMCConfig()
    assert (config.rows, config.cols, config.bits_per_cell, config.weight_bits, config.activation_bits,
            config.adc_bits, config.cols_per_adc) == (128, 128, 2, 16, 16, 8, 128)
    assert config.slices == 8
    # a 128-column crossbar converted by one 1.28 GS/s ADC fills ISAAC's 100 ns cycle
    assert config.cols_per_adc * config.adc_ns == pytest.approx(config.read_ns)
    assert config.cell_pj * 128 * 128 == pytest.approx(0.3e-3 * 100e-9 * 1e12)  # 0.3 mW x 100 ns per array


@pytest.mark.parametrize("name", ["nb201", "darts"])
def test_any_space(name):
    space = get_space(name)
    arch = space.sample(seed=0)
    costs = imc_costs_of(space, arch)
    for value in (costs.latency_ms, costs.energy_uj, costs.area_mm2):
        assert math.isfinite(value) and value > 0
    assert costs.arrays > 0 and all(layer.energy_pj > 0 for layer in costs.layers)
    assert imc_costs_of(name, space.format(arch)) == costs  # the name and the string work as well


def test_input_size_scales_the_work_not_the_arrays():
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    big, small = imc_costs_of("nb201", arch), imc_costs_of("nb201", arch, input_size=16)
    assert big.arrays == small.arrays
    assert big.latency_ms == pytest.approx(4 * small.latency_ms, rel=0.01)  # the classifier's cycles do not scale


@pytest.mark.parametrize("bad", [{"rows": 0}, {"cols": -8}, {"bits_per_cell": 1.5}, {"activation_bits": True},
                                 {"read_ns": 0.0}, {"adc_ns": float("nan")}, {"cell_pj": -1.0},
                                 {"buffer_pj_per_bit": float("inf")}, {"adc_pj": 0}, {"adc_area_mm2": -1.0},
                                 {"adc_bits": 12}, {"adc_bits": 12, "adc_pj": 1.0}])
def test_bad_config_raises(bad):
    field = next(iter(bad))
    with pytest.raises(InvalidInputError, match=field):
        IMCConfig(**bad)


@pytest.mark.parametrize("shape", [(3, 32), (1, 3, 32, 32), (3, 0, 32), (3, 32.0, 32)])
def test_bad_input_shape_raises(shape):
    with pytest.raises(InvalidInputError, match="input_shape must be"):
        imc_costs(nn.Conv2d(3, 8, 3), shape)


def test_network_without_crossbar_layers_raises():
    with pytest.raises(InvalidInputError, match="no Conv2d or Linear"):
        imc_costs(nn.Sequential(nn.ReLU()), (3, 8, 8))


@pytest.mark.parametrize("name", ["nb201", "imc"])
def test_imc_is_a_latency_and_energy_source_of_cost_table(name):
    from gcnas.hardware import cost_table

    space = get_space(name)
    archs = [space.sample(seed) for seed in range(2)]
    table = cost_table(archs, latency="imc", energy="imc", space=space)
    for row, arch in enumerate(archs):
        expected = imc_costs_of(space, arch, num_classes=10)  # cifar10: 10 classes, 32x32 images
        assert table["latency_ms"][row] == pytest.approx(expected.latency_ms)
        assert table["energy_mj"][row] == pytest.approx(expected.energy_uj / 1000)  # the column is in mJ


@pytest.mark.parametrize("shape", [{}, {"channels": 6, "num_classes": 7, "input_size": 9}])
def test_imc_space_layer_shapes_give_the_traced_figures(shape):
    """The analytic path (the space lists its layers) equals tracing the built network."""
    space = get_space("imc")
    size = shape.get("input_size", 32)
    net_shape = {k: v for k, v in shape.items() if k != "input_size"}
    for seed in range(8):
        arch = space.sample(seed)
        fast = imc_costs_of(space, arch, input_size=size, **net_shape)
        traced = imc_costs(space.network(arch, **net_shape), (3, size, size))
        assert fast.arrays == traced.arrays
        assert [(a.name, a.arrays, a.read_cycles, a.adc_conversions) for a in fast.layers] == \
               [(b.name, b.arrays, b.read_cycles, b.adc_conversions) for b in traced.layers]
        assert fast.latency_ms == pytest.approx(traced.latency_ms, rel=1e-12)
        assert fast.energy_uj == pytest.approx(traced.energy_uj, rel=1e-12)
        assert fast.area_mm2 == pytest.approx(traced.area_mm2, rel=1e-12)
