"""A run with arch2vec pretrained (one cheap epoch over the whole space), shared by the tests."""

from __future__ import annotations

import pytest

# One cheap epoch over the whole space: big batches, a narrow one-layer encoder.
FAST = dict(epochs=1, latent_dim=4, seed=0, progress=False, hidden_dim=8, num_layers=1, batch_size=4096,
            decoder_epochs=1)
FAST_FLAGS = ["--epochs", "1", "--latent-dim", "4", "--hidden-dim", "8", "--num-layers", "1",
              "--batch-size", "4096", "--decoder-epochs", "1"]


@pytest.fixture(scope="session")
def fast() -> dict:
    """Keyword arguments of ``pretrain`` for one cheap epoch."""
    return dict(FAST)


@pytest.fixture(scope="session")
def fast_flags() -> list[str]:
    """The same settings as ``gcnas encoder pretrain`` flags."""
    return list(FAST_FLAGS)


@pytest.fixture(scope="session")
def pretrained_run(tmp_path_factory):
    """``(store, encoder)`` after ``pretrain(store, **FAST)`` in a fresh run directory."""
    from gcnas.data import RunStore
    from gcnas.encoders import pretrain

    store = RunStore(tmp_path_factory.mktemp("arch2vec_run"))
    encoder = pretrain(store, **FAST)
    yield store, encoder
    store.close()
