"""Parameters and FLOPs of any ``torch.nn.Module``, counted by forward hooks on its leaf modules.

Two counting rules, because published benchmarks use different ones:

``"torchstat"``
    The rule of ``tensorwatch.ModelStats`` (its ``torchstat`` analyser), through which
    NASLib's ``ZeroCost(method_type="flops" | "params")`` produced the ``flops`` and
    ``params`` columns of NAS-Bench-Suite-Zero. Only leaf modules that run in an
    ``eval()`` forward count (a module that never runs, like an auxiliary head outside
    training, adds nothing). Params: the tensors of those leaves. FLOPs: ``Conv2d``
    ``k_h k_w C_in (C_out / groups) H_out W_out`` (+ bias), ``Linear`` ``in * out``,
    ``BatchNorm2d`` one per input element (two with affine parameters), ReLU one per
    input element, ``MaxPool2d`` / ``AvgPool2d`` ``k^2`` per output element,
    ``AdaptiveAvgPool2d`` ``(window + 1)^2`` per output element (torchstat's off-by-one
    kept, as the published numbers include it); everything else zero.

``"macs"``
    Multiply-accumulates of ``Conv2d`` and ``Linear`` (bias additions counted), the rule
    of NAS-Bench-201's ``get_model_infos``; params: every parameter of the module.

Both count one image (batch 1).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError

__all__ = ["RULES", "Counts", "count_module", "trace_calls"]

RULES: tuple[str, ...] = ("torchstat", "macs")
"""The counting rules :func:`count_module` knows."""


class Counts(NamedTuple):
    """What :func:`count_module` counted.

    Attributes:
        params: Parameters (plain count, not millions).
        flops: FLOPs under the rule (plain count).
    """

    params: int
    flops: int


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _torchstat_flops(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        out_c, out_h, out_w = y.shape[1:]
        flops = k_h * k_w * x.shape[1] * (out_c // module.groups) * out_h * out_w
        return flops + (out_c * out_h * out_w if module.bias is not None else 0)
    if isinstance(module, nn.BatchNorm2d):
        return x.numel() * (2 if module.affine else 1)
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        k_h, k_w = _pair(module.kernel_size)
        s = _pair(module.stride)[0]  # torchstat uses the first stride for both sides
        p_h, p_w = _pair(module.padding)
        out_w = math.floor((x.shape[3] + 2 * p_h - k_h) / s + 1)
        out_h = math.floor((x.shape[2] + 2 * p_w - k_w) / s + 1)
        return x.shape[1] * out_w * out_h * k_h * k_w
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        h, w = x.shape[2:]
        oh, ow = y.shape[2:]
        flops = 0
        for i in range(oh):
            span_h = math.ceil((i + 1) * h / oh) - math.floor(i * h / oh)
            for j in range(ow):
                span_w = math.ceil((j + 1) * w / ow) - math.floor(j * w / ow)
                flops += x.shape[1] * (span_h + 1) * (span_w + 1)
        return flops
    if isinstance(module, (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)):
        return x.numel()
    if isinstance(module, nn.Linear):
        return x.shape[-1] * y.shape[-1]
    return 0


def _macs(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        per_output = k_h * k_w * module.in_channels // module.groups + (1 if module.bias is not None else 0)
        return y.numel() * per_output
    if isinstance(module, nn.Linear):
        return y.numel() * (module.in_features + (1 if module.bias is not None else 0))
    return 0


def trace_calls(model: nn.Module, input_shape: Sequence[int], select: Callable[[nn.Module], bool],
                record: Callable[[str, nn.Module, torch.Tensor, Any], None]) -> None:
    """Run ``model`` once on zeros (batch 1, ``eval()``, no gradient) and report every call of the
    submodules ``select`` picks: ``record(name, module, input, output)``, in the order they run.

    The one tracing pass behind :func:`count_module` and the IMC cost model
    (``gcnas.hardware.imc_costs``): only modules that run are reported, and ``model`` is put back
    in the mode it was in.

    Args:
        model: Any module taking one ``(1, *input_shape)`` tensor.
        input_shape: ``(channels, height, width)``.
        select: Which submodules to report.
        record: Called for every call of a selected submodule (its first input, its output).
    """
    handles = [module.register_forward_hook(
        lambda module, inputs, output, name=name: record(name, module, inputs[0], output))
        for name, module in model.named_modules() if select(module)]
    was_training = model.training
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def count_module(model: nn.Module, input_shape: Sequence[int] = (3, 32, 32), *, rule: str = "torchstat") -> Counts:
    """Count the parameters and FLOPs of one forward pass of ``model`` on one image.

    The model is run in ``eval()`` mode under ``torch.no_grad()`` on zeros, then put back
    in the mode it was in; its weights are not changed.

    Args:
        model: Any module taking one ``(1, *input_shape)`` tensor.
        input_shape: ``(channels, height, width)`` of one input.
        rule: ``"torchstat"`` or ``"macs"`` (see the module docstring).

    Returns:
        :class:`Counts` (plain counts; divide by 1e6 for the published units).

    Example:
        >>> count_module(nn.Conv2d(3, 8, 3, padding=1, bias=False), (3, 4, 4), rule="macs")
        Counts(params=216, flops=3456)
    """
    if rule not in RULES:
        raise InvalidInputError(f"unknown counting rule {rule!r}; choose one of {', '.join(RULES)}")
    per_leaf: dict[str, tuple[int, int]] = {}
    flop_fn = _torchstat_flops if rule == "torchstat" else _macs

    def record(name: str, module: nn.Module, x: torch.Tensor, output: object) -> None:
        y = output[0] if isinstance(output, (tuple, list)) else output
        params = sum(p.numel() for p in module.parameters(recurse=False))
        per_leaf[name] = (params, int(flop_fn(module, x, y)))  # the last call counts, as in torchstat

    trace_calls(model, input_shape, lambda module: not any(True for _ in module.children()), record)
    flops = sum(f for _, f in per_leaf.values())
    if rule == "torchstat":
        params = sum(p for p, _ in per_leaf.values())
    else:
        params = sum(p.numel() for p in model.parameters())
    return Counts(int(params), int(flops))
