"""REINFORCE with an LSTM controller: the reward, the updates, the memory buffer, resume, the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from gcnas.cli import main
from gcnas.data import BenchmarkTable, RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.search import (CallableObjective, Constraint, Observations, RandomSearch, ReinforceSearch, TableObjective,
                          make_searcher, run_search)
from gcnas.search.reinforce import Controller, penalised_reward
from gcnas.spaces.nb201 import Arch, NB201Space

# An additive score (one weight per edge and op) whose best op is clearly best on every edge.
WEIGHTS = np.random.default_rng(7).normal(size=(6, 5))
BEST_OPS = WEIGHTS.argmax(axis=1)
WEIGHTS[np.arange(6), BEST_OPS] += 1.5


def _score(arch: Arch) -> float:
    return float(WEIGHTS[np.arange(6), arch.ops].sum())


def _observations(archs, y, slack=None) -> Observations:
    Y = np.asarray(y, dtype=np.float64).reshape(len(archs), -1)
    S = np.zeros((len(archs), 0)) if slack is None else np.asarray(slack, dtype=np.float64).reshape(len(archs), -1)
    return Observations(list(archs), Y, S)


def _best_op_probability(controller: Controller) -> float:
    """Mean over edges of the controller's marginal probability of that edge's best op."""
    p = controller.log_prob_all().exp().reshape((5,) * 6).numpy()
    marginals = [p.sum(axis=tuple(a for a in range(6) if a != edge))[BEST_OPS[edge]] for edge in range(6)]
    return float(np.mean(marginals))


def test_penalised_reward_subtracts_penalty_times_summed_violation():
    Y = np.array([[90.0, -3.0], [92.0, -1.0], [95.0, -2.0], [np.nan, -1.0], [80.0, -1.0]])
    slack = np.array([[-1.0, -0.5], [2.5, -4.0], [0.5, 1.5], [0.0, 0.0], [np.nan, 0.0]])
    reward = penalised_reward(Y, slack, penalty=2.0)
    # feasible: the primary objective; one bound broken by 2.5; two broken by 0.5 + 1.5; failed rows NaN
    np.testing.assert_allclose(reward[:3], [90.0, 92.0 - 5.0, 95.0 - 4.0])
    assert np.isnan(reward[3:]).all()
    np.testing.assert_allclose(penalised_reward(Y[:3], slack[:3], penalty=0.0), Y[:3, 0])
    np.testing.assert_allclose(penalised_reward(Y[:3, :1], np.zeros((3, 0)), penalty=5.0), Y[:3, 0])
    with pytest.raises(InvalidInputError, match="slack of shape"):
        penalised_reward(Y, slack[:2], penalty=1.0)


def test_log_prob_of_every_cell_matches_teacher_forcing_and_sums_to_one():
    controller = Controller(hidden_size=16, seed=3)
    archs = NB201Space().all_archs()
    with torch.no_grad():
        forced, entropy = controller.log_prob(torch.as_tensor([a.ops for a in archs]))
    every = controller.log_prob_all()
    assert torch.allclose(every, forced, atol=1e-5)
    assert every.exp().sum().item() == pytest.approx(1.0, abs=1e-4)
    assert (entropy > 0).all() and (entropy <= 6 * np.log(5) + 1e-5).all()
    # the hidden state after all six decisions tells cells apart
    states = controller.hidden_states(np.array([archs[0].ops, archs[1].ops]))
    assert states.shape == (2, 16) and not np.allclose(states[0], states[1])


def test_controller_learns_the_best_op_of_each_edge_and_beats_random_search():
    objective = CallableObjective("score", fn=_score)
    later = {"reinforce": [], "random": []}
    for seed in range(3):
        search = ReinforceSearch(learning_rate=0.05, hidden_size=16, seed=seed)
        result = run_search(search, [objective], budget=60, seed=seed)
        later["reinforce"].append(result.values("score")[-20:].mean())
        baseline = run_search(RandomSearch(), [objective], budget=60, seed=seed)
        later["random"].append(baseline.values("score")[-20:].mean())
        obs = _observations([t.arch for t in result.trials], result.values("score"))
        untrained = search.trained_controller(Observations([], np.zeros((0, 1)), np.zeros((0, 0))))
        assert _best_op_probability(untrained) == pytest.approx(0.2, abs=0.05)
        assert _best_op_probability(search.trained_controller(obs)) > 0.45
    # Measured: mean score of the last 20 proposals 7.1 (reinforce) vs -0.8 (random), the best ops'
    # probability 0.57-0.89; with the sign of the policy gradient flipped -7.2 and below 0.001.
    assert np.mean(later["reinforce"]) > np.mean(later["random"]) + 2.0


def test_kill_and_resume_proposes_what_the_uninterrupted_run_does(small_table, tmp_path, killed_search):
    acc = TableObjective("valid_acc", table=small_table)
    make = lambda: ReinforceSearch(memory_buffer=3, hidden_size=16, candidates=small_table.archs)  # noqa: E731
    killed_search(make(), [acc], tmp_path / "run", at=7, budget=14, q=2, seed=4)
    with RunStore(tmp_path / "run") as store:
        assert len(store.trials("search")) == 8
        resumed = run_search(make(), [acc], budget=14, store=store, q=2, seed=4)
    straight = run_search(make(), [acc], budget=14, q=2, seed=4)
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]
    assert len({t.arch for t in straight.trials}) == 14


def test_a_search_reused_on_other_observations_starts_afresh():
    archs = NB201Space().sample_many(12, np.random.default_rng(0))
    rewards = np.random.default_rng(1).normal(size=12)
    search = ReinforceSearch(hidden_size=8)
    search.prepare(NB201Space().all_archs())
    first = search.trained_controller(_observations(archs, rewards)).log_prob_all().clone()
    other = _observations(archs[:5], -rewards[:5])                         # not a continuation: replayed
    assert torch.equal(search.trained_controller(other).log_prob_all(),
                       ReinforceSearch(hidden_size=8).trained_controller(other).log_prob_all())
    again = search.trained_controller(_observations(archs, rewards)).log_prob_all()
    assert torch.equal(first, again)
    step_by_step = ReinforceSearch(hidden_size=8)
    for k in range(1, 13):
        last = step_by_step.trained_controller(_observations(archs[:k], rewards[:k])).log_prob_all()
    assert torch.equal(last, first)


def test_memory_buffer_replays_min_n_past_cells_per_update(monkeypatch):
    replayed_sizes = []
    memory_loss = ReinforceSearch._memory_loss

    def counting(controller, cells):
        replayed_sizes.append(len(cells))
        return memory_loss(controller, cells)

    monkeypatch.setattr(ReinforceSearch, "_memory_loss", staticmethod(counting))
    archs = NB201Space().sample_many(10, np.random.default_rng(2))
    rewards = np.linspace(0.0, 1.0, 10)
    rewards[6] = np.nan                                  # a failed trial: no update, but in the buffer
    search = ReinforceSearch(memory_buffer=4, hidden_size=8)
    search.trained_controller(_observations(archs, rewards))
    updates = [i for i in range(10) if i != 6]
    assert replayed_sizes == [min(4, i) for i in updates if i > 0]
    assert len(search.replayed_) == len(updates)
    for i, replay in zip(updates, search.replayed_):
        assert len(replay) == len(set(replay)) == min(4, i) and all(0 <= j < i for j in replay)
    assert 6 in {j for replay in search.replayed_ for j in replay}


def test_memory_buffer_makes_the_controller_reproduce_past_cells():
    # Past cells use only skip_connect or conv1x1 on every edge, their rewards are noise: the
    # buffer's supervised loss concentrates the controller on them, the policy gradient alone does not.
    pattern = [Arch(ops) for ops in itertools.product((1, 2), repeat=6)]
    archs = [pattern[i] for i in np.random.default_rng(3).permutation(len(pattern))[:40]]
    obs = _observations(archs, np.random.default_rng(4).normal(size=40))
    codes = [a.code for a in archs]
    mean_log_p = {}
    for buffer in (0, 8):
        controller = ReinforceSearch(memory_buffer=buffer, hidden_size=16).trained_controller(obs)
        mean_log_p[buffer] = controller.log_prob_all()[codes].mean().item()
    # Measured: -10.2 without the buffer (uniform: -6 ln 5 = -9.66), -5.0 with it (best: -6 ln 2 = -4.16).
    assert mean_log_p[0] < -9.0 and mean_log_p[8] > -6.0


def test_penalty_teaches_the_controller_to_avoid_cells_that_break_a_bound():
    # conv3x3 scores best on every edge, but at most two conv3x3 ops are allowed (checked by
    # evaluation, not pruned): with the penalty the controller learns to stay within the bound.
    score = CallableObjective("score", fn=lambda a: float(sum(1.0 if op == 3 else 0.1 * op for op in a.ops)))
    convs = CallableObjective("convs", fn=lambda a: float(sum(op == 3 for op in a.ops)))
    bound = Constraint(convs, upper=2.0)
    violating = {}
    for penalty in (0.0, 5.0):
        rates = []
        for seed in range(2):
            search = ReinforceSearch(learning_rate=0.05, penalty=penalty, hidden_size=16, seed=seed)
            result = run_search(search, [score], budget=60, constraints=[bound], seed=seed)
            rates.append(1.0 - result.feasible[-20:].mean())
        violating[penalty] = float(np.mean(rates))
    # Measured: 100% of the last 20 proposals break the bound without the penalty, 5% with it
    # (95% with the penalty's sign flipped).
    assert violating[0.0] > 0.5 and violating[5.0] < 0.3


def test_a_cheap_bound_prunes_unless_told_not_to_and_then_the_penalty_sees_it():
    # A cheap metric (known for every cell) prunes the candidates by default: no proposal breaks
    # the bound and the controller never sees a violation. With prune=False the cells stay, each
    # trial is checked when evaluated, and the penalty reward learns from the violations (RENA).
    score = CallableObjective("score", fn=lambda a: float(sum(1.0 if op == 3 else 0.1 * op for op in a.ops)))
    archs = NB201Space().all_archs()
    table = {a.code: float(sum(op == 3 for op in a.ops)) for a in archs}
    costs = BenchmarkTable.from_columns(np.arange(len(archs)), archs, {"convs": np.array(list(table.values()))})
    convs = TableObjective("convs", maximize=False, cheap=True, table=costs)
    pruned = run_search(ReinforceSearch(learning_rate=0.05, penalty=5.0, hidden_size=16, seed=0), [score],
                        budget=30, constraints=[Constraint(convs, upper=2.0)], seed=0)
    assert pruned.feasible.all()
    kept = {}
    for penalty in (0.0, 5.0):
        search = ReinforceSearch(learning_rate=0.05, penalty=penalty, hidden_size=16, seed=0)
        result = run_search(search, [score], budget=60, constraints=[Constraint(convs, upper=2.0, prune=False)],
                            seed=0)
        kept[penalty] = 1.0 - result.feasible[-20:].mean()
        assert all(t.report["convs"] == table[t.arch.code] for t in result.trials)
    assert result.config["constraints"] == ["convs <= 2 (not pruned)"]
    assert pruned.config["constraints"] == ["convs <= 2"]
    assert kept[0.0] > 0.5 and kept[5.0] < 0.3


def test_bad_settings_are_refused():
    with pytest.raises(InvalidInputError, match="memory_buffer must be an integer >= 0, got -1"):
        ReinforceSearch(memory_buffer=-1)
    with pytest.raises(InvalidInputError, match="baseline_decay must be in"):
        ReinforceSearch(baseline_decay=1.0)
    with pytest.raises(InvalidInputError, match="learning_rate must be > 0"):
        ReinforceSearch(learning_rate=0.0)
    with pytest.raises(InvalidInputError, match="penalty must be >= 0"):
        ReinforceSearch(penalty=-1.0)
    assert isinstance(make_searcher("reinforce", memory_buffer=2), ReinforceSearch)


def test_cli_runs_reinforce_with_a_memory_buffer_and_resumes(small_table, tmp_path, capsys):
    csv = small_table.path
    run = str(tmp_path / "run")
    args = ["search", "run", "--run", run, "--method", "reinforce", "--memory-buffer", "4", "--budget", "12",
            "--accuracy-from", f"table:{csv}:valid_acc", "--format", "json"]
    assert main(args) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["study"] == "reinforce" and row["trials"] == 12 and row["failed"] == 0
    assert row["accuracy"] == pytest.approx(small_table.value(row["arch"], "valid_acc"))
    assert main(args[:9] + ["16"] + args[10:]) == 0            # a larger budget resumes the same study
    capsys.readouterr()
    with RunStore(run) as store:
        trials = store.trials("reinforce")
        settings = store.study_settings("reinforce")
    assert len(trials) == 16 and len({t.arch for t in trials}) == 16
    assert settings["method"] == "reinforce" and settings["searcher"]["memory_buffer"] == 4


def test_cli_cheap_bounds_prune_or_evaluate(small_table, tmp_path, capsys):
    # --cheap-bounds auto: reinforce keeps the cells over a looked-up bound (recorded infeasible,
    # penalised), other methods prune them; an explicit choice overrides.
    csv = small_table.path
    lat = small_table.column("valid_acc")
    bound = float(np.median(lat))
    base = ["search", "run", "--budget", "12", "--accuracy-from", f"table:{csv}:valid_acc", "--objectives",
            "accuracy,latency", "--latency-from", f"table:{csv}:valid_acc", "--format", "json"]
    over = {}
    for method, mode in (("reinforce", "auto"), ("reinforce", "prune"), ("random", "auto"), ("random", "evaluate")):
        run = str(tmp_path / f"{method}-{mode}")
        assert main(base + ["--run", run, "--method", method, "--cheap-bounds", mode, "--max-latency-ms", str(bound),
                            "--penalty", "2"]) == 0
        capsys.readouterr()
        with RunStore(run) as store:
            trials = store.trials(method)
            settings = store.study_settings(method)
        over[method, mode] = sum(not t.report["feasible"] for t in trials)
        assert settings["constraints"] == [f"latency_ms <= {bound:g}" + ("" if mode in ("prune",) or
                                           (method, mode) == ("random", "auto") else " (not pruned)")]
    assert over["reinforce", "prune"] == 0 and over["random", "auto"] == 0
    assert over["reinforce", "auto"] > 0 and over["random", "evaluate"] > 0
