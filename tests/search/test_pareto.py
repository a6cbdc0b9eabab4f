import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.search import hypervolume, hypervolume_curve, nadir_reference, pareto_mask
from gcnas.search.surrogate import hvi_2d


def _brute_mask(Y):
    n = len(Y)
    return np.array([not any((Y[j] >= Y[i]).all() and (Y[j] > Y[i]).any() for j in range(n)) for i in range(n)])


@pytest.mark.parametrize("m", [1, 2, 3])
def test_pareto_mask_matches_brute_force(m):
    Y = np.round(np.random.default_rng(m).normal(size=(60, m)), 1)
    assert pareto_mask(Y).tolist() == _brute_mask(Y).tolist()


def test_pareto_mask_ignores_nan_rows():
    Y = np.array([[1.0, 1.0], [np.nan, 5.0], [0.5, 0.5]])
    assert pareto_mask(Y).tolist() == [True, False, False]


def test_hypervolume_2d_exact_and_matches_monte_carlo():
    assert hypervolume(np.array([[2.0, 1.0], [1.0, 2.0]]), np.zeros(2)) == pytest.approx(3.0)
    rng = np.random.default_rng(0)
    Y = rng.uniform(size=(20, 2))
    samples = rng.uniform(size=(200_000, 2))
    dominated = (Y[None, :, :] >= samples[:, None, :]).all(axis=2).any(axis=1).mean()
    assert hypervolume(Y, np.zeros(2)) == pytest.approx(dominated, abs=5e-3)


def test_hypervolume_3d_uses_exact_botorch():
    Y = np.array([[1.0, 1.0, 1.0], [2.0, 0.5, 0.5]])
    # union of a unit cube and a 2 x 0.5 x 0.5 box overlapping in 1 x 0.5 x 0.5
    assert hypervolume(Y, np.zeros(3)) == pytest.approx(1.0 + 0.5 - 0.25)


def test_hypervolume_zero_when_nothing_dominates_reference():
    assert hypervolume(np.array([[1.0, 1.0]]), np.array([2.0, 0.0])) == 0.0


def test_hypervolume_bad_reference():
    with pytest.raises(InvalidInputError, match="reference point has 3 values"):
        hypervolume(np.ones((2, 2)), np.zeros(3))
    with pytest.raises(InvalidInputError, match="finite"):
        hypervolume(np.ones((2, 2)), np.array([0.0, np.nan]))


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_curve_is_the_hypervolume_of_each_prefix(m):
    rng = np.random.default_rng(1)
    Y = rng.uniform(size=(30, m))
    Y[7] = np.nan                                             # a failed evaluation
    feasible = rng.uniform(size=30) < 0.7
    ref = np.zeros(m)
    curve = hypervolume_curve(Y, ref, feasible)
    expected = [hypervolume(Y[:t + 1][feasible[:t + 1]], ref) for t in range(30)]
    assert curve.tolist() == pytest.approx(expected, rel=1e-12)
    assert expected[-1] < hypervolume(Y, ref)                 # the infeasible rows would have added volume
    assert hypervolume_curve(Y, ref, np.zeros(30, dtype=bool)).tolist() == [0.0] * 30


def test_hvi_2d_equals_hypervolume_difference():
    rng = np.random.default_rng(2)
    front, points, ref = rng.uniform(size=(8, 2)), rng.uniform(-0.2, 1.2, size=(40, 2)), np.zeros(2)
    base = hypervolume(front, ref)
    expected = [hypervolume(np.vstack([front, p]), ref) - base for p in points]
    assert np.allclose(hvi_2d(points, front, ref), expected)


def test_nadir_reference():
    assert nadir_reference(np.array([[1.0, 3.0], [2.0, 0.5]])).tolist() == [1.0, 0.5]
    with pytest.raises(InvalidInputError, match="empty"):
        nadir_reference(np.zeros((0, 2)))


def test_pareto_mask_keeps_every_duplicate_of_a_front_point():
    Y = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0], [0.5, 0.5], [0.5, 0.5], [2.0, 1.0]])
    assert pareto_mask(Y).tolist() == [True, True, True, False, False, True]


@pytest.mark.parametrize("m", [2, 3])
def test_pareto_mask_on_large_sets_matches_brute_force(m):
    """Past 1,000 rows BoTorch switches to its loop; ties, duplicates and NaN rows included."""
    rng = np.random.default_rng(10 + m)
    Y = np.round(rng.normal(size=(1500, m)), 1)
    Y[::97] = Y[1::97]                                   # exact duplicates
    Y[5, 0] = np.nan
    finite = np.isfinite(Y).all(axis=1)
    P = Y[finite]
    ge = (P[None, :, :] >= P[:, None, :]).all(axis=2)
    gt = (P[None, :, :] > P[:, None, :]).any(axis=2)
    expected = np.zeros(len(Y), dtype=bool)
    expected[finite] = ~(ge & gt).any(axis=1)
    assert pareto_mask(Y).tolist() == expected.tolist()


def test_hypervolume_of_a_large_set_equals_that_of_its_front():
    Y = np.random.default_rng(4).uniform(size=(5000, 2))
    ref = np.array([-0.1, -0.1])
    front = Y[pareto_mask(Y)]
    order = np.argsort(-front[:, 0])
    x, y = front[order, 0], front[order, 1]            # a staircase: sum of its steps
    steps = (x - ref[0]) * np.diff(np.concatenate([[ref[1]], y]))
    assert hypervolume(Y, ref) == pytest.approx(steps.sum(), rel=1e-12)
