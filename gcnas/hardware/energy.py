"""An analytic energy estimate for any machine: arithmetic plus memory traffic.

Energy of one inference (batch 1) is the sum over the layers of the network (the space's
``layer_sums``: NAS-Bench-201's layer lists, :func:`gcnas.spaces.nb201.counts.network_layers`) of

- ``macs * mac_pj``: multiply-accumulates of convolutions and the classifier;
- ``elementwise * add_pj``: pooling sums, BatchNorm scale and shift, ReLU, node sums;
- ``(reads + writes) * sram_pj``: activations moved through an on-chip buffer;
- ``params * dram_pj``: every weight fetched once from DRAM.

This is an ESTIMATE, not a measurement. The default constants are the 45 nm figures of
M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
(as tabulated by Han et al., "Learning both Weights and Connections", NeurIPS 2015):
32-bit float multiply 3.7 pJ and add 0.9 pJ (MAC 4.6 pJ), 32-bit SRAM access 5 pJ,
32-bit DRAM access 640 pJ; 8-bit integer multiply 0.2 pJ and add 0.03 pJ. Absolute
values are indicative only; the model is meant for ranking architectures, and its rank
agreement with published measurements is reported in ``benchmarks/hardware_rank.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import DEFAULT_SPACE, get_space

__all__ = ["EnergyModel", "PRESETS", "estimate_energy"]


SPACE = DEFAULT_SPACE
"""The default space whose networks the model weighs (through the registry); it must offer ``layer_sums``."""


def _layer_sums(archs: Sequence[Any], space: Any = SPACE, **network: int) -> dict[str, np.ndarray]:
    space = get_space(space) if isinstance(space, str) else space
    sums = getattr(space, "layer_sums", None)
    if not callable(sums):
        raise InvalidInputError(f"the analytic energy model needs the layer sums of the space's networks; "
                                f"{space.name!r} offers no layer_sums")
    return sums(list(archs), **network)

@dataclass(frozen=True)
class EnergyModel:
    """Per-operation energies (picojoules) of the analytic model.

    Args:
        mac_pj: One multiply-accumulate.
        add_pj: One element-wise operation.
        sram_pj: One activation word read or written on chip.
        dram_pj: One weight word fetched from DRAM.
        name: Label stored with the estimate.

    Example:
        >>> model = EnergyModel.preset("fp32")
        >>> model.energy_mj([Any((3,) * 6)])        # (1,) mJ
    """

    mac_pj: float = 4.6
    add_pj: float = 0.9
    sram_pj: float = 5.0
    dram_pj: float = 640.0
    name: str = "horowitz45nm-fp32"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "name" and (not isinstance(value, (int, float)) or not value >= 0):
                raise InvalidInputError(f"EnergyModel.{f.name} must be a number >= 0 (pJ), got {value!r}")

    @classmethod
    def preset(cls, precision: str = "fp32") -> EnergyModel:
        """The Horowitz (ISSCC 2014) 45 nm constants for ``fp32`` or ``int8``."""
        if precision not in PRESETS:
            raise InvalidInputError(f"unknown energy model preset {precision!r}; choose {', '.join(PRESETS)}")
        return PRESETS[precision]

    def _per_layer_pj(self) -> np.ndarray:
        # weights of the Layer fields macs, params, reads, writes, elementwise
        return np.array([self.mac_pj, self.dram_pj, self.sram_pj, self.sram_pj, self.add_pj])

    def energy_mj(self, archs: Sequence[Any], *, channels: int = 16, cells: int = 5,
                  num_classes: int = 10, input_size: int = 32, space: Any = SPACE) -> np.ndarray:
        """Estimated energy of one inference of each architecture of ``space`` (one with
        ``layer_sums``; ``channels`` / ``cells`` its network's shape), ``(n,)`` mJ."""
        sums = _layer_sums(archs, space, channels=channels, cells=cells, num_classes=num_classes,
                           input_size=input_size)
        total = np.zeros(len(archs))
        for weight, field in zip(self._per_layer_pj(), ("macs", "params", "reads", "writes", "elementwise")):
            total += weight * sums[field]
        return total * 1e-9

    def breakdown(self, arch: Any, *, space: Any = SPACE, **network: int) -> dict[str, float]:
        """Where the energy of one architecture of ``space`` goes, in mJ per term."""
        sums = {field: float(values[0]) for field, values in _layer_sums([arch], space, **network).items()}
        return {
            "compute_mj": (sums["macs"] * self.mac_pj + sums["elementwise"] * self.add_pj) * 1e-9,
            "activations_mj": (sums["reads"] + sums["writes"]) * self.sram_pj * 1e-9,
            "weights_mj": sums["params"] * self.dram_pj * 1e-9,
        }


PRESETS: dict[str, EnergyModel] = {
    "fp32": EnergyModel(),
    # 8-bit: multiply 0.2 + add 0.03 pJ; memory energies scale with the word width (/4).
    "int8": EnergyModel(mac_pj=0.23, add_pj=0.03, sram_pj=1.25, dram_pj=160.0, name="horowitz45nm-int8"),
}
"""Named constant sets of :class:`EnergyModel`."""


def estimate_energy(archs: Sequence[Any], *, precision: str = "fp32", channels: int = 16, cells: int = 5,
                    num_classes: int = 10, input_size: int = 32) -> np.ndarray:
    """Analytic energy estimate (mJ per inference) with a preset of constants.

    Args:
        archs: Architectures.
        precision: ``fp32`` or ``int8`` constants.
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
        input_size: Square input resolution.

    Returns:
        ``(n,)`` float64 mJ.
    """
    return EnergyModel.preset(precision).energy_mj(archs, channels=channels, cells=cells,
                                                   num_classes=num_classes, input_size=input_size)
