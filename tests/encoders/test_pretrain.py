"""pretrain(store): whole-space pretraining into the run store, reuse, resume, errors."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.encoders import CHECKPOINT, ENCODER_NAME, Arch2Vec, load_pretrained, pretrain
from gcnas.exceptions import DataNotFoundError, InvalidInputError
from gcnas.spaces.nb201 import NUM_ARCHS, Arch


@pytest.fixture
def run(pretrained_run):
    return pretrained_run


def test_pretrain_writes_checkpoint_embeddings_and_stage(run):
    store, encoder = run
    assert (store.run_dir / CHECKPOINT).is_file()
    assert not (store.run_dir / "arch2vec.partial.pt").exists()
    archs, vectors = store.embeddings(ENCODER_NAME)
    assert len(archs) == NUM_ARCHS and vectors.shape == (NUM_ARCHS, 4)
    assert archs[123] == Arch.from_code(123)
    assert np.allclose(vectors[:50], encoder.encode(archs[:50]), atol=1e-6)
    stage = store.stage("encoder_pretrain")
    assert stage["latent_dim"] == 4
    # 10% of the space held out, never trained on; the stage records the final model's
    # reconstruction of exactly those cells
    held, train = set(encoder.holdout_cells_), set(encoder.train_cells_)
    assert len(held) == round(0.1 * NUM_ARCHS) and not held & train and len(held | train) == NUM_ARCHS
    expected = encoder.reconstruction(encoder.holdout_archs())
    assert {k: stage[f"holdout_{k}"] for k in expected} == pytest.approx(expected, rel=1e-12)
    assert 0.0 < expected["op_acc"] < 1.0                     # a figure that tells sets apart, not 0 or 1


def test_pretrain_again_reuses_and_restores_embeddings(run, fast):
    store, encoder = run
    store.connection.execute("DELETE FROM embeddings")
    again = pretrain(store, **fast)
    assert np.array_equal(again.encode([Arch.from_code(7)]), encoder.encode([Arch.from_code(7)]))
    assert len(store.embeddings(ENCODER_NAME)[0]) == NUM_ARCHS
    assert load_pretrained(store, latent_dim=4).latent_dim == 4


def test_other_settings_need_force(run, fast):
    store, _ = run
    with pytest.raises(InvalidInputError, match="other settings.*force"):
        pretrain(store, **{**fast, "latent_dim": 6})
    with pytest.raises(InvalidInputError, match="latent_dim=4, not 6"):
        load_pretrained(store, latent_dim=6)


def test_force_retrains_and_partial_checkpoint_resumes(tmp_path, fast):
    with RunStore(tmp_path) as store:
        # An interrupted run leaves the state of its finished epochs behind ...
        Arch2Vec(**{k: v for k, v in fast.items() if k != "progress"}).fit(
            progress=False, checkpoint=tmp_path / "arch2vec.partial.pt")
        # ... which a call with the same settings and more epochs continues from.
        encoder = pretrain(store, **{**fast, "epochs": 2})
        assert [h["epoch"] for h in encoder.history_] == [1, 2]
        retrained = pretrain(store, **{**fast, "latent_dim": 3}, force=True)
        assert store.embeddings(ENCODER_NAME)[1].shape == (NUM_ARCHS, 3)
        assert retrained.latent_dim == 3


def test_load_pretrained_without_checkpoint(tmp_path):
    with RunStore(tmp_path) as store, pytest.raises(DataNotFoundError, match="gcnas encoder pretrain"):
        load_pretrained(store)
