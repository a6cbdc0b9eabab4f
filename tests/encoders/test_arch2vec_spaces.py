"""Arch2Vec on a space with two graphs per cell (DARTS), and the exact decode of embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.encoders import Arch2Vec, DecisionDecoder, graph_tensors
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import NB201Space
from gcnas.spaces import get_space

TINY = dict(latent_dim=8, hidden_dim=32, num_layers=2, batch_size=32, lr=1e-2, decoder_epochs=5, holdout=0.1,
            seed=0)


@pytest.fixture(scope="module")
def darts():
    return get_space("darts")


@pytest.fixture(scope="module")
def darts_encoder():
    # Pretraining without cells: the space cannot be listed, so sample_size cells are drawn. One mean
    # per graph (not DARTS's default readout) so that the embedding can be checked against node latents.
    return Arch2Vec(**TINY, space="darts", sample_size=120, readout_bins=1).fit(epochs=2, progress=False)


@pytest.fixture(scope="module")
def nb201_encoder():
    return Arch2Vec(**TINY).fit(NB201Space().sample_many(150, seed=0), epochs=3, progress=False)


def test_graph_tensors_stack_every_graph_of_a_cell(darts):
    cells = [darts.sample(i) for i in range(3)]
    adj, features, types = graph_tensors(cells, space=darts)
    assert adj.shape == (6, 11, 11) and features.shape == (6, 11, 11) and types.shape == (6, 11)
    reduce_graph = darts.to_graph(cells[1])[1]  # cell 1's second graph sits at row 1 * 2 + 1
    assert np.array_equal(adj[3].numpy(), reduce_graph.adjacency)
    assert np.array_equal(types[3].numpy(), reduce_graph.node_ids)


def test_layers_sized_from_the_space(darts_encoder, darts):
    assert darts_encoder.model_.num_nodes == darts.max_nodes == 11
    assert darts_encoder.model_.num_types == len(darts.node_types)
    assert darts_encoder.head_.sizes == [d.size for d in darts.decisions]
    assert darts_encoder.embedding_dim == 2 * 8
    assert len(darts_encoder.train_cells_) + len(darts_encoder.holdout_cells_) == 120
    keys = {darts.key(c) for c in darts_encoder.train_archs() + darts_encoder.holdout_archs()}
    assert len(keys) == 120  # distinct cells


def test_darts_embeddings_join_normal_and_reduce(darts_encoder, darts):
    cells = [darts.sample(100 + i) for i in range(4)]
    z = darts_encoder.encode(cells)
    nodes = darts_encoder.encode_nodes(cells)
    assert z.shape == (4, 16) and nodes.shape == (4, 2, 11, 8)
    assert np.allclose(z[:, :8], nodes[:, 0].mean(1), atol=1e-6)
    assert np.allclose(z[:, 8:], nodes[:, 1].mean(1), atol=1e-6)
    decoded = darts_encoder.decode(z)
    assert len(decoded) == 4 and all(darts.parse(darts.format(c)) == c for c in decoded)
    from_nodes, valid = darts_encoder.decode(nodes, return_valid=True)
    assert len(from_nodes) == 4 and valid.dtype == bool


def test_local_search_recovers_a_cell_one_decision_off(nb201_encoder, darts_encoder, darts):
    """Start the search from a wrong decision vector: a cell one change away encodes to ``z`` exactly."""
    for encoder, space, cells in ((nb201_encoder, nb201_encoder.space_, NB201Space().sample_many(6, seed=3)),
                                  (darts_encoder, darts, [darts.sample(200 + i) for i in range(6)])):
        z = encoder.encode(cells)
        values = [space.to_decisions(c) for c in cells]
        for row, v in enumerate(values):  # one decision with more than one choice, changed
            k = next(i for i, d in enumerate(space.decisions) if d.size > 1 and (i + row) % 3 == 0)
            v[k] = (v[k] + 1) % space.decisions[k].size
        start = [space.from_decisions(v) for v in values]
        found, exact = encoder._refine(z, values, start)
        assert exact.all()
        assert [space.key(c) for c in found] == [space.key(c) for c in cells]


def test_decode_refine_never_worse_than_the_head(nb201_encoder):
    cells = NB201Space().sample_many(40, seed=4)
    z = nb201_encoder.encode(cells)
    raw = nb201_encoder.decode(z, refine=False)
    refined = nb201_encoder.decode(z)
    gap = lambda found: np.linalg.norm(nb201_encoder.encode(found) - z, axis=1)  # noqa: E731
    assert (gap(refined) <= gap(raw) + 1e-6).all()
    stats = nb201_encoder.reconstruction(cells)
    assert stats["graph_exact"] >= stats["graph_head_exact"]


def test_checkpoint_records_the_space(tmp_path, darts_encoder, darts):
    path = darts_encoder.save(tmp_path / "darts.pt")
    loaded = Arch2Vec.load(path, space="darts")
    assert loaded.get_params()["space"] == "darts" and loaded.space_ == darts
    cells = [darts.sample(7)]
    assert np.array_equal(loaded.encode(cells), darts_encoder.encode(cells))
    assert loaded.decode(loaded.encode(cells)) == darts_encoder.decode(darts_encoder.encode(cells))
    with pytest.raises(InvalidInputError, match="trained on space 'darts', not 'nb201'"):
        Arch2Vec.load(path, space="nb201")


def test_cells_of_another_space_are_refused(darts_encoder, nb201_encoder, darts):
    with pytest.raises(InvalidInputError, match="another space"):
        darts_encoder.encode(NB201Space().sample_many(2, seed=0))
    with pytest.raises(InvalidInputError, match="another space"):
        nb201_encoder.encode([darts.sample(0)])
    with pytest.raises(InvalidInputError, match=r"\(n, 16\) embeddings or \(n, 2, 11, 8\) node latents"):
        darts_encoder.decode(np.zeros((2, 8)))
    with pytest.raises(InvalidInputError, match="unknown search space 'toy'"):
        Arch2Vec(space="toy").fit(progress=False)


def test_decision_decoder_blocks_follow_the_sizes():
    head = DecisionDecoder(4, [1, 3, 7], hidden_dim=8)
    head.set_scale(torch.randn(10, 4))
    blocks = head(torch.zeros(5, 4))
    assert [b.shape for b in blocks] == [(5, 1), (5, 3), (5, 7)]


def test_joint_decision_loss_trains_the_head_with_the_autoencoder(darts):
    joint = Arch2Vec(**{**TINY, "decoder_epochs": 1}, space="darts", sample_size=60, decision_weight=1.0)
    joint.fit(epochs=2, progress=False)
    assert all("decisions" in h and np.isfinite(h["decisions"]) for h in joint.history_)
    assert joint.history_[1]["decisions"] < joint.history_[0]["decisions"]
    plain = Arch2Vec(**{**TINY, "decoder_epochs": 1}, space="darts", sample_size=60).fit(epochs=2, progress=False)
    assert "decisions" not in plain.history_[0]
    cells = [darts.sample(9)]
    assert not np.allclose(joint.encode(cells), plain.encode(cells))  # the loss shapes the embedding


def test_darts_default_readout_keeps_every_node_and_old_checkpoints_keep_theirs(darts_encoder, darts, tmp_path):
    """DARTS declares one readout stretch per node; a checkpoint saved when the default was one mean
    (``readout_bins`` None in its settings) still loads, with the readout it was trained with."""
    encoder = Arch2Vec(**{**TINY, "decoder_epochs": 1}, space="darts", sample_size=40).fit(epochs=1, progress=False)
    assert encoder.model_.readout_bins == darts.readout_bins == 11 and encoder.embedding_dim == 2 * 11 * 8
    cells = [darts.sample(300 + i) for i in range(3)]
    assert encoder.encode(cells).shape == (3, 176)

    path = darts_encoder.save(tmp_path / "one-mean.pt")
    payload = torch.load(path, weights_only=False)
    payload["params"]["readout_bins"] = None  # as written before DARTS declared its readout
    torch.save(payload, path)
    loaded = Arch2Vec.load(path)
    assert loaded.model_.readout_bins == 1 and loaded.embedding_dim == 16
    assert np.allclose(loaded.encode(cells), darts_encoder.encode(cells), atol=1e-6)
