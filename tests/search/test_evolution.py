"""Regularised evolution: who the parent is, what a child is, and that it climbs."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.search import CallableObjective, Observations, RandomSearch, RegularizedEvolution, run_search
from gcnas.spaces.nb201 import Arch, NB201Space

# Cells at least four op changes apart: a one-op child has exactly one of them as parent.
UNIFORM = [Arch((op,) * 6) for op in range(5)]
MIXED = Arch((0, 1, 2, 3, 4, 0))


def _observations(archs, Y, slack=None) -> Observations:
    Y = np.asarray(Y, dtype=np.float64).reshape(len(archs), -1)
    slack = np.zeros((len(archs), 0)) if slack is None else np.asarray(slack, dtype=np.float64).reshape(len(archs), -1)
    return Observations(list(archs), Y, slack)


def _parents(children, members) -> list[Arch]:
    """The member each child is one op change away from (every child has exactly one)."""
    parents = []
    for child in children:
        near = [m for m in members if sum(a != b for a, b in zip(child.ops, m.ops)) == 1]
        assert len(near) == 1, f"{child} is not a one-op mutation of exactly one member"
        parents.append(near[0])
    return parents


def _evolution(population_size: int, sample_size: int, candidates=None) -> RegularizedEvolution:
    evo = RegularizedEvolution(population_size=population_size, sample_size=sample_size)
    evo.prepare(candidates if candidates is not None else NB201Space().all_archs())
    return evo


def test_children_mutate_the_best_living_member():
    # The oldest trial is the best but has died (population 5 of 6 trials); with the
    # tournament as large as the population, every parent is the best of the living.
    archs = [MIXED, *UNIFORM]
    obs = _observations(archs, [99.0, 1.0, 5.0, 2.0, 4.0, 3.0])
    children = _evolution(5, 5).ask(obs, 8, np.random.default_rng(0))
    assert len(children) == len({c.code for c in children}) == 8
    assert not {c.code for c in children} & obs.codes
    assert _parents(children, archs) == [UNIFORM[1]] * 8


def test_failed_trials_are_not_members():
    # the newest trial failed: the population is the 5 successful ones, the oldest the best
    archs = [*UNIFORM, MIXED]
    obs = _observations(archs, [9.0, 1.0, 2.0, 3.0, 4.0, np.nan])
    children = _evolution(5, 5).ask(obs, 6, np.random.default_rng(1))
    assert _parents(children, archs) == [UNIFORM[0]] * 6


def test_infeasible_members_lose_to_feasible_ones():
    obs = _observations(UNIFORM, [1.0, 9.0, 2.0, 8.0, 3.0], slack=[[-1.0], [0.5], [-0.1], [2.0], [0.0]])
    children = _evolution(5, 5).ask(obs, 6, np.random.default_rng(2))
    assert _parents(children, UNIFORM) == [UNIFORM[4]] * 6   # 3.0: best of the feasible (slack <= 0)


def test_several_objectives_pick_parents_on_the_sample_front():
    # two non-dominated members (0 and 3) and three dominated ones
    obs = _observations(UNIFORM, [[5.0, 1.0], [4.0, 0.5], [1.0, 1.0], [1.0, 5.0], [0.5, 4.0]])
    children = _evolution(5, 5).ask(obs, 16, np.random.default_rng(3))
    assert set(_parents(children, UNIFORM)) == {UNIFORM[0], UNIFORM[3]}


def test_tournament_winner_is_the_best_of_its_sample():
    # tournaments of 2 out of 5: the worst member can never win one
    obs = _observations(UNIFORM, [5.0, 4.0, 3.0, 2.0, 1.0])
    children = _evolution(5, 2).ask(obs, 20, np.random.default_rng(4))
    parents = _parents(children, UNIFORM)
    assert UNIFORM[4] not in parents and len(set(parents)) >= 3


def test_random_until_the_population_is_full():
    space = NB201Space()
    obs = _observations(UNIFORM[:3], [1.0, 2.0, 3.0])            # 3 successful trials, population 5
    candidates = space.all_archs()
    random = RandomSearch()
    random.prepare(candidates)
    expected = random.ask(obs, 4, np.random.default_rng(5))
    assert _evolution(5, 2, candidates).ask(obs, 4, np.random.default_rng(5)) == expected


def test_children_stay_in_the_candidates_or_fall_back_to_unevaluated_ones():
    far = [Arch((1, 2, 3, 4, 0, 1)), Arch((2, 3, 4, 0, 1, 2)), Arch((3, 4, 0, 1, 2, 3))]
    evo = _evolution(5, 5, [*UNIFORM, *far])       # no candidate is one op away from a member
    obs = _observations(UNIFORM, [1.0, 2.0, 3.0, 4.0, 5.0])
    children = evo.ask(obs, 5, np.random.default_rng(6))
    assert sorted(c.code for c in children) == sorted(a.code for a in far)


def test_bad_sizes_are_refused():
    with pytest.raises(InvalidInputError, match="population_size=1, sample_size=1"):
        RegularizedEvolution(population_size=1, sample_size=1)
    with pytest.raises(InvalidInputError, match="population_size=5, sample_size=6"):
        RegularizedEvolution(population_size=5, sample_size=6)
    with pytest.raises(InvalidInputError, match="sample_size=0"):
        RegularizedEvolution(population_size=5, sample_size=0)


# An additive score over the whole space (one weight per edge and op): one-op steps climb it.
WEIGHTS = np.random.default_rng(42).normal(size=(6, 5))


def _score(arch: Arch) -> float:
    return float(WEIGHTS[np.arange(6), arch.ops].sum())


def test_evolution_beats_random_search_by_a_wide_margin():
    optimum = WEIGHTS.max(axis=1).sum()
    objective = CallableObjective("score", fn=_score)
    regret = {"evolution": [], "random": []}
    for seed in range(10):
        evo = RegularizedEvolution(population_size=20, sample_size=5)
        regret["evolution"].append(optimum - run_search(evo, [objective], budget=100, seed=seed).best_so_far()[-1])
        regret["random"].append(optimum - run_search(RandomSearch(), [objective], budget=100,
                                                     seed=seed).best_so_far()[-1])
    # Measured: mean regret 0.21 (evolution) vs 0.86 (random). Children that are random
    # cells give 0.88, a tournament won by the worst member 2.05.
    assert np.mean(regret["evolution"]) < 0.5 * np.mean(regret["random"])
