"""``gcnas train`` and ``train_model``: weights kept per architecture, resumed after a kill, never overwritten."""

from __future__ import annotations

import json

import pytest
import torch

from gcnas.cli import main
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.spaces.nb201 import Arch
from gcnas.supernet.standalone import load_model, model_path, partial_path, train_model

ARCH = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|")
TINY = dict(dataset="digits", channels=4, cells=1, batch_size=32, steps_per_epoch=3, device="cpu")
TINY_FLAGS = ["--channels", "4", "--cells", "1", "--batch-size", "32", "--steps-per-epoch", "3", "--device", "cpu"]


class Killed(Exception):
    """Raised from the epoch callback: the process dies once that epoch is kept."""


@pytest.fixture(scope="module")
def digits():
    from gcnas.data.images import load_images

    return load_images("digits")


def _without_seconds(history):
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


def test_killed_training_resumes_to_the_uninterrupted_result(tmp_path, digits):
    # 3 epochs, killed after the first: the schedule of epoch 3 depends on the restored scheduler state
    whole = train_model(tmp_path / "whole", ARCH, epochs=3, data=digits, **TINY)
    assert whole.epochs_run == 3 and [r["epoch"] for r in whole.history] == [1, 2, 3]

    def kill_after_first(record):
        if record["epoch"] == 1:
            raise Killed

    run = tmp_path / "killed"
    with pytest.raises(Killed):
        train_model(run, ARCH, epochs=3, data=digits, callback=kill_after_first, **TINY)
    assert partial_path(run, ARCH).exists() and not model_path(run, ARCH).exists()

    epochs_seen = []
    resumed = train_model(run, ARCH, epochs=3, data=digits, callback=lambda r: epochs_seen.append(r["epoch"]),
                          **TINY)
    assert epochs_seen == [2, 3] and resumed.epochs_run == 2       # the finished epoch is not repeated
    assert not partial_path(run, ARCH).exists() and resumed.path == model_path(run, ARCH)
    assert _without_seconds(resumed.history) == _without_seconds(whole.history)
    for key, value in whole.network.state_dict().items():
        assert torch.equal(resumed.network.state_dict()[key], value), key
    for key in ("valid_accuracy", "test_accuracy", "valid_loss", "test_loss", "train_accuracy"):
        assert resumed.result[key] == whole.result[key]

    kept = load_model(model_path(run, ARCH))                         # what the file holds
    assert kept.arch == ARCH and kept.settings == whole.settings and kept.result == resumed.result
    assert kept.preprocessing["image_size"] == 16 and len(kept.preprocessing["mean"]) == 3
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(kept.network(x), whole.network(x))

    again = train_model(run, ARCH, epochs=3, data=digits, callback=lambda r: epochs_seen.append(r["epoch"]), **TINY)
    assert again.epochs_run == 0 and epochs_seen == [2, 3] and again.result == kept.result


def test_other_settings_are_refused_naming_them(tmp_path, digits):
    run = tmp_path / "run"
    train_model(run, ARCH, epochs=1, data=digits, **TINY)
    before = model_path(run, ARCH).read_bytes()
    with pytest.raises(InvalidInputError, match=r"epochs=1 \(asked 2\), lr=0.1 \(asked 0.05\)"):
        train_model(run, ARCH, epochs=2, lr=0.05, data=digits, **TINY)
    assert model_path(run, ARCH).read_bytes() == before               # not overwritten

    with pytest.raises(Killed):
        train_model(tmp_path / "partial", ARCH, epochs=2, data=digits, callback=_raise, **TINY)
    with pytest.raises(InvalidInputError, match=r"unfinished training with other settings \(seed=0 \(asked 1\)\)"):
        train_model(tmp_path / "partial", ARCH, epochs=2, seed=1, data=digits, **TINY)


def _raise(record):
    raise Killed


def test_load_model_errors(tmp_path, digits):
    with pytest.raises(DataNotFoundError, match="no model file"):
        load_model(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CorruptFileError, match="not a readable model file"):
        load_model(junk)
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(CorruptFileError, match="not a gcnas model file"):
        load_model(tmp_path / "other.pt")
    with pytest.raises(Killed):
        train_model(tmp_path / "run", ARCH, epochs=2, data=digits, callback=_raise, **TINY)
    with pytest.raises(InvalidInputError, match="unfinished training"):
        load_model(partial_path(tmp_path / "run", ARCH))


def test_cli_train_json_then_rerun_and_refusal(tmp_path, capsys):
    run = str(tmp_path / "run")
    argv = ["train", str(ARCH.code), "--run", run, "--epochs", "2", *TINY_FLAGS]
    assert main([*argv, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arch"] == str(ARCH) and out["code"] == ARCH.code and out["epochs_run"] == 2
    assert out["path"] == str(model_path(run, ARCH)) and [r["epoch"] for r in out["history"]] == [1, 2]
    assert out["settings"]["epochs"] == 2 and out["settings"]["channels"] == 4 and out["settings"]["lr"] == 0.1
    assert 0 <= out["result"]["test_accuracy"] <= 100
    assert load_model(out["path"]).result == out["result"]

    assert main(argv) == 0                                             # finished: the kept result, nothing rerun
    printed = capsys.readouterr().out
    assert "already trained; nothing rerun" in printed and f"{out['result']['test_accuracy']:.2f}%" in printed

    assert main(["train", str(ARCH), "--run", run, "--epochs", "3", *TINY_FLAGS]) == 1
    err = capsys.readouterr().err.strip()
    assert "epochs=2 (asked 3)" in err and "\n" not in err


def test_cli_train_on_an_image_folder(tmp_path, capsys, monkeypatch, image_folder_factory):
    monkeypatch.setenv("GCNAS_CACHE_DIR", str(tmp_path / "cache"))
    folder = image_folder_factory(tmp_path / "images")
    run = str(tmp_path / "run")
    assert main(["train", "15624", "--run", run, "--dataset", "imagefolder", "--data-root", str(folder),
                 "--image-size", "8", "--epochs", "1", *TINY_FLAGS, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["settings"]["dataset"] == "imagefolder" and out["settings"]["num_classes"] == 3
    assert out["preprocessing"]["image_size"] == 8
    model = load_model(out["path"])
    assert model.network(torch.zeros(1, 3, 8, 8)).shape == (1, 3)


@pytest.mark.parametrize("argv, message", [
    (["train", "15624", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["train", "|bogus~0|"], "bogus"),
    (["train", "15624", "--epochs", "0"], "epochs must be positive"),
])
def test_cli_train_errors_are_one_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--run", str(tmp_path / "r"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
