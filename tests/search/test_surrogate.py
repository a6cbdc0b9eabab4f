import math
import warnings

import numpy as np
import pytest
import torch

from gcnas.exceptions import FitFailedWarning
from gcnas.search.surrogate import copula_warp, fit_gp, log_ei, posterior_stats


def _exact_log_ei(z: float) -> float:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    z = mpmath.mpf(z)
    return float(mpmath.log(mpmath.npdf(z) + z * mpmath.ncdf(z)))


def test_log_ei_is_accurate_far_below_the_incumbent():
    z = torch.tensor([-1e7, -1e6, -1e4, -300.0, -40.0, -10.0, -1.5, -1.0, -0.3, 0.0, 2.0, 30.0], dtype=torch.float64)
    got = log_ei(z, torch.ones_like(z), 0.0)
    expected = torch.tensor([_exact_log_ei(v) for v in z.tolist()], dtype=torch.float64)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_log_ei_scales_with_std_and_shifts_with_best():
    mean, std = torch.tensor([1.0, 3.0], dtype=torch.float64), torch.tensor([2.0, 0.5], dtype=torch.float64)
    z = (mean - 2.0) / std
    expected = torch.tensor([_exact_log_ei(v) for v in z.tolist()], dtype=torch.float64) + std.log()
    assert torch.allclose(log_ei(mean, std, 2.0), expected, rtol=1e-12)
    assert log_ei(torch.tensor([0.0]), torch.tensor([1.0]), 0.0).item() == pytest.approx(-0.5 * math.log(2 * math.pi))


@pytest.mark.parametrize("outcomes", [1, 2])
@pytest.mark.parametrize("fixed_noise", [False, True])
def test_posterior_stats_match_gpytorch(outcomes, fixed_noise):
    from botorch.exceptions import InputDataWarning
    from botorch.models import SingleTaskGP

    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 5, generator=g, dtype=torch.float64)
    Y = torch.randn(30, outcomes, generator=g, dtype=torch.float64)
    if fixed_noise:                                     # one noise level per point, as replicate_gp builds
        Yvar = 0.01 + 0.5 * torch.rand(30, outcomes, generator=g, dtype=torch.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputDataWarning)    # Y is standard normal up to sampling
            model = SingleTaskGP(X, Y, train_Yvar=Yvar, outcome_transform=None).eval()
    else:
        model, state = fit_gp(X, Y)
    Xt = torch.rand(11, 5, generator=g, dtype=torch.float64)
    mean, std = posterior_stats(model, Xt, chunk=4)
    post = model.posterior(Xt)
    assert mean.shape == std.shape == (11, outcomes)
    assert torch.allclose(mean, post.mean, atol=1e-6)
    assert torch.allclose(std, post.variance.sqrt(), atol=1e-6)
    if not fixed_noise:
        reused, _ = fit_gp(X, Y, state, refit=False)
        assert torch.allclose(posterior_stats(reused, Xt)[0], mean)


def test_copula_warp_gives_normal_scores_of_tied_ranks():
    from scipy.stats import norm

    y = np.array([10.0, 90.0, 91.0, 89.0, 91.0])
    ranks = np.array([1.0, 3.0, 4.5, 2.0, 4.5])          # the two 91s share ranks 4 and 5
    assert copula_warp(y) == pytest.approx(norm.ppf((ranks - 0.5) / 5), rel=1e-12)
    assert copula_warp(y * 1000 - 7) == pytest.approx(copula_warp(y), rel=1e-12)   # only the order matters


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.rand(20, 3, generator=g, dtype=torch.float64), torch.randn(20, 1, generator=g, dtype=torch.float64)


def _failing_fit(monkeypatch):
    import botorch.fit
    from botorch.exceptions.errors import ModelFittingError

    def fail(*args, **kwargs):
        raise ModelFittingError("All attempts to fit the model have failed.")

    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", fail)


def test_a_good_fit_has_no_error():
    model, _ = fit_gp(*_data())
    assert model.fit_error is None


def test_a_failed_fit_is_warned_about_and_keeps_the_previous_hyper_parameters(monkeypatch):
    X, Y = _data()
    _, state = fit_gp(X, Y)
    _failing_fit(monkeypatch)
    with pytest.warns(FitFailedWarning, match=r"GP hyper-parameter fit on 20 points failed \(ModelFittingError: "
                                              r"All attempts.*previous fit's hyper-parameters"):
        model, kept = fit_gp(X, Y, state)
    assert model.fit_error.startswith("ModelFittingError: All attempts to fit")
    assert all(torch.equal(kept[k], state[k]) for k in state)
    with pytest.warns(FitFailedWarning, match="untrained"):
        model, _ = fit_gp(X, Y)
    assert model.fit_error is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)
        fit_gp(X, Y, state, refit=False)                # no fit asked: nothing to fail, nothing warned


def test_a_failed_fit_is_recorded_on_the_trials_of_its_step(monkeypatch, small_table):
    from gcnas.search import BayesianOptimization, TableObjective, run_search

    _failing_fit(monkeypatch)
    # refit_every=100: a failed fit is retried at the next step, not replaced by untrained values until then
    bo = BayesianOptimization(n_init=4, refit_every=100, candidates=small_table.archs)
    with pytest.warns(FitFailedWarning):
        result = run_search(bo, [TableObjective("valid_acc", table=small_table)], budget=7, seed=0)
    notes = [t.report.get("gp_fit_error") for t in result.trials]
    assert notes[:4] == [None] * 4                      # the random design fits nothing
    assert all(n and n.startswith("ModelFittingError") for n in notes[4:])
    assert len({t.arch.code for t in result.trials}) == 7 and np.isfinite(result.best_so_far()[-1])
