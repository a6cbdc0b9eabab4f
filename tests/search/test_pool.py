"""CandidatePool: fresh samples plus mutations of the best cells, none taken, none twice."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.search import CandidatePool, Observations
from gcnas.search.pool import ranked_parents
from gcnas.spaces import get_space


def _observations(archs, values, slack=None):
    Y = np.asarray(values, dtype=float).reshape(len(archs), -1 if len(archs) else 1)
    slack = np.zeros((len(archs), 0)) if slack is None else np.asarray(slack, dtype=float).reshape(len(archs), -1)
    return Observations(list(archs), Y, slack)


def test_before_any_observation_the_pool_is_fresh_samples_only():
    space = get_space("darts")
    cells = CandidatePool(n_random=12, n_mutations=30).propose(space, _observations([], []), np.random.default_rng(0),
                                                              taken=set())
    assert len(cells) == 12 and len({space.key(c) for c in cells}) == 12


def test_mutations_come_from_the_best_cells_and_skip_taken_ones():
    space = get_space("darts")
    rng = np.random.default_rng(1)
    archs = [space.sample(rng) for _ in range(6)]
    obs = _observations(archs, [5.0, 1.0, 4.0, 0.0, 3.0, 2.0])
    taken = {space.key(a) for a in archs}
    cells = CandidatePool(n_random=0, n_mutations=40, parents=2).propose(space, obs, rng, taken=taken)
    keys = [space.key(c) for c in cells]
    assert len(cells) == 40 and len(set(keys)) == 40 and not set(keys) & taken
    parents = {space.key(archs[0]), space.key(archs[2])}                       # the two best
    one_step = {space.key(n) for p in (archs[0], archs[2]) for n in space.neighbours(p)}
    assert set(keys) <= one_step and not parents & set(keys)


def test_parents_rank_feasible_then_front_then_first_objective():
    space = get_space("darts")
    archs = [space.sample(i) for i in range(5)]
    Y = [[1.0, 0.0], [0.5, 2.0], [0.2, 0.1], [np.nan, np.nan], [3.0, 3.0]]
    slack = [[-1.0], [-1.0], [-1.0], [np.nan], [1.0]]                         # row 4 best but infeasible
    assert ranked_parents(_observations(archs, Y, slack)).tolist() == [0, 1, 2, 4]


@pytest.mark.parametrize("kwargs, message", [({"n_random": -1}, "n_random"), ({"parents": 0}, "parents"),
                                             ({"n_random": 0, "n_mutations": 0}, "propose nothing")])
def test_bad_pools_are_refused(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        CandidatePool(**kwargs)
