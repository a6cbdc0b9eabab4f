"""Searching a space that cannot be listed (DARTS): refreshed pools, a given pool, REINFORCE over decisions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.search import (BayesianOptimization, CandidatePool, CallableObjective, RandomSearch, RegularizedEvolution,
                          ReinforceSearch, graph_features, make_features, run_search)
from gcnas.search.features import onehot_features
from gcnas.search.reinforce import Controller, vector_index
from gcnas.spaces import Decision, get_space

SPACE = get_space("darts")


def sep_convs(genotype) -> float:
    """A score to climb: separable convolutions in the normal cell (0..8)."""
    return float(sum(op.startswith("sep_conv") for op, _ in genotype.normal))


SCORE = CallableObjective("sep_convs", fn=sep_convs, value_range=(0, 8))


def test_bo_refreshes_its_pool_each_step_and_climbs():
    pool = CandidatePool(n_random=10, n_mutations=20, parents=3)
    bo = BayesianOptimization(space="darts", n_init=4, pool=pool, refit_every=2, mc_samples=16, prescreen=16)
    assert not bo.enumerates
    result = run_search(bo, [SCORE], budget=10, seed=0)
    keys = [SPACE.key(t.arch) for t in result.trials]
    assert len(keys) == len(set(keys)) == 10 and all(t.status == "ok" for t in result.trials)
    # the last pool: the cells observed, then mutations of the best ones and fresh samples
    assert len(bo.candidates_) == 9 + 30 and bo.X_.shape == (39, 152)
    assert result.best_so_far("sep_convs")[-1] > result.best_so_far("sep_convs")[3]
    assert bo.settings()["pool"] == {"n_random": 10, "n_mutations": 20, "parents": 3, "max_tries": 10}
    assert bo.settings()["space"] == "darts"


@pytest.mark.parametrize("make", [lambda: RandomSearch(space="darts"),
                                  lambda: RegularizedEvolution(population_size=4, sample_size=2, space="darts"),
                                  lambda: ReinforceSearch(space="darts", hidden_size=8)])
def test_every_searcher_proposes_new_cells_of_an_unlisted_space(make):
    result = run_search(make(), [SCORE], budget=12, seed=1)
    keys = [SPACE.key(t.arch) for t in result.trials]
    assert len(set(keys)) == 12
    again = run_search(make(), [SCORE], budget=12, seed=1)
    assert keys == [SPACE.key(t.arch) for t in again.trials]                  # same seed, same cells


def test_a_given_pool_of_an_unlisted_space_is_searched_by_key():
    cells = [SPACE.sample(i) for i in range(40)]
    for searcher in (BayesianOptimization(space="darts", candidates=cells, n_init=5, mc_samples=16),
                     RegularizedEvolution(5, 2, space="darts", candidates=cells),
                     ReinforceSearch(space="darts", candidates=cells, hidden_size=8)):
        result = run_search(searcher, [SCORE], budget=40, seed=2)
        assert sorted(SPACE.key(t.arch) for t in result.trials) == sorted(SPACE.key(c) for c in cells)
        assert result.best_so_far("sep_convs")[-1] == max(map(sep_convs, cells))
    records = result.to_records()
    assert records[0]["code"] is None and SPACE.parse(records[0]["arch"]) == result.trials[0].arch


def test_evolution_in_a_sparse_pool_takes_the_candidate_nearest_the_parent():
    parent = SPACE.sample(0)
    near = SPACE.mutate(parent, 1)
    far = [SPACE.sample(i) for i in range(2, 12)]
    evolution = RegularizedEvolution(2, 1, space="darts", candidates=[parent, *far, near])
    evolution.prepare([parent, *far, near])
    child = evolution._nearest(parent, np.arange(12), {SPACE.key(parent)}, np.random.default_rng(0))
    assert SPACE.key(child) == SPACE.key(near)


def test_a_controller_over_decisions_of_different_sizes_is_a_distribution():
    decisions = (Decision("pair", ("01",)), Decision("op", ("a", "b", "c")), Decision("pair2", ("01", "02")),
                 Decision("op2", ("a", "b", "c")))
    controller = Controller(decisions, hidden_size=8, seed=1)
    assert controller.offsets == (0, 1, 4, 1)                  # the two op decisions share their embeddings
    vectors = np.array(list(itertools.product(range(1), range(3), range(2), range(3))))
    with torch.no_grad():
        forced, entropy = controller.log_prob(torch.as_tensor(vectors))
    every = controller.log_prob_all()
    assert torch.allclose(every[vector_index(vectors, controller.sizes)], forced, atol=1e-6)
    assert every.exp().sum().item() == pytest.approx(1.0, abs=1e-5) and torch.isfinite(entropy).all()
    # one policy-gradient step keeps every weight finite (padding with -inf made them NaN)
    loss = -controller.log_prob(torch.as_tensor(vectors[:2]))[0].sum() - controller.log_prob(
        torch.as_tensor(vectors[:2]))[1].sum()
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in controller.parameters() if p.grad is not None)


def test_the_darts_controller_samples_valid_cells_and_refuses_to_list_them():
    controller = Controller(SPACE.decisions, hidden_size=8)
    vectors = controller.sample(5, np.random.default_rng(0))
    assert vectors.shape == (5, 24) and all(SPACE.to_decisions(SPACE.from_decisions(v.tolist())) == v.tolist()
                                            for v in vectors)
    with pytest.raises(InvalidInputError, match="more than"):
        controller.log_prob_all()


def test_features_of_any_space_and_the_nb201_only_ones_refused():
    cells = [SPACE.sample(i) for i in range(3)]
    assert onehot_features(cells, "darts").shape == (3, 152)
    stats = graph_features(cells, "darts")
    assert stats.shape == (3, 26)
    # each cell graph: 11 nodes (two inputs, eight ops, the output), depth 2..5 edges
    assert (stats[:, :11].sum(axis=1) == 11).all() and ((stats[:, 12] >= 2) & (stats[:, 12] <= 5)).all()
    assert make_features("onehot+graph", space="darts")(cells).shape == (3, 178)
    costs = make_features("costs", space="darts")
    logged = np.log([[SPACE.costs(c)["params"], SPACE.costs(c)["flops"]] for c in cells])
    np.testing.assert_allclose(costs(cells), logged)
    assert costs._known and np.array_equal(costs(cells[::-1]), costs(cells)[::-1])   # counted once per key
    for spec in ("stats", "zc", "onehot+stats"):
        with pytest.raises(InvalidInputError, match="do not apply to space 'darts'; use onehot, graph"):
            make_features(spec, space="darts")
    with pytest.raises(InvalidInputError, match="needs the run store"):
        make_features("arch2vec", space="darts")
    nb201 = get_space("nb201")
    arch = nb201.sample(0)
    assert np.array_equal(make_features("onehot")([arch]), arch.one_hot()[None].astype(np.float64))
    assert graph_features([arch]).shape == (1, 9)


def test_settings_name_the_space_and_pool_only_where_they_matter():
    assert "space" not in BayesianOptimization().settings() and "pool" not in BayesianOptimization().settings()
    assert ReinforceSearch(space="darts").settings()["space"] == "darts"
    assert "pool" not in ReinforceSearch(space="darts").settings()              # it draws from its controller
    assert RandomSearch(space="darts").settings()["pool"]["n_mutations"] == 0


def test_ask_and_tell_on_darts_takes_genotype_strings():
    from gcnas.search import Study

    study = Study(RandomSearch(space="darts"), ["sep_convs"], seed=0)
    first, second = study.ask(2)
    study.tell(SPACE.format(first), sep_convs(first))
    study.tell(second, sep_convs(second))
    assert [SPACE.key(t.arch) for t in study.result().trials] == [SPACE.key(first), SPACE.key(second)]
    assert SPACE.key(study.ask()[0]) not in {SPACE.key(first), SPACE.key(second)}


def test_a_parallel_run_keeps_pending_cells_out_of_the_refreshed_pool():
    from gcnas.parallel import make_executor

    bo = BayesianOptimization(space="darts", n_init=3, pool=CandidatePool(n_random=8, n_mutations=8),
                              mc_samples=16, prescreen=8)
    with make_executor("inline", workers=3) as executor:
        result = run_search(bo, [SCORE], budget=8, seed=4, executor=executor)
    keys = [SPACE.key(t.arch) for t in result.trials]
    assert len(keys) == len(set(keys)) == 8


def test_arch2vec_features_of_a_darts_run_are_its_encoders_graph_means(tmp_path):
    """On a space that cannot be embedded in advance, "arch2vec" encodes on demand: each cell
    graph's mean node latent (32 numbers at latent_dim 16), not the 352 that decode exactly."""
    from gcnas.data import RunStore
    from gcnas.encoders import Arch2Vec
    from gcnas.encoders.pretraining import CHECKPOINT
    from gcnas.search import EncoderFeatures

    store = RunStore(tmp_path / "run", space="darts")
    with pytest.raises(InvalidInputError, match="no arch2vec encoder; run `gcnas encoder pretrain`"):
        make_features("arch2vec", store=store, space="darts")
    encoder = Arch2Vec(latent_dim=4, space="darts", hidden_dim=16, num_layers=1, decoder_epochs=1,
                       sample_size=40, holdout=0.0, seed=0).fit(epochs=1, progress=False)
    encoder.save(store.run_dir / CHECKPOINT)
    cells = [SPACE.sample(i) for i in range(5)]
    features = make_features("arch2vec+graph", store=store, space="darts")
    assert features(cells).shape == (5, 2 * 4 + 26)
    means = EncoderFeatures(encoder)(cells)
    nodes = encoder.encode_nodes(cells)
    np.testing.assert_allclose(means, nodes.mean(axis=2).reshape(5, -1), atol=1e-6)
    assert encoder.embedding_dim == 2 * 11 * 4                    # the exact embedding stays the encoder's
    bo = BayesianOptimization(features="arch2vec", store=store, space="darts", n_init=3, mc_samples=8, prescreen=8,
                              pool=CandidatePool(n_random=6, n_mutations=6, parents=2))
    result = run_search(bo, [SCORE], budget=5, seed=0)
    assert len({SPACE.key(t.arch) for t in result.trials}) == 5 and bo.X_.shape[1] == 8
