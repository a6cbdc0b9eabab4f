"""Hardware costs: params and FLOPs of the real network, latency measured here, energy.

Params and FLOPs are the space's (``space.costs``); ``measure_latency`` and
``measure_many`` time the network on this machine (into the run store); ``EnergyModel``
is the analytic energy estimate; ``measure_energy`` reads NVML on NVIDIA GPUs; and
``cost_table`` / ``costs`` join all of these with the published tables of
:mod:`gcnas.data.hardware_tables` behind one source-spec string per cost. ``imc_costs``
is the in-memory-computing (crossbar) cost model of any network (:mod:`gcnas.hardware.imc`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcnas._lazy import lazy_exports

_EXPORTS = {
    'ENERGY_SPECS': 'sources',
    'LATENCY_SPECS': 'sources',
    'PRESETS': 'energy',
    'ADC_SCALING': 'imc',
    'EnergyModel': 'energy',
    'IMCConfig': 'imc',
    'IMCCosts': 'imc',
    'IMCLayer': 'imc',
    'LatencyResult': 'latency',
    'check_costs': 'sources',
    'cost_table': 'sources',
    'costs': 'sources',
    'estimate_energy': 'energy',
    'imc_costs': 'imc',
    'imc_costs_of': 'imc',
    'imc_costs_of_layers': 'imc',
    'measure_energy': 'nvml',
    'measure_energy_many': 'nvml',
    'measure_latencies': 'latency',
    'measure_latency': 'latency',
    'resolve_clock': 'latency',
    'measure_many': 'latency',
    'measurement_key': 'latency',
    'nvml_available': 'nvml',
    'resolve_device': 'latency',
    'sweep': 'latency',
}
"""Public name -> the submodule that defines it (loaded on first use: gcnas._lazy)."""

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.hardware.energy import PRESETS, EnergyModel, estimate_energy
    from gcnas.hardware.imc import (ADC_SCALING, IMCConfig, IMCCosts, IMCLayer, imc_costs, imc_costs_of,
                                    imc_costs_of_layers)
    from gcnas.hardware.latency import (LatencyResult, measure_latencies, measure_latency, measure_many, measurement_key,
                                        resolve_clock, resolve_device, sweep)
    from gcnas.hardware.nvml import measure_energy, measure_energy_many, nvml_available
    from gcnas.hardware.sources import ENERGY_SPECS, LATENCY_SPECS, check_costs, cost_table, costs
