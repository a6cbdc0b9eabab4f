from __future__ import annotations

import numpy as np
import pytest

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError, NotFittedError
from gcnas.predictors import (GBTPredictor, GCNPredictor, GPPredictor, MLPPredictor, kendall_tau, load_predictor,
                              make_predictor, predictor_names)
from gcnas.spaces.nb201 import NB201Space

FAST = {
    "gcn": dict(hidden=16, layers=2, ensemble=2, epochs=40, patience=20, isomorphs=1),
    "mlp": dict(hidden=32, ensemble=2, epochs=60, patience=30),
    "gbt": dict(n_estimators=60, ensemble=2),
    "gp": dict(),
}


def _smooth(archs):
    # conv3x3 good, none bad, plus an interaction with position: a learnable target
    quality = np.array([[0.0, 0.5, 0.8, 1.0, 0.3][op] for a in archs for op in a.ops]).reshape(-1, 6)
    return 70 + 4 * quality.sum(1) + 2 * quality[:, 3]


@pytest.fixture(scope="module")
def data():
    archs = NB201Space().sample_many(160, seed=3)
    return archs[:80], _smooth(archs[:80]), archs[80:], _smooth(archs[80:])


@pytest.mark.parametrize("name", sorted(FAST))
def test_fit_predict_rank(name, data, tmp_path):
    train, y, test, y_test = data
    model = make_predictor(name, seed=0, **FAST[name])
    assert model.fit(train, y) is model
    mean, std = model.predict(test, return_std=True)
    assert mean.shape == std.shape == (len(test),) and mean.dtype == np.float64
    assert np.all(std >= 0)
    assert kendall_tau(y_test, mean) > 0.6, name
    assert abs(mean.mean() - y_test.mean()) < 2  # targets are unscaled back to accuracy units
    path = model.save(tmp_path / "p.pt")
    again = load_predictor(path)
    assert type(again) is type(model) and again.get_params() == model.get_params()
    np.testing.assert_allclose(again.predict(test), mean, rtol=1e-6)


def test_gcn_is_seeded(data):
    train, y, test, _ = data
    options = dict(FAST["gcn"], ensemble=1, epochs=10, isomorphs=0)
    first = GCNPredictor(seed=5, **options).fit(train, y).predict(test)
    second = GCNPredictor(seed=5, **options).fit(train, y).predict(test)
    np.testing.assert_array_equal(first, second)


def test_gcn_fits_latency_like_targets(data):
    train, _, test, _ = data
    # a cost that adds up per op (latency-like): the GCN must recover it closely
    cost = {0: 0.0, 1: 0.1, 2: 0.6, 3: 1.5, 4: 0.3}
    target = lambda archs: np.array([1 + sum(cost[o] for o in a.ops) for a in archs])  # noqa: E731
    model = GCNPredictor(seed=0, hidden=32, ensemble=1, epochs=100, lr=1e-2, rank_weight=0, prune=False,
                         isomorphs=0).fit(train, target(train))
    error = np.abs(model.predict(test) / target(test) - 1)
    assert np.median(error) < 0.1


def test_registry_and_repr():
    assert predictor_names() == ["conformal", "gbt", "gcn", "gp", "mlp"]
    assert isinstance(make_predictor("mlp"), MLPPredictor)
    assert repr(GCNPredictor(ensemble=3)) == "GCNPredictor(ensemble=3)"
    with pytest.raises(InvalidInputError, match="unknown predictor 'xgb'; choose one of conformal, gbt, gcn, gp, mlp"):
        make_predictor("xgb")


@pytest.mark.parametrize("cls", [GCNPredictor, MLPPredictor, GBTPredictor, GPPredictor])
def test_not_fitted(cls):
    with pytest.raises(NotFittedError, match="not fitted"):
        cls().predict(NB201Space().sample_many(2, seed=0))


def test_bad_training_input(data):
    train, y, _, _ = data
    with pytest.raises(InvalidInputError, match="at least 5 training architectures, got 2"):
        GCNPredictor().fit(train[:2], y[:2])
    bad = y.copy()
    bad[4] = np.nan
    with pytest.raises(InvalidInputError, match="1 training target\\(s\\) are NaN"):
        GBTPredictor().fit(train, bad)
    with pytest.raises(InvalidInputError, match="one target per architecture"):
        GBTPredictor().fit(train, y[:-1])
    with pytest.raises(InvalidInputError, match="'\\|none~0\\|' is not an architecture: malformed"):
        GBTPredictor().fit(["|none~0|"] * 10, y[:10])


def test_load_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="gcnas predictor fit"):
        load_predictor(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(CorruptFileError, match="not a readable predictor file"):
        load_predictor(tmp_path / "junk.pt")


def test_predict_empty(data):
    train, y, _, _ = data
    model = GBTPredictor(n_estimators=10, ensemble=1).fit(train, y)
    assert model.predict([]).shape == (0,)
