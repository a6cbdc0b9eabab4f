"""The regression loss of the neural predictors: ``mse`` (default) and ``l1``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.predictors import GCNPredictor, MLPPredictor
from gcnas.spaces.nb201 import NB201Space

SMALL = dict(hidden=16, layers=2, ensemble=1, epochs=150, patience=150, isomorphs=0, prune=False, rank_weight=0.0)


def additive_latency(archs) -> np.ndarray:
    """A latency that adds up per op (ms), like the published GPU / FPGA columns."""
    per_op = np.array([0.1, 0.3, 1.0, 2.5, 0.6])
    return 2.0 + per_op[np.array([a.ops for a in archs])].sum(1)


@pytest.mark.parametrize("loss,expected", [("mse", (1 + 9) / 2), ("l1", (1 + 3) / 2)])
def test_loss_is_the_named_one(loss, expected):
    model = GCNPredictor(loss=loss, rank_weight=0.0)
    value = model._loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0]))
    assert float(value) == pytest.approx(expected)
    assert MLPPredictor()._loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0])) == pytest.approx(5.0)


def test_l1_on_log_latency_resists_near_zero_labels():
    # pixel3's cells without an input-output path time in ~0.004 ms: a few such labels
    # among the training cells pull an MSE fit of log latency off for every other cell
    space = NB201Space()
    train, test = space.sample_many(60, seed=4), space.sample_many(300, seed=5)
    labels = np.log(additive_latency(train))
    labels[::10] = np.log(0.004)
    errors = {}
    for loss in ("mse", "l1"):
        model = GCNPredictor(seed=0, loss=loss, **SMALL).fit(train, labels)
        errors[loss] = np.median(np.abs(np.exp(model.predict(test)) / additive_latency(test) - 1))
    assert errors["l1"] < 0.5 * errors["mse"], errors


def test_unknown_loss_is_a_clear_error():
    archs = NB201Space().sample_many(10, seed=0)
    with pytest.raises(InvalidInputError, match="unknown loss 'huber'; choose one of mse, l1"):
        GCNPredictor(loss="huber", **{**SMALL, "epochs": 1}).fit(archs, np.arange(10.0))
