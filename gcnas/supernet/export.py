"""Shipping one architecture's network: ONNX, TorchScript or a plain ``pt`` model file.

Every export is checked by running the written file on a seeded random batch (of another
size than the one traced, so a batch size baked into the graph is caught) and comparing its
output with PyTorch's. ONNX is written with PyTorch's TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``), which needs only the ``onnx`` package; the
newer ``torch.export``-based exporter needs ``onnxscript`` as well and took ten times as
long on these networks. ``onnx`` and ``onnxruntime`` (the check) are imported only here,
only when asked for: ``pip install gcnas[export]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import decision_index
from gcnas.supernet.standalone import TrainedModel, load_model

__all__ = ["EXPORT_FORMATS", "export_model"]

EXPORT_FORMATS: tuple[str, ...] = ("onnx", "pt", "torchscript")
ONNX_OPSET = 17
"""ONNX opset written: read by onnxruntime >= 1.14 and most other runtimes."""

_INPUT, _OUTPUT = "images", "logits"


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise InvalidInputError(f"exporting to ONNX needs the {module} package, which is not installed here; "
                                "pip install 'gcnas[export]' (onnx, onnxruntime)") from None


def _example(batch: int, image_size: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, image_size, image_size, generator=generator)


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' deprecation and tracer warnings (the check of the written file is what counts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


def _metadata(model: TrainedModel) -> dict[str, str]:
    """What a user of the file needs beside it: the arch, the input normalisation (JSON lists), the accuracies."""
    pre = model.preprocessing
    meta = {"gcnas_arch": model.space.format(model.arch), "gcnas_code": str(decision_index(model.space, model.arch)), "gcnas_trained": str(model.trained),
            "gcnas_image_size": str(pre.get("image_size")), "gcnas_mean": json.dumps(pre.get("mean")),
            "gcnas_std": json.dumps(pre.get("std")), "gcnas_num_classes": str(model.settings.get("num_classes"))}
    for key in ("dataset", "epochs", "seed"):
        if key in model.settings:
            meta[f"gcnas_{key}"] = str(model.settings[key])
    for key in ("valid_accuracy", "test_accuracy"):
        if key in model.result:
            meta[f"gcnas_{key}"] = f"{model.result[key]:.4f}"
    return meta


def _write_onnx(net: torch.nn.Module, example: torch.Tensor, path: Path, model: TrainedModel) -> None:
    onnx = _require("onnx")
    with _quiet():
        torch.onnx.export(net, (example,), str(path), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=[_INPUT], output_names=[_OUTPUT],
                          dynamic_axes={_INPUT: {0: "batch", 2: "height", 3: "width"}, _OUTPUT: {0: "batch"}})
    proto = onnx.load(str(path))
    for key, value in _metadata(model).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def _write_torchscript(net: torch.nn.Module, example: torch.Tensor, path: Path, model: TrainedModel) -> None:
    # torch.jit is deprecated in favour of torch.export, but LibTorch (C++) still loads only this format
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(net, example)
        torch.jit.save(traced, str(path), _extra_files={"gcnas.json": json.dumps(_metadata(model))})


def _run_exported(path: Path, fmt: str, x: torch.Tensor) -> tuple[np.ndarray | None, str | None]:
    """The written file's output on ``x`` and what ran it (``None``: no runtime here)."""
    if fmt == "onnx":
        try:
            import onnxruntime
        except ModuleNotFoundError:
            return None, None
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {_INPUT: x.numpy()})[0], f"onnxruntime {onnxruntime.__version__}"
    if fmt == "torchscript":
        with _quiet(), torch.no_grad():
            loaded = torch.jit.load(str(path), map_location="cpu")
            return loaded(x).numpy(), f"torch.jit.load (torch {torch.__version__})"
    with torch.no_grad():
        return load_model(path).network(x).numpy(), "gcnas.supernet.standalone.load_model"


def export_model(model: TrainedModel, path: str | os.PathLike, *, format: str, image_size: int | None = None,
                 check: bool = True, seed: int = 0) -> dict[str, Any]:
    """Write the network of ``model`` to ``path`` and check the file against PyTorch.

    Args:
        model: A :class:`TrainedModel` (:func:`~gcnas.supernet.standalone.load_model`, or
            :meth:`TrainedModel.initialised` for an untrained network).
        path: Destination file (parent folders are created).
        format: ``onnx`` (input ``images`` ``(N, 3, H, W)`` float32, normalised, output
            ``logits`` ``(N, num_classes)``; batch, height and width dynamic; the arch,
            normalisation and accuracies in the model's metadata), ``torchscript`` (traced;
            the same figures in the extra file ``gcnas.json``) or ``pt`` (the model file:
            state dict, arch, settings, history, normalisation).
        image_size: Side of the example batch traced (default: the model's image size).
        check: Run the written file on another batch and compare with PyTorch's output.
        seed: Seed of the example and check batches.

    Returns:
        ``{"format", "path", "bytes", "arch", "code", "trained", "image_size", "mean", "std",
        "max_abs_diff", "checked_with"}``; ``max_abs_diff`` and ``checked_with`` are ``None``
        when not checked (``check=False``, or ONNX without onnxruntime installed).

    Raises:
        InvalidInputError: An unknown format, or ONNX asked without the ``onnx`` package.

    Example:
        >>> model = load_model("runs/ship/models/11668.pt")   # docs/supernet.md
        >>> export_model(model, "net.onnx", format="onnx")["max_abs_diff"]
        2.384185791015625e-06
    """
    if format not in EXPORT_FORMATS:
        raise InvalidInputError(f"unknown export format {format!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if not isinstance(model, TrainedModel):
        raise InvalidInputError(f"model must be a TrainedModel (load_model(path) or TrainedModel.initialised(arch)), "
                                f"got {type(model).__name__}")
    size = int(image_size or model.preprocessing.get("image_size") or model.settings.get("image_size") or 32)
    if size < 1:
        raise InvalidInputError(f"image_size must be positive, got {size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = model.network.to("cpu").eval()
    example = _example(2, size, seed)
    if format == "onnx":
        _write_onnx(net, example, path, model)
    elif format == "torchscript":
        _write_torchscript(net, example, path, model)
    else:
        model.save(path)
    record: dict[str, Any] = {
        "format": format, "path": str(path), "bytes": path.stat().st_size, "arch": str(model.arch),
        "code": decision_index(model.space, model.arch), "trained": model.trained, "image_size": size,
        "mean": model.preprocessing.get("mean"), "std": model.preprocessing.get("std"),
        "max_abs_diff": None, "checked_with": None}
    if check:
        x = _example(3, size, seed + 1)
        got, runtime = _run_exported(path, format, x)
        if got is not None:
            with torch.no_grad():
                expected = net(x).numpy()
            record["max_abs_diff"] = float(np.abs(got - expected).max())
            record["checked_with"] = runtime
    return record
