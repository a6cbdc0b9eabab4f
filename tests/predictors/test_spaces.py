"""Predictors on any search space (``space=``) and with graph-level features (``features=``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from gcnas.exceptions import InvalidInputError
from gcnas.predictors import GBTPredictor, GCNPredictor, MLPPredictor, kendall_tau, load_predictor
from gcnas.predictors.cells import CostFeatures, TableFeatures, resolve_space
from gcnas.predictors.gcn import DirectedGCN
from gcnas.predictors.graph import space_graphs, space_node_features
from gcnas.spaces.nb201 import NB201Space
from gcnas.spaces import one_hot
from gcnas.spaces.darts import DartsSpace

SPACE = DartsSpace()
TINY_GCN = dict(hidden=16, layers=2, ensemble=1, epochs=5, cost_feature=False)


def sep_convs(cells) -> np.ndarray:
    """Separable convolutions in the normal cell: a target that only the ops decide."""
    return np.array([sum(op.startswith("sep_conv") for op, _ in g.normal) for g in cells], dtype=np.float64)


@pytest.fixture(scope="module")
def genotypes():
    return [SPACE.sample(seed) for seed in range(140)]


def test_space_graphs_shapes_and_features(genotypes):
    x, adjacency, mask = space_graphs(SPACE, genotypes[:3])
    width = space_node_features(SPACE)
    assert width == len(SPACE.node_types) + SPACE.max_nodes + 2
    assert x.shape == (3, 2, 11, width) and adjacency.shape == (3, 2, 11, 11) and mask.all()
    normal, reduce = SPACE.to_graph(genotypes[0].canonical())
    assert np.array_equal(adjacency[0, 0].numpy(), normal.adjacency)
    assert np.array_equal(x[0, 1, :, :len(SPACE.node_types)].numpy(), reduce.features)
    # every node: its type, its position, which graph
    assert torch.equal(x[0].sum(-1), torch.full((2, 11), 3.0))
    assert torch.equal(x[0, 1, :, -2:], torch.tensor([[0.0, 1.0]]).repeat(11, 1))


def test_graph_of_equivalent_notations_is_the_same(genotypes):
    g = genotypes[0]
    swapped = type(g)(normal=[g.normal[1], g.normal[0], *g.normal[2:]], reduce=g.reduce)
    assert swapped != g and swapped.canonical() == g.canonical()
    for a, b in zip(space_graphs(SPACE, [g]), space_graphs(SPACE, [swapped])):
        assert torch.equal(a, b)


def test_darts_gcn_fit_predict_shapes(genotypes):
    model = GCNPredictor(space="darts", seed=0, **TINY_GCN).fit(genotypes[:12], np.arange(12.0))
    mean, std = model.predict(genotypes[12:20], return_std=True)
    assert mean.shape == std.shape == (8,) and np.isfinite(mean).all() and np.isfinite(std).all()
    # the notation's strings are cells too, and give the same predictions
    assert np.array_equal(model.predict([SPACE.format(g) for g in genotypes[12:20]]), mean)


def test_darts_gcn_learns_a_graph_target(genotypes):
    y = sep_convs(genotypes)
    model = GCNPredictor(space=SPACE, seed=0, hidden=32, layers=2, ensemble=1, epochs=80, lr=1e-2,
                         cost_feature=False).fit(genotypes[:90], y[:90])
    assert kendall_tau(y[90:], model.predict(genotypes[90:])) > 0.5  # chance: 0


def test_darts_mlp_and_gbt_read_the_space_one_hot(genotypes):
    y = sep_convs(genotypes)
    mlp = MLPPredictor(space="darts", seed=0, hidden=32, ensemble=1, epochs=150, lr=1e-2).fit(genotypes[:90], y[:90])
    assert mlp._network()[0].in_features == one_hot(SPACE, genotypes[:1]).shape[1] == 2 * (4 * 14) + 2 * 20
    gbt = GBTPredictor(space="darts", n_estimators=80, ensemble=2, seed=0).fit(genotypes[:90], y[:90])
    for model in (mlp, gbt):
        assert kendall_tau(y[90:], model.predict(genotypes[90:])) > 0.4


@pytest.mark.parametrize("cls", [GCNPredictor, MLPPredictor, GBTPredictor])
def test_cells_of_another_space_are_refused(cls, genotypes):
    nb201 = NB201Space().sample_many(6, seed=0)
    with pytest.raises(InvalidInputError, match="expected darts architectures"):
        cls(space="darts").fit(nb201, np.arange(6.0))
    with pytest.raises(InvalidInputError, match="expected nb201 architectures"):
        cls().fit(genotypes[:6], np.arange(6.0))
    with pytest.raises(InvalidInputError, match="unknown search space 'nb301'; choose one of nb201, darts"):
        cls(space="nb301").fit(genotypes[:6], np.arange(6.0))


def test_isomorphs_are_nb201_only(genotypes):
    with pytest.raises(InvalidInputError, match="isomorphs=2 adds isomorphic twins.*cannot be listed"):
        GCNPredictor(space="darts", isomorphs=2, **TINY_GCN).fit(genotypes[:10], np.arange(10.0))


@pytest.mark.parametrize("space", ["nb201", NB201Space()])
def test_nb201_by_name_is_the_default(space):
    archs = NB201Space().sample_many(30, seed=1)
    y = np.array([sum(a.ops) for a in archs], dtype=np.float64)
    options = dict(hidden=8, layers=1, ensemble=2, epochs=4, isomorphs=1)
    default = GCNPredictor(seed=0, **options).fit(archs[:20], y[:20]).predict(archs[20:])
    named = GCNPredictor(seed=0, space=space, **options).fit(archs[:20], y[:20]).predict(archs[20:])
    assert np.array_equal(default, named)
    assert resolve_space(space) == resolve_space(None) == NB201Space()


def test_several_graphs_path_matches_the_single_graph_path():
    torch.manual_seed(0)
    net = DirectedGCN(hidden=8, layers=2, graph_features=1, node_features=15).eval()
    x, adjacency = torch.rand(5, 8, 15), (torch.rand(5, 8, 8) > 0.6).float().triu(1)
    extra = torch.rand(5, 1)
    single = net(x, adjacency, extra)
    stacked = net(x[:, None], adjacency[:, None], extra, torch.ones(5, 1, 8, dtype=torch.bool))
    torch.testing.assert_close(stacked, single)


def test_padding_is_ignored():
    torch.manual_seed(0)
    net = DirectedGCN(hidden=8, layers=2, node_features=6).eval()
    x, adjacency = torch.rand(2, 5, 6), (torch.rand(2, 5, 5) > 0.5).float().triu(1)
    padded_x, padded_a = torch.zeros(2, 7, 6), torch.zeros(2, 7, 7)
    padded_x[:, :5], padded_a[:, :5, :5] = x, adjacency
    padded_x[:, 5:] = 9.0  # whatever sits in the padding
    mask = torch.zeros(2, 7, dtype=torch.bool)
    mask[:, :5] = True
    torch.testing.assert_close(net(padded_x, padded_a, mask=mask), net(x, adjacency, mask=mask[:, :5]))


@pytest.mark.parametrize("cls, options", [(GCNPredictor, TINY_GCN),
                                          (MLPPredictor, dict(hidden=16, ensemble=1, epochs=5)),
                                          (GBTPredictor, dict(n_estimators=30, ensemble=1))])
def test_features_change_predictions(cls, options, genotypes):
    y = sep_convs(genotypes[:40])
    plain = cls(space="darts", seed=0, **options).fit(genotypes[:30], y[:30])
    fed = cls(space="darts", seed=0, features=lambda cells: sep_convs(cells)[:, None] ** 2, **options)
    fed.fit(genotypes[:30], y[:30])
    assert fed.features_mean_.shape == fed.features_scale_.shape == (1,)
    assert not np.allclose(plain.predict(genotypes[30:40]), fed.predict(genotypes[30:40]))


def test_features_help_gbt_rank(genotypes):
    hidden = np.random.default_rng(5).normal(size=len(genotypes))  # a per-cell number the one-hot cannot see
    y = sep_convs(genotypes) + 2 * hidden
    hint = TableFeatures(SPACE, genotypes, {"hidden": hidden})
    plain = GBTPredictor(space="darts", n_estimators=80, seed=0).fit(genotypes[:90], y[:90])
    fed = GBTPredictor(space="darts", n_estimators=80, seed=0, features=hint).fit(genotypes[:90], y[:90])
    assert kendall_tau(y[90:], fed.predict(genotypes[90:])) > kendall_tau(y[90:], plain.predict(genotypes[90:])) + 0.3


def test_features_on_nb201():
    archs = NB201Space().sample_many(40, seed=2)
    y = np.array([a.ops.count(3) for a in archs], dtype=np.float64)
    plain = GCNPredictor(seed=0, hidden=8, layers=1, ensemble=1, epochs=4, isomorphs=2).fit(archs[:30], y[:30])
    fed = GCNPredictor(seed=0, hidden=8, layers=1, ensemble=1, epochs=4, isomorphs=2,
                       features=CostFeatures()).fit(archs[:30], y[:30])
    assert fed._network().head[0].in_features == plain._network().head[0].in_features + 2
    assert not np.allclose(plain.predict(archs[30:]), fed.predict(archs[30:]))


def test_features_are_validated(genotypes):
    y = np.arange(10.0)
    with pytest.raises(InvalidInputError, match=r"one row per cell, shape \(10, d\); got shape \(9, 1\)"):
        GBTPredictor(space="darts", features=lambda cells: np.ones((len(cells) - 1, 1))).fit(genotypes[:10], y)
    with pytest.raises(InvalidInputError, match="features must be a callable"):
        GBTPredictor(space="darts", features=np.ones((10, 2))).fit(genotypes[:10], y)
    with pytest.raises(InvalidInputError, match="NaN or infinite value.*column 1"):
        GBTPredictor(space="darts", features=lambda cells: np.array([[0.0, np.nan]] * len(cells))).fit(
            genotypes[:10], y)
    width = {"d": 2}
    model = GCNPredictor(space="darts", features=lambda cells: np.ones((len(cells), width["d"])), **TINY_GCN)
    model.fit(genotypes[:10], y)
    width["d"] = 3
    with pytest.raises(InvalidInputError, match="returned 3 columns, but the predictor was fitted with 2"):
        model.predict(genotypes[10:12])
    with pytest.raises(InvalidInputError, match="fitted with 2 feature column"):
        model.set_params(features=None).predict(genotypes[10:12])
    plain = GBTPredictor(space="darts", n_estimators=5, ensemble=1).fit(genotypes[:10], y)
    with pytest.raises(InvalidInputError, match="fitted without features"):
        plain.set_params(features=sep_convs).predict(genotypes[10:12])


def test_save_load_records_the_space(genotypes, tmp_path):
    y = sep_convs(genotypes[:20])
    for model in (GBTPredictor(space=SPACE, n_estimators=20, ensemble=1, seed=0),
                  GCNPredictor(space=SPACE, seed=0, **TINY_GCN)):
        model.fit(genotypes[:20], y)
        loaded = load_predictor(model.save(tmp_path / f"{model.name}.pt"))
        assert loaded.space == "darts"
        assert np.array_equal(loaded.predict(genotypes[20:30]), model.predict(genotypes[20:30]))
    # the default cost feature of another space (space.costs, scaled on the training cells) is saved with it
    costed = GCNPredictor(space="darts", seed=0, hidden=8, layers=1, ensemble=1, epochs=3).fit(genotypes[:8], y[:8])
    assert costed.features_mean_.shape == (1,)
    loaded = load_predictor(costed.save(tmp_path / "costed.pt"))
    assert isinstance(loaded.features_mean_, np.ndarray)
    assert np.array_equal(loaded.predict(genotypes[8:11]), costed.predict(genotypes[8:11]))
    fed = GBTPredictor(space="darts", n_estimators=20, ensemble=1, features=sep_convs).fit(genotypes[:20], y)
    with pytest.raises(InvalidInputError, match="features=.* is code, which a predictor file does not store"):
        fed.save(tmp_path / "fed.pt")
    assert not (tmp_path / "fed.pt").exists()


def test_space_and_features_are_parameters():
    features = CostFeatures("darts")
    model = GCNPredictor(space=SPACE, features=features)
    params = model.get_params()
    assert params["space"] is SPACE and params["features"] is features
    copy = clone(model)
    assert copy.space == SPACE and isinstance(copy.features, CostFeatures)


def test_table_features_find_equivalent_cells(genotypes):
    table = TableFeatures("darts", genotypes[:5], {"a": np.arange(5.0), "b": np.arange(5.0) * 10})
    g = genotypes[3]
    swapped = type(g)(normal=[g.normal[1], g.normal[0], *g.normal[2:]], reduce=g.reduce)
    assert np.array_equal(table([swapped, genotypes[0]]), [[3.0, 30.0], [0.0, 0.0]])
    with pytest.raises(InvalidInputError, match="no row for 1 of 2 cells"):
        table([genotypes[0], genotypes[9]])
    with pytest.raises(InvalidInputError, match="one value per cell"):
        TableFeatures("darts", genotypes[:5], {"a": np.arange(4.0)})


def test_cost_features_are_the_space_costs(genotypes):
    costs = SPACE.costs(genotypes[0])
    values = CostFeatures(SPACE)(genotypes[:1])
    np.testing.assert_allclose(values, np.log([[costs["params"], costs["flops"]]]))
    archs = NB201Space().sample_many(3, seed=0)
    assert CostFeatures(names=("params",), log=False)(archs).shape == (3, 1)


def test_gp_reads_any_space_and_saves_it_by_name(genotypes, tmp_path):
    from gcnas.predictors import GPPredictor, load_predictor
    from gcnas.spaces import get_space

    y = np.arange(12.0)
    model = GPPredictor(seed=0, space=get_space("darts")).fit(genotypes[:12], y)
    assert model.train_x_.shape == (12, one_hot(SPACE, genotypes[:1]).shape[1])
    loaded = load_predictor(model.save(tmp_path / "gp.pt"))
    assert loaded.space == "darts"
    np.testing.assert_allclose(loaded.predict(genotypes[12:15]), model.predict(genotypes[12:15]))
