"""Energy measured on NVIDIA GPUs through NVML (the driver's ``libnvidia-ml``).

NVML's ``nvmlDeviceGetTotalEnergyConsumption`` is a per-GPU counter in millijoules
(Volta and newer). Reading it before and after many forward passes and dividing by the
pass count gives measured energy per inference, idle power of the whole board
included. The library is loaded with ``ctypes``, so no Python package is needed; on a
machine without an NVIDIA driver (like the 2-core CPU box these figures were made on),
:func:`nvml_available` says why and :func:`measure_energy` raises
:class:`~gcnas.exceptions.DataNotFoundError`, never a zero.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import statistics
import time

from typing import Any, Sequence

from gcnas.data.store import RunStore
from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.data.images import dataset_shape
from gcnas.hardware.latency import measurement_key, sweep

__all__ = ["nvml_available", "measure_energy", "measure_energy_many"]

_LIBRARY_NAMES = ("libnvidia-ml.so.1", "libnvidia-ml.so", "nvml.dll")


def _load() -> ctypes.CDLL:
    errors = []
    candidates = list(_LIBRARY_NAMES)
    found = ctypes.util.find_library("nvidia-ml")
    if found:
        candidates.insert(0, found)
    for name in candidates:
        try:
            return ctypes.CDLL(name)
        except OSError as error:
            errors.append(f"{name}: {error}")
    raise DataNotFoundError("NVML is not available on this machine (no NVIDIA driver library "
                            f"libnvidia-ml found: {'; '.join(errors[:2])}); measured energy needs an "
                            "NVIDIA GPU. Use energy='model' (analytic estimate) or 'hwnb:PICKLE:DEVICE'")


class _NVML:
    """The few NVML calls needed, on one GPU."""

    def __init__(self, index: int) -> None:
        self.lib = _load()
        self._check(self.lib.nvmlInit_v2(), "nvmlInit")
        self.handle = ctypes.c_void_p()
        self._check(self.lib.nvmlDeviceGetHandleByIndex_v2(ctypes.c_uint(index), ctypes.byref(self.handle)),
                    f"nvmlDeviceGetHandleByIndex({index})")

    def _check(self, status: int, call: str) -> None:
        if status != 0:
            self.lib.nvmlErrorString.restype = ctypes.c_char_p
            reason = self.lib.nvmlErrorString(status).decode()
            raise DataNotFoundError(f"NVML {call} failed: {reason} (code {status}); measured energy is "
                                    "unavailable on this GPU")

    def energy_mj(self) -> int:
        value = ctypes.c_ulonglong()
        self._check(self.lib.nvmlDeviceGetTotalEnergyConsumption(self.handle, ctypes.byref(value)),
                    "nvmlDeviceGetTotalEnergyConsumption")
        return int(value.value)

    def close(self) -> None:
        self.lib.nvmlShutdown()


def nvml_available() -> tuple[bool, str]:
    """Whether NVML energy counters can be read here, and why not when they cannot."""
    try:
        nvml = _NVML(0)
        nvml.energy_mj()
        nvml.close()
    except DataNotFoundError as error:
        return False, str(error)
    return True, "NVML energy counter readable on GPU 0"


def measure_energy(arch: Any, *, device: str = "cuda", batch_size: int = 1, min_seconds: float = 2.0,
                   repeats: int = 3, dataset: str = "cifar10", seed: int = 0) -> tuple[float, float]:
    """Measured energy per inference (mJ) on an NVIDIA GPU, read from NVML.

    Each repeat runs forward passes for at least ``min_seconds`` (the counter ticks
    coarsely) and divides the energy counter's increase by the number of images.

    Args:
        arch: The architecture.
        device: ``cuda`` or ``cuda:N``.
        batch_size: Images per forward pass.
        min_seconds: Duration of one repeat.
        repeats: Repeats; the median is reported.
        dataset: Input size and class count.
        seed: Seeds weights and input.

    Returns:
        ``(median_mj_per_image, spread_mj)`` (spread: max - min over repeats).

    Raises:
        DataNotFoundError: NVML or CUDA is absent.
    """
    import torch

    from gcnas.spaces import get_space

    if not str(device).startswith("cuda"):
        raise InvalidInputError(f"NVML energy is measured on a CUDA device, got {device!r}")
    if not torch.cuda.is_available():
        raise DataNotFoundError("measured energy needs CUDA and NVML, and CUDA is not available here; "
                                "use energy='model' (analytic estimate) or 'hwnb:PICKLE:DEVICE'")
    index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
    nvml = _NVML(index)
    num_classes, size = dataset_shape(dataset)
    torch.manual_seed(seed)
    model = get_space("nb201").network(arch, num_classes=num_classes).to(device).eval()
    inputs = torch.randn(batch_size, 3, size, size, device=device)
    per_image = []
    try:
        with torch.inference_mode():
            for _ in range(5):
                model(inputs)
            torch.cuda.synchronize(device)
            for _ in range(repeats):
                start_mj, start, passes = nvml.energy_mj(), time.perf_counter(), 0
                while time.perf_counter() - start < min_seconds:
                    model(inputs)
                    passes += 1
                    if passes % 20 == 0:
                        torch.cuda.synchronize(device)
                torch.cuda.synchronize(device)
                per_image.append((nvml.energy_mj() - start_mj) / (passes * batch_size))
    finally:
        nvml.close()
    return statistics.median(per_image), max(per_image) - min(per_image)


def measure_energy_many(archs: Sequence[Any], store: RunStore, *, device: str = "cuda", batch_size: int = 1,
                        min_seconds: float = 2.0, repeats: int = 3, dataset: str = "cifar10",
                        progress: bool = True, seed: int = 0) -> dict[str, int]:
    """NVML-measured energy of many architectures into ``store`` (metric ``energy_mj``), resumably.

    Args and returns as :func:`gcnas.hardware.measure_many`; raises
    :class:`~gcnas.exceptions.DataNotFoundError` up front when NVML or CUDA is absent.
    """
    available, why = nvml_available()
    if not available:
        raise DataNotFoundError(why)
    key = measurement_key(device, batch_size=batch_size, dataset=dataset)

    def measure(arch: Any) -> tuple[float, float]:
        return measure_energy(arch, device=device, batch_size=batch_size, min_seconds=min_seconds,
                              repeats=repeats, dataset=dataset, seed=seed)

    return sweep(archs, store, "energy_mj", key, measure, source=f"nvml:{device}", progress=progress)
