import numpy as np
import pytest
import torch

from gcnas.search.pareto_probability import cost_dominance_max, level_of_observed, membership_probability
from gcnas.search.surrogate import replicate_gp, replicate_noise


def brute_level(costs, obs_costs, obs_values):
    out = []
    for c in costs:
        mask = (obs_costs >= c).all(axis=1)
        out.append(obs_values[mask].max() if mask.any() else -np.inf)
    return np.array(out)


def brute_rivals(costs, values, targets):
    S, u = values.shape
    out = np.full((S, targets), -np.inf)
    for i in range(targets):
        mask = (costs >= costs[i]).all(axis=1)
        mask[i] = False
        if mask.any():
            out[:, i] = values[:, mask].max(axis=1)
    return out


@pytest.mark.parametrize("num_costs", [1, 2])
def test_level_and_rivals_match_brute_force(num_costs):
    rng = np.random.default_rng(num_costs)
    # integer costs make ties frequent, which the one-cost fast path must handle exactly
    costs = rng.integers(0, 6, size=(40, num_costs)).astype(float)
    obs_costs = rng.integers(0, 6, size=(12, num_costs)).astype(float)
    obs_values = rng.normal(size=12)
    assert np.allclose(level_of_observed(costs, obs_costs, obs_values), brute_level(costs, obs_costs, obs_values))
    values = rng.normal(size=(7, 40))
    assert np.allclose(cost_dominance_max(costs, values, 25), brute_rivals(costs, values, 25))
    assert level_of_observed(costs, obs_costs[:0], obs_values[:0]).tolist() == [-np.inf] * 40


def test_membership_probability():
    f = np.array([[1.0, 0.0], [3.0, 0.0]])
    rivals = np.array([[0.0, 0.0], [0.0, 1.0]])
    p = membership_probability(f, np.array([0.0, 1.0]), rivals)
    assert p[0] == 1.0                                    # deterministic, above the rival in both samples
    assert p[1] == pytest.approx((0.5 + 0.158655) / 2, abs=1e-5)
    assert membership_probability(np.zeros((2, 1)), np.zeros(1), np.zeros((2, 1)))[0] == 0.0   # a tie loses


def test_replicate_noise_pools_and_detects_determinism():
    groups = np.array([0, 0, 0, 1, 2, 2])
    raw = np.array([9.71, 9.71, 9.71, 80.0, 84.1, 84.5])
    warped = np.array([-2.0, -2.0, -2.0, 0.0, 0.5, 0.9])
    rep = replicate_noise(groups, warped, raw, noise=0.04, prior=2.0)
    assert rep.groups.tolist() == [0, 1, 2] and rep.counts.tolist() == [3, 1, 2]
    assert rep.deterministic.tolist() == [True, False, False]
    assert rep.noise[0] == 0.0 and rep.noise[1] == pytest.approx(0.04)
    assert rep.noise[2] == pytest.approx((0.08 + 2 * 0.04) / 3)   # SS = 2 * 0.2**2
    seen, mean, noise, det = rep.lookup(np.array([2, 5, 0]))
    assert seen.tolist() == [True, False, True] and det.tolist() == [False, False, True]
    assert mean[0] == pytest.approx(0.7) and np.isnan(mean[1]) and noise[1] == pytest.approx(0.04)


def test_replicate_gp_is_near_a_well_replicated_mean():
    from gcnas.search.surrogate import fit_gp

    g = torch.Generator().manual_seed(0)
    X = torch.rand(12, 3, generator=g, dtype=torch.float64)
    groups = np.repeat(np.arange(4), 3)
    y = np.repeat(np.array([0.0, 1.0, -1.0, 0.5]), 3) + np.random.default_rng(0).normal(0, 0.05, 12)
    _, state = fit_gp(X[groups * 3], torch.as_tensor(y).unsqueeze(-1))
    rep = replicate_noise(groups, y, y, noise=0.01)
    model = replicate_gp(X[rep.groups * 3], rep, state)
    mean = model.posterior(X[rep.groups * 3]).mean.detach().numpy()[:, 0]
    assert np.allclose(mean, rep.means, atol=0.1)
