"""``gcnas arch export``: ONNX run by onnxruntime, TorchScript and pt round trips, and bad weights files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from gcnas.cli import main
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch
from gcnas.supernet.export import export_model
from gcnas.supernet.standalone import TrainedModel, load_model, partial_path, train_model

ARCH = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|")


class Killed(Exception):
    """Raised from the epoch callback: training stops with only a partial file kept."""


@pytest.fixture(scope="module")
def digits():
    from gcnas.data.images import load_images

    return load_images("digits")


@pytest.fixture(scope="module")
def weights(tmp_path_factory, digits):
    """A ``RUN/models/<code>.pt`` of ``ARCH`` trained for 2 tiny epochs on digits."""
    run = tmp_path_factory.mktemp("run")
    return str(train_model(run, ARCH, data=digits, epochs=2, channels=4, cells=1, batch_size=32, steps_per_epoch=3,
                           device="cpu").path)


def _export(capsys, *argv) -> dict:
    assert main(["arch", "export", *argv, "--output-format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _reference(weights: str, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return load_model(weights).network(x).numpy()


def test_onnx_runs_in_onnxruntime_like_pytorch(tmp_path, capsys, weights, digits):
    onnxruntime = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    out = tmp_path / "net.onnx"
    record = _export(capsys, str(ARCH.code), "--weights", weights, "--format", "onnx", "--out", str(out))
    assert record["trained"] and record["checked_with"].startswith("onnxruntime") and record["max_abs_diff"] < 1e-5

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    real = next(digits.test.batches(7))[0]                      # real images, another batch size than traced
    noise = torch.randn(5, 3, 24, 24, generator=torch.Generator().manual_seed(3))   # another image size
    for x in (real, noise):
        got = session.run(["logits"], {"images": x.numpy()})[0]
        expected = _reference(weights, x)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["gcnas_arch"] == str(ARCH) and meta["gcnas_image_size"] == "16" and meta["gcnas_trained"] == "True"
    assert json.loads(meta["gcnas_mean"]) == pytest.approx(list(digits.train.mean))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_round_trip(tmp_path, capsys, weights):
    out = tmp_path / "net.ts"
    record = _export(capsys, str(ARCH), "--weights", weights, "--format", "torchscript", "--out", str(out))
    assert record["max_abs_diff"] == 0.0
    files = {"gcnas.json": ""}
    loaded = torch.jit.load(str(out), _extra_files=files)
    assert json.loads(files["gcnas.json"])["gcnas_arch"] == str(ARCH)
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), _reference(weights, x))


def test_pt_round_trip_keeps_weights_arch_and_settings(tmp_path, capsys, weights):
    out = tmp_path / "net.pt"
    _export(capsys, str(ARCH.code), "--weights", weights, "--format", "pt", "--out", str(out))
    copy, original = load_model(out), load_model(weights)
    assert copy.arch == ARCH and copy.settings == original.settings and copy.result == original.result
    assert copy.preprocessing == original.preprocessing and copy.history == original.history
    for key, value in original.network.state_dict().items():
        assert torch.equal(copy.network.state_dict()[key], value), key


def test_without_weights_exports_the_initialised_network_and_says_so(tmp_path, capsys):
    out = tmp_path / "init.pt"
    assert main(["arch", "export", str(ARCH.code), "--format", "pt", "--out", str(out), "--channels", "4",
                 "--cells", "1", "--num-classes", "3", "--seed", "5"]) == 0
    assert "no --weights given, so this is the network as initialised (seed 5), untrained" in capsys.readouterr().out
    model = load_model(out)
    assert not model.trained and model.settings["num_classes"] == 3
    fresh = TrainedModel.initialised(ARCH, channels=4, cells=1, num_classes=3, seed=5)
    for key, value in fresh.network.state_dict().items():
        assert torch.equal(model.network.state_dict()[key], value), key


def test_bad_weights_files_are_one_line_errors(tmp_path, capsys, weights, digits):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    train_killed = tmp_path / "killed"

    def kill(record):
        raise Killed

    with pytest.raises(Killed):
        train_model(train_killed, ARCH, data=digits, epochs=2, channels=4, cells=1, batch_size=32, steps_per_epoch=2,
                    device="cpu", callback=kill)
    cases = [
        (["0", "--weights", weights], f"holds the weights of {ARCH} (code {ARCH.code}), not of"),
        ([str(ARCH.code), "--weights", str(junk)], "is not a readable model file"),
        ([str(ARCH.code), "--weights", str(tmp_path / "none.pt")], "no model file at"),
        ([str(ARCH.code), "--weights", str(partial_path(train_killed, ARCH))], "is an unfinished training"),
        ([str(ARCH.code), "--weights", weights, "--channels", "8"], "--channels 8 contradicts"),
    ]
    for argv, message in cases:
        assert main(["arch", "export", *argv, "--format", "pt", "--out", str(tmp_path / "x.pt")]) == 1
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, (argv, err)
    assert not (tmp_path / "x.pt").exists()


def test_onnx_without_the_onnx_package_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)                 # import onnx now raises ModuleNotFoundError
    model = TrainedModel.initialised(ARCH, channels=4, cells=1, image_size=8)
    with pytest.raises(InvalidInputError, match=r"pip install 'gcnas\[export\]'"):
        export_model(model, tmp_path / "net.onnx", format="onnx")
    with pytest.raises(InvalidInputError, match="unknown export format 'tflite'"):
        export_model(model, tmp_path / "net.tflite", format="tflite")


def test_export_module_imports_onnx_lazily():
    code = "import sys, gcnas.cli.arch, gcnas.supernet.export; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
