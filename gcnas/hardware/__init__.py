"""Hardware costs: params and FLOPs of the real network, latency measured here, energy.

``network_costs`` gives the exact NAS-Bench-201 params/FLOPs; ``measure_latency`` and
``measure_many`` time the network on this machine (into the run store); ``EnergyModel``
is the analytic energy estimate; ``measure_energy`` reads NVML on NVIDIA GPUs; and
``cost_table`` / ``costs`` join all of these with the published tables of
:mod:`gcnas.data.hardware_tables` behind one source-spec string per cost.
"""

from gcnas.hardware.counts import DATASETS, Layer, dataset_shape, network_costs, network_costs_many, network_layers
from gcnas.hardware.energy import PRESETS, EnergyModel, estimate_energy
from gcnas.hardware.latency import (LatencyResult, measure_latencies, measure_latency, measure_many, measurement_key,
                                    resolve_clock, resolve_device, sweep)
from gcnas.hardware.nvml import measure_energy, measure_energy_many, nvml_available
from gcnas.hardware.sources import ENERGY_SPECS, LATENCY_SPECS, cost_table, costs

__all__ = [
    "DATASETS",
    "ENERGY_SPECS",
    "LATENCY_SPECS",
    "PRESETS",
    "EnergyModel",
    "Layer",
    "LatencyResult",
    "cost_table",
    "costs",
    "dataset_shape",
    "estimate_energy",
    "measure_energy",
    "measure_energy_many",
    "measure_latencies",
    "measure_latency",
    "resolve_clock",
    "measure_many",
    "measurement_key",
    "network_costs",
    "network_costs_many",
    "network_layers",
    "nvml_available",
    "resolve_device",
    "sweep",
]
