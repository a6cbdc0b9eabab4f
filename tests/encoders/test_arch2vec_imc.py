"""Arch2Vec, latent BO and ``gcnas encoder pretrain`` on the IMC macro space (73-node graphs, sampled cells)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gcnas.encoders import Arch2Vec
from gcnas.encoders.model import position_pool
from gcnas.exceptions import InvalidInputError
from gcnas.spaces import get_space

pytestmark = pytest.mark.filterwarnings("ignore")

TINY = dict(latent_dim=4, hidden_dim=16, num_layers=2, batch_size=32, lr=1e-2, decoder_epochs=3, refine_steps=2,
            seed=0)


@pytest.fixture(scope="module")
def imc():
    return get_space("imc")


@pytest.fixture(scope="module")
def encoder():
    # The space cannot be listed: sample_size networks are drawn to train on.
    return Arch2Vec(**TINY, space="imc", sample_size=64).fit(epochs=1, progress=False)


def test_position_pool_means_stretches_of_the_real_nodes():
    z = torch.arange(12.0).reshape(2, 6, 1)
    real = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    pooled = position_pool(z, real, 3)
    assert pooled.shape == (2, 3)
    assert torch.allclose(pooled[0], torch.tensor([0.5, 2.5, 4.5]))   # nodes 0-1 | 2-3 | 4-5
    assert torch.allclose(pooled[1], torch.tensor([6.0, 7.0, 8.0]))   # padding (nodes 9-11) left out
    assert torch.allclose(position_pool(z, real, 1)[1], torch.tensor([7.0]))
    few = position_pool(z, torch.tensor([[True, False, False, False, False, False]] * 2), 2)
    assert few[0, 1] == 0  # a stretch without nodes is zero


def test_readout_bins_follow_the_space_size():
    # One stretch per 16 nodes of the largest graph (NAS-Bench-201, 8 nodes: one mean), unless the
    # space declares its own: DARTS one per node of its two 11-node graphs.
    assert Arch2Vec(latent_dim=16).embedding_dim == 16
    assert Arch2Vec(latent_dim=16, space="darts").embedding_dim == 2 * 11 * 16
    assert Arch2Vec(latent_dim=16, space="darts", readout_bins=1).embedding_dim == 32
    assert Arch2Vec(latent_dim=16, space="imc").embedding_dim == 4 * 16
    assert Arch2Vec(latent_dim=8, space="imc", readout_bins=1).embedding_dim == 8
    with pytest.raises(InvalidInputError, match="readout_bins must be None or an int >= 1, got 0"):
        Arch2Vec(space="imc", readout_bins=0).fit(progress=False)


def test_layers_sized_from_the_imc_space(encoder, imc):
    assert encoder.model_.num_nodes == imc.max_nodes == 73
    assert encoder.model_.num_types == len(imc.node_types) == 24
    assert encoder.model_.readout_bins == 4 and encoder.embedding_dim == 16
    assert encoder.head_.sizes == [d.size for d in imc.decisions]
    cells = encoder.train_archs() + encoder.holdout_archs()
    assert len({imc.key(c) for c in cells}) == 64


def test_encode_and_decode_imc_networks(encoder, imc):
    cells = [imc.sample(100 + i) for i in range(3)]
    z = encoder.encode(cells)
    assert z.shape == (3, 16) and z.dtype == np.float32
    assert np.array_equal(z, encoder.encode(cells))                   # deterministic
    nodes = encoder.encode_nodes(cells)
    assert nodes.shape == (3, 1, 73, 4)
    size = imc.to_graph(cells[0])[0].num_nodes                         # stretch 0: the first quarter of its nodes
    assert np.allclose(z[0, :4], nodes[0, 0, :(size + 3) // 4].mean(0), atol=1e-6)
    for decoded in (encoder.decode(z), encoder.decode(z, refine=False), encoder.decode(nodes)):
        assert len(decoded) == 3 and all(imc.parse(imc.format(c)) == c for c in decoded)  # valid networks
    with pytest.raises(InvalidInputError, match=r"\(n, 16\) embeddings or \(n, 1, 73, 4\) node latents"):
        encoder.decode(np.zeros((2, 4)))


def test_checkpoint_keeps_the_readout(tmp_path, encoder, imc):
    loaded = Arch2Vec.load(encoder.save(tmp_path / "imc.pt"), space="imc")
    assert loaded.model_.readout_bins == 4 and loaded.get_params() == encoder.get_params()
    cells = [imc.sample(7)]
    assert np.array_equal(loaded.encode(cells), encoder.encode(cells))


def test_latent_bo_proposes_distinct_valid_imc_networks(encoder, imc):
    from gcnas.search import CallableObjective, LatentSpaceBO, run_search

    params = CallableObjective("params", fn=lambda a: imc.costs(a)["params"], maximize=False)
    bo = LatentSpaceBO(encoder, n_init=3, raw_samples=32, num_restarts=2, mc_samples=16, reference_size=64)
    result = run_search(bo, [params], budget=6, seed=0)
    archs = [t.arch for t in result.trials]
    assert len(archs) == 6 and all(imc.parse(imc.format(a)) == a for a in archs)
    assert len({imc.key(a) for a in archs}) == 6
    assert bo.space_ == imc and len(bo.low_) == encoder.embedding_dim


def test_cli_pretrains_on_imc(tmp_path, capsys):
    from gcnas.cli import main
    from gcnas.data import RunStore

    run = tmp_path / "run"
    flags = ["--space", "imc", "--sample-size", "40", "--epochs", "1", "--latent-dim", "4", "--hidden-dim", "8",
             "--num-layers", "1", "--decoder-epochs", "1", "--run", str(run), "--format", "json"]
    assert main(["encoder", "pretrain", *flags]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["embeddings"] == 40 and record["latent_dim"] == 4
    with RunStore(run) as store:
        archs, vectors = store.embeddings("arch2vec")
        assert store.space.name == "imc" and vectors.shape == (40, 16)
    assert main(["encoder", "pretrain", "--space", "nb201", *flags[2:]]) == 1  # the run is over imc
    assert "not 'nb201'" in capsys.readouterr().err
