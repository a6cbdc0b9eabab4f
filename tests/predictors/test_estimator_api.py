"""Predictors are scikit-learn estimators in full: params, clone, score, arch-like inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from gcnas.exceptions import InvalidInputError
from gcnas.predictors import GBTPredictor, GCNPredictor, kendall_tau, make_predictor, predictor_names
from gcnas.spaces.nb201 import NB201Space


def _data(n: int = 60, seed: int = 3):
    archs = NB201Space().sample_many(n, seed=seed)
    quality = np.array([[0.0, 0.5, 0.8, 1.0, 0.3][op] for a in archs for op in a.ops]).reshape(-1, 6)
    return archs, 70 + 4 * quality.sum(1)


@pytest.mark.parametrize("name", predictor_names())
def test_clone_gives_an_unfitted_copy_with_equal_params(name):
    predictor = make_predictor(name, seed=5)
    predictor.set_params(seed=6)
    copy = clone(predictor)
    assert type(copy) is type(predictor) and copy is not predictor
    assert copy.get_params(deep=True) == predictor.get_params(deep=False) == copy.get_params()
    assert copy.seed == 6


def test_set_params_rejects_unknown_names_and_returns_self():
    predictor = GBTPredictor()
    assert predictor.set_params(n_estimators=20) is predictor and predictor.n_estimators == 20
    with pytest.raises(InvalidInputError, match="no parameter.*n_trees"):
        predictor.set_params(n_trees=3)


def test_score_is_kendall_tau_of_the_predictions():
    archs, y = _data()
    predictor = GBTPredictor(n_estimators=40, ensemble=1, seed=0).fit(archs[:40], y[:40])
    expected = kendall_tau(y[40:], predictor.predict(archs[40:]))
    assert predictor.score(archs[40:], y[40:]) == pytest.approx(expected)
    assert predictor.score(archs[40:], y[40:]) != pytest.approx(predictor.score(archs[40:], -y[40:]))


def test_archs_strings_and_codes_are_the_same_input():
    archs, y = _data(40)
    strings = [str(a) for a in archs]
    codes = [a.code for a in archs]
    by_arch = GCNPredictor(epochs=5, ensemble=1, seed=0).fit(archs, y).predict(archs[:10])
    by_string = GCNPredictor(epochs=5, ensemble=1, seed=0).fit(strings, y).predict(strings[:10])
    by_code = GCNPredictor(epochs=5, ensemble=1, seed=0).fit(codes, y).predict(np.array(codes[:10]))
    np.testing.assert_allclose(by_arch, by_string)
    np.testing.assert_allclose(by_arch, by_code)


@pytest.mark.parametrize("bad", [["|nor_conv_3x3~0|+|bogus~0|none~1|"], [15625], [2.5]])
def test_bad_arch_like_inputs_are_one_clear_error(bad):
    archs, y = _data(10)
    with pytest.raises(InvalidInputError, match="architecture"):
        GBTPredictor(n_estimators=5, ensemble=1).fit(list(archs[:9]) + bad, y)


def test_one_string_instead_of_a_list_is_refused():
    archs, y = _data(10)
    predictor = GBTPredictor(n_estimators=5, ensemble=1).fit(archs, y)
    with pytest.raises(InvalidInputError, match="wrap it in a list"):
        predictor.predict(str(archs[0]))
