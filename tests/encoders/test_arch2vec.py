"""Arch2Vec: a tiny encoder trained on a subset in seconds; encode/decode/save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.encoders import Arch2Vec, GraphVAE, graph_tensors
from gcnas.encoders import arch2vec as arch2vec_module
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError, NotFittedError
from gcnas.spaces.nb201 import Arch, NB201Space

TINY = dict(latent_dim=16, hidden_dim=32, num_layers=3, batch_size=16, lr=1e-2, beta=0.25, decoder_epochs=10,
            holdout=0.1, seed=0)


@pytest.fixture(scope="module")
def archs() -> list[Arch]:
    return NB201Space().sample_many(200, seed=0)


@pytest.fixture(scope="module")
def fitted(archs) -> Arch2Vec:
    return Arch2Vec(**TINY).fit(archs, epochs=20, progress=False)


def test_graph_tensors_match_to_graph(archs):
    adj, features, types = graph_tensors(archs[:3], space=NB201Space())
    assert adj.shape == (3, 8, 8) and features.shape == (3, 8, 7) and types.shape == (3, 8)
    graph = archs[1].to_graph()
    assert np.array_equal(adj[1].numpy(), graph.adjacency)
    assert types[1, 1:7].tolist() == [op + 1 for op in archs[1].ops]


def test_graph_vae_shapes():
    adj, features, types = graph_tensors(NB201Space().sample_many(4, seed=1), space="nb201")
    out = GraphVAE(8, 7, latent_dim=5, hidden_dim=16, num_layers=2).eval()(adj, features)
    assert out.mu.shape == (4, 8, 5) and out.adj_logits.shape == (4, 8, 8)
    assert out.graph_type_logits.shape == (4, 8, 7)
    assert torch.equal(out.z, out.mu)  # eval: no sampling


def test_fit_learns_to_reconstruct(fitted, archs):
    history = fitted.history_
    assert len(history) == 20 and history[-1]["loss"] < 0.5 * history[0]["loss"]
    held = fitted.holdout_archs()
    assert len(held) == 20 and not set(fitted.holdout_cells_) & set(fitted.train_cells_)
    train_stats = fitted.reconstruction(archs[:50])
    assert train_stats["op_acc"] > 0.95 and train_stats["adj_acc"] > 0.9
    assert fitted.reconstruction(held)["op_acc"] > 0.9  # generalises beyond the 180 it saw


def test_encode_is_deterministic_and_decodes_back(fitted, archs):
    z = fitted.encode(archs[:40])
    assert z.shape == (40, 16) and z.dtype == np.float32
    assert np.array_equal(z, fitted.encode(archs[:40]))
    nodes = fitted.encode_nodes(archs[:40])
    assert nodes.shape == (40, 1, 8, 16) and np.allclose(z, nodes.mean(2)[:, 0])
    decoded, valid = fitted.decode(nodes, return_valid=True)
    assert decoded == archs[:40]
    # Every op is right, so a decoding is valid exactly when its wiring came back exactly.
    assert valid.mean() == pytest.approx(fitted.reconstruction(archs[:40])["exact"])
    # Graph-level decoding needs far more than 180 training cells to be exact (the
    # benchmark measures it on the whole space); here it must still give valid cells.
    one = fitted.decode(z[0])
    assert len(one) == 1 and isinstance(one[0], Arch)


def test_decode_repairs_any_vector(fitted):
    rng = np.random.default_rng(0)
    archs, valid = fitted.decode(rng.normal(0, 3, size=(64, 8, 16)), return_valid=True)
    assert len(archs) == 64 and all(isinstance(a, Arch) for a in archs)
    assert valid.dtype == bool and valid.shape == (64,)
    archs, valid = fitted.decode(rng.normal(0, 1, size=(10, 16)), return_valid=True)
    assert len(archs) == 10


def test_same_seed_same_model(archs):
    one = Arch2Vec(**TINY).fit(archs[:40], epochs=2, progress=False).encode(archs[:5])
    two = Arch2Vec(**TINY).fit(archs[:40], epochs=2, progress=False).encode(archs[:5])
    other = Arch2Vec(**{**TINY, "seed": 1}).fit(archs[:40], epochs=2, progress=False).encode(archs[:5])
    assert np.array_equal(one, two) and not np.allclose(one, other)


def test_resume_from_checkpoint_equals_uninterrupted(tmp_path, archs, monkeypatch):
    straight = Arch2Vec(**TINY).fit(archs[:40], epochs=3, progress=False)
    ckpt = tmp_path / "partial.pt"
    real_write = arch2vec_module.atomic_write

    def write_then_interrupt(path, data):  # the process dies right after epoch 1 is saved
        real_write(path, data)
        raise KeyboardInterrupt

    monkeypatch.setattr(arch2vec_module, "atomic_write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        Arch2Vec(**TINY).fit(archs[:40], epochs=3, progress=False, checkpoint=ckpt)
    monkeypatch.setattr(arch2vec_module, "atomic_write", real_write)
    resumed = Arch2Vec(**TINY).fit(archs[:40], epochs=3, progress=False, checkpoint=ckpt)
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3]
    assert np.allclose(straight.encode(archs[:10]), resumed.encode(archs[:10]), atol=1e-6)
    with pytest.raises(InvalidInputError, match="other settings"):
        Arch2Vec(**{**TINY, "latent_dim": 4}).fit(archs[:40], epochs=3, progress=False, checkpoint=ckpt)


def test_save_load_round_trip(tmp_path, fitted, archs):
    path = fitted.save(tmp_path / "a2v.pt")
    loaded = Arch2Vec.load(path)
    assert loaded.get_params() == fitted.get_params()
    assert np.array_equal(loaded.encode(archs[:20]), fitted.encode(archs[:20]))
    assert loaded.holdout_cells_ == fitted.holdout_cells_
    assert Arch2Vec.load(path, latent_dim=16).latent_dim == 16


def test_load_errors(tmp_path, fitted):
    path = fitted.save(tmp_path / "a2v.pt")
    with pytest.raises(InvalidInputError, match="latent_dim=16, not 32"):
        Arch2Vec.load(path, latent_dim=32)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        Arch2Vec.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError, match="not a readable arch2vec checkpoint"):
        Arch2Vec.load(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CorruptFileError, match="not an arch2vec checkpoint"):
        Arch2Vec.load(tmp_path / "other.pt")
    payload = torch.load(path, weights_only=True)
    payload["space"] = "darts"
    torch.save(payload, tmp_path / "darts.pt")
    with pytest.raises(InvalidInputError, match="trained on space 'darts'"):
        Arch2Vec.load(tmp_path / "darts.pt")


def test_bad_input_messages(fitted, archs):
    with pytest.raises(NotFittedError, match="not fitted"):
        Arch2Vec().encode(archs[:2])
    with pytest.raises(InvalidInputError, match="latent_dim=16"):
        fitted.decode(np.zeros((3, 8)))
    with pytest.raises(InvalidInputError, match=r"\(n, 1, 8, 16\) node latents"):
        fitted.decode(np.zeros((3, 5, 16)))
    with pytest.raises(InvalidInputError, match="NaN"):
        fitted.decode(np.full((1, 16), np.nan))
    with pytest.raises(InvalidInputError, match="another space"):
        fitted.encode(["|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(InvalidInputError, match="single Arch"):
        fitted.encode(archs[0])
    with pytest.raises(InvalidInputError, match="latent_dim must be an int >= 1"):
        Arch2Vec(latent_dim=0).fit(archs[:5], progress=False)
    with pytest.raises(InvalidInputError, match="schedule must be one of cosine, constant"):
        Arch2Vec(schedule="step").fit(archs[:5], progress=False)
    with pytest.raises(InvalidInputError, match="holdout"):
        Arch2Vec(holdout=1.0).fit(archs[:5], progress=False)
    with pytest.raises(InvalidInputError, match="epochs"):
        Arch2Vec().fit(archs[:5], epochs=0, progress=False)
    with pytest.raises(InvalidInputError, match="at least one"):
        Arch2Vec().fit([], progress=False)


def test_public_names_exist():
    import gcnas.encoders

    for name in gcnas.encoders.__all__:
        assert hasattr(gcnas.encoders, name), name
