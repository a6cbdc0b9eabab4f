from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.supernet import checkpoint_path, load_supernet, train_supernet
from tests.supernet.conftest import TINY

VOLATILE = ("seconds", "images_per_s")


def _stable(history):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in history]


class Stop(KeyboardInterrupt):
    pass


def _stop_after(epochs):
    def callback(record):
        if record["epoch"] == epochs:
            raise Stop
    return callback


@pytest.mark.parametrize("strategy", ["gaea", "snas"])
def test_resume_equals_uninterrupted_run(tmp_path, digits, strategy):
    kwargs = dict(strategy=strategy, epochs=2, seed=7, data=digits, **TINY)
    whole = train_supernet(tmp_path / "whole", **kwargs)
    with pytest.raises(Stop):
        train_supernet(tmp_path / "split", callback=_stop_after(1), **kwargs)
    assert torch.load(checkpoint_path(tmp_path / "split"), weights_only=True)["epoch"] == 1
    resumed = train_supernet(tmp_path / "split", resume=True, **kwargs)
    assert _stable(resumed.history) == _stable(whole.history)
    for name, value in whole.supernet.state_dict().items():
        assert torch.equal(value, resumed.supernet.state_dict()[name]), name
    assert torch.equal(whole.strategy.probabilities(), resumed.strategy.probabilities())


def test_history_json_and_load(tmp_path, digits):
    trained = train_supernet(tmp_path, strategy="darts", epochs=2, data=digits, **TINY)
    saved = json.loads((tmp_path / "supernet" / "history.json").read_text())
    assert [r["epoch"] for r in saved["epochs"]] == [1, 2]
    assert {"loss", "accuracy", "entropy", "max_weight", "seconds", "images_per_s", "lr"} <= set(saved["epochs"][0])
    assert saved["config"]["strategy"] == "darts"
    loaded = load_supernet(tmp_path)
    assert loaded.derive() == trained.derive()
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(loaded.supernet(x, loaded.derive()), trained.supernet(x, trained.derive()))


def test_bad_input(tmp_path, digits):
    with pytest.raises(InvalidInputError, match="unknown dataset 'mnist'; choose one of digits"):
        train_supernet(tmp_path / "a", epochs=1, **{**TINY, "dataset": "mnist"})
    with pytest.raises(InvalidInputError, match="unknown device 'tpu'"):
        train_supernet(tmp_path / "a", epochs=1, data=digits, **{**TINY, "device": "tpu"})
    with pytest.raises(DataNotFoundError, match="needs --data-root"):
        train_supernet(tmp_path / "a", epochs=1, **{**TINY, "dataset": "cifar10"})
    train_supernet(tmp_path / "b", epochs=1, data=digits, **TINY)
    with pytest.raises(InvalidInputError, match="already holds a supernet checkpoint .* pass --resume"):
        train_supernet(tmp_path / "b", epochs=1, data=digits, **TINY)
    with pytest.raises(InvalidInputError, match="trained with channels=4, not 8"):
        train_supernet(tmp_path / "b", epochs=1, resume=True, data=digits, **{**TINY, "channels": 8})
    with pytest.raises(InvalidInputError, match="trained with strategy='uniform', not 'gaea'"):
        train_supernet(tmp_path / "b", epochs=1, resume=True, strategy="gaea", data=digits, **TINY)
    checkpoint_path(tmp_path / "b").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError, match="not a readable supernet checkpoint"):
        load_supernet(tmp_path / "b")
    with pytest.raises(DataNotFoundError, match="no supernet checkpoint"):
        load_supernet(tmp_path / "missing")


def test_out_of_memory_is_one_clear_message(tmp_path, digits, monkeypatch):
    from gcnas.supernet.strategies import Strategy

    kwargs = dict(epochs=2, data=digits, **{**TINY, "steps_per_epoch": 1})
    with pytest.raises(Stop):
        train_supernet(tmp_path, callback=_stop_after(1), **kwargs)

    def out_of_memory(*args, **kw):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(Strategy, "train_step", out_of_memory)
    with pytest.raises(InvalidInputError, match="batch size 32 does not fit .* epoch 1 is kept"):
        train_supernet(tmp_path, resume=True, **kwargs)
    assert torch.load(checkpoint_path(tmp_path), weights_only=True)["epoch"] == 1


def test_ddp_two_processes_gloo(tmp_path):
    """torchrun, 2 CPU processes, gloo: both ranks train the same weights, rank 0 saves."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GCNAS_DDP_BACKEND": "gloo"}
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "gcnas", "--", "supernet", "train", "--run", str(tmp_path), "--strategy", "gaea",
               "--channels", "4", "--cells", "1", "--epochs", "1", "--batch-size", "16", "--steps-per-epoch", "2",
               "--device", "cpu", "--format", "json"]
    done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    trained = load_supernet(tmp_path)
    assert trained.config["world_size"] == 2
    assert trained.history[0]["world_size"] == 2
    assert trained.history[0]["epoch"] == 1
