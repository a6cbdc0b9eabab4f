"""Every predictor works inside scikit-learn's model selection: is_regressor, clone,
cross_val_score, GridSearchCV and Pipeline, with architectures (a list or an object array) as X."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_regressor
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from gcnas.predictors import kendall_tau, make_predictor, predictor_names
from gcnas.spaces.nb201 import Arch, NB201Space

# the cheapest settings of each model, and one parameter to grid-search over
TINY = {
    "gcn": ({"hidden": 8, "layers": 1, "ensemble": 1, "epochs": 3, "isomorphs": 0}, {"rank_weight": [0.0, 1.0]}),
    "mlp": ({"hidden": 8, "layers": 1, "ensemble": 1, "epochs": 3}, {"hidden": [4, 8]}),
    "gbt": ({"n_estimators": 10, "ensemble": 1}, {"max_depth": [1, 3]}),
    "gp": ({}, {"seed": [0, 1]}),
    "conformal": ({"model": "gbt", "model_params": {"n_estimators": 10, "ensemble": 1}, "folds": 2},
                  {"folds": [2, 3]}),
}
MODELS = [name for name in sorted(TINY) if name in predictor_names()]
CV = KFold(3, shuffle=True, random_state=0)


def _data(n: int = 24):
    archs = NB201Space().sample_many(n, seed=4)
    quality = np.array([[0.0, 0.5, 0.8, 1.0, 0.3][op] for a in archs for op in a.ops]).reshape(-1, 6)
    return archs, 70 + 4 * quality.sum(1)


def _canonical(archs) -> list[Arch]:
    return [a.canonical() for a in archs]


def test_every_registered_model_is_covered():
    assert set(predictor_names()) <= set(TINY)


@pytest.mark.parametrize("name", MODELS)
def test_is_a_regressor_and_clones_unfitted(name):
    params, _ = TINY[name]
    fitted = make_predictor(name, **params).fit(*_data())
    assert is_regressor(fitted)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "y_mean_")
    assert hasattr(fitted, "y_mean_")


@pytest.mark.parametrize("name", MODELS)
def test_cross_val_score_scores_each_fold_by_kendall_tau(name):
    params, _ = TINY[name]
    archs, y = _data()
    scores = cross_val_score(make_predictor(name, **params), archs, y, cv=CV, error_score="raise")
    assert scores.shape == (3,) and np.all((scores >= -1) & (scores <= 1))
    # the same folds by hand: each score is the Kendall tau of a fresh fit on the other folds
    train, test = next(CV.split(archs))
    model = make_predictor(name, **params).fit([archs[i] for i in train], y[train])
    assert scores[0] == pytest.approx(kendall_tau(y[test], model.predict([archs[i] for i in test])))


@pytest.mark.parametrize("name", MODELS)
def test_grid_search_refits_the_best_parameters(name):
    params, grid = TINY[name]
    archs, y = _data()
    search = GridSearchCV(make_predictor(name, **params), grid, cv=CV, error_score="raise")
    search.fit(np.array(archs, dtype=object), y)  # an object array of Arch, as well as a list
    (key, values), = grid.items()
    assert search.best_params_[key] in values
    assert len(search.cv_results_["mean_test_score"]) == len(values)
    assert getattr(search.best_estimator_, key) == search.best_params_[key]
    assert search.predict(archs[:5]).shape == (5,)


@pytest.mark.parametrize("name", MODELS)
def test_pipeline_passes_transformed_archs_and_routes_parameters(name):
    params, grid = TINY[name]
    archs, y = _data()
    pipe = Pipeline([("canonical", FunctionTransformer(_canonical)), ("model", make_predictor(name, **params))])
    (key, values), = grid.items()
    pipe.set_params(**{f"model__{key}": values[-1]})
    assert getattr(pipe.named_steps["model"], key) == values[-1]
    predicted = pipe.fit(archs, y).predict(archs[:4])
    direct = clone(pipe.named_steps["model"]).fit(_canonical(archs), y).predict(_canonical(archs[:4]))
    np.testing.assert_allclose(predicted, direct)
    assert -1 <= pipe.score(archs, y) <= 1
