import math

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.exceptions import InfeasibleError, InvalidInputError
from gcnas.search import (CallableObjective, Constraint, RandomSearch, SearchResult, TableObjective, hypervolume,
                          make_searcher, run_search, searcher_names)


class Kill(Exception):
    pass


def _objectives(table):
    return TableObjective("valid_acc", table=table), TableObjective("test_acc", table=table)


def test_registry_lists_methods_and_rejects_unknown():
    assert searcher_names() == ["bo", "evolution", "latent-bo", "random", "reinforce"]
    with pytest.raises(InvalidInputError, match="unknown search method 'grid'; choose one of bo, evolution"):
        make_searcher("grid")


@pytest.mark.parametrize("method", ["random", "evolution"])
def test_baselines_run_store_every_trial_and_never_repeat(small_table, tmp_path, method):
    acc, test = _objectives(small_table)
    kwargs = {"population_size": 5, "sample_size": 2} if method == "evolution" else {}
    searcher = make_searcher(method, candidates=small_table.archs, **kwargs)
    with RunStore(tmp_path / "run") as store:
        result = run_search(searcher, [acc], budget=25, store=store, study=method, report=[test], seed=3)
        stored = store.trials(method)
    assert len(result) == len(stored) == 25
    assert [t.arch for t in stored] == [t.arch for t in result.trials]
    assert len({t.arch.code for t in stored}) == 25
    assert all(t.arch in small_table for t in stored)
    # the incumbent is the running best of what the table says each trial scored, and the
    # reported curve is the test accuracy of that incumbent (not the running best test accuracy)
    scored = [small_table.value(t.arch, "valid_acc") for t in stored]
    incumbent = [int(np.argmax(scored[:t + 1])) for t in range(len(scored))]
    assert result.incumbent_index().tolist() == incumbent
    assert result.best_so_far().tolist() == pytest.approx(np.maximum.accumulate(scored).tolist())
    assert result.best_so_far("test_acc").tolist() == pytest.approx(
        [small_table.value(stored[i].arch, "test_acc") for i in incumbent])


@pytest.mark.parametrize("method", ["random", "evolution"])
def test_kill_and_resume_repeats_nothing_and_matches_uninterrupted(small_table, tmp_path, method):
    acc, _ = _objectives(small_table)
    kwargs = {"population_size": 5, "sample_size": 2} if method == "evolution" else {}
    make = lambda: make_searcher(method, candidates=small_table.archs, **kwargs)  # noqa: E731
    evaluated = []

    def counting(arch):
        evaluated.append(arch.code)
        return small_table.value(arch, "valid_acc")

    obj = CallableObjective("valid_acc", fn=counting)

    def killer(trial):
        if trial.trial == 11:
            raise Kill

    with RunStore(tmp_path / "run") as store:
        with pytest.raises(Kill):
            run_search(make(), [obj], budget=20, store=store, seed=5, callback=killer)
        assert len(store.trials("search")) == 12
    with RunStore(tmp_path / "run") as store:
        resumed = run_search(make(), [obj], budget=20, store=store, seed=5)
    assert len(evaluated) == 20 == len(set(evaluated))
    straight = run_search(make(), [acc], budget=20, seed=5)
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]


def test_failures_are_recorded_and_skipped(small_table, tmp_path):
    archs = small_table.archs

    def flaky(arch):
        if arch.code % 3 == 0:
            raise RuntimeError("out of memory")
        if arch.code % 3 == 1:
            return float("nan")
        return small_table.value(arch, "valid_acc")

    obj = CallableObjective("valid_acc", fn=flaky)
    with RunStore(tmp_path / "run") as store:
        result = run_search(RandomSearch(candidates=archs), [obj], budget=30, store=store, seed=0)
        stored = store.trials("search")
    failed = [t for t in stored if t.status == "failed"]
    assert failed and all(t.arch.code % 3 != 2 for t in failed)
    assert any("RuntimeError: out of memory" in t.error for t in failed)
    assert any("returned nan" in t.error for t in failed)
    assert result.ok.sum() == 30 - len(failed)
    assert math.isfinite(result.best_so_far()[-1])


def test_bad_input_messages(small_table, tmp_path):
    acc, test = _objectives(small_table)
    from gcnas.search import BayesianOptimization

    with pytest.raises(InvalidInputError, match="smaller than the initial random design"):
        run_search(BayesianOptimization(n_init=10, candidates=small_table.archs), [acc], budget=5)
    with pytest.raises(InvalidInputError, match="budget must be a positive integer"):
        run_search(RandomSearch(), [acc], budget=0)
    with pytest.raises(InvalidInputError, match="at least one Objective"):
        run_search(RandomSearch(), [], budget=3)
    with pytest.raises(InvalidInputError, match="distinct"):
        run_search(RandomSearch(), [acc], budget=3, report=[acc])
    lat = TableObjective("latency_ms", maximize=False, table=small_table)
    with RunStore(tmp_path / "run") as store:
        with pytest.raises(InfeasibleError, match=r"no architecture meets latency_ms <= 0.1 \(values range"):
            run_search(RandomSearch(candidates=small_table.archs), [acc], budget=3, store=store,
                       constraints=[Constraint(lat, upper=0.1)])
        assert store.trials("search") == []
        run_search(RandomSearch(candidates=small_table.archs), [acc], budget=3, store=store, seed=0)
        with pytest.raises(InvalidInputError, match=r"other settings \(seed: 0 -> 1\)"):
            run_search(RandomSearch(candidates=small_table.archs), [acc], budget=5, store=store, seed=1)
        assert len(store.trials("search")) == 3


def test_constraints_prune_candidates_and_result_loads(small_table, tmp_path):
    acc, _ = _objectives(small_table)
    lat = TableObjective("latency_ms", maximize=False, cheap=True, table=small_table)  # cheap: it may prune
    limit = float(np.median(small_table.column("latency_ms")))
    with RunStore(tmp_path / "run") as store:
        run_search(RandomSearch(candidates=small_table.archs), [acc], budget=15, store=store, study="c",
                   constraints=[Constraint(lat, upper=limit)], seed=0)
        loaded = SearchResult.load(store, "c")
        with pytest.raises(InvalidInputError, match="no search study 'zzz'"):
            SearchResult.load(store, "zzz")
    assert all(small_table.value(t.arch, "latency_ms") <= limit for t in loaded.trials)
    assert loaded.feasible.all() and loaded.config["constraints"] == [f"latency_ms <= {limit:g}"]
    rows = loaded.steps(ref_point=None)
    assert len(rows) == 15 and rows[-1]["best_valid_acc"] == pytest.approx(loaded.best_so_far()[-1])


def test_multi_objective_history_pareto_and_hypervolume(small_table):
    acc, _ = _objectives(small_table)
    lat = TableObjective("latency_ms", maximize=False, table=small_table)
    result = run_search(RandomSearch(candidates=small_table.archs), [acc, lat], budget=30, seed=1)
    front = result.pareto_front()
    Y = np.array([[t.objectives["valid_acc"], t.objectives["latency_ms"]] for t in result.trials])
    for t in front:
        v, l = t.objectives["valid_acc"], t.objectives["latency_ms"]
        assert not ((Y[:, 0] >= v) & (Y[:, 1] <= l) & ((Y[:, 0] > v) | (Y[:, 1] < l))).any()
    front_codes = {t.arch.code for t in front}
    brute = {t.arch.code for t, (v, l) in zip(result.trials, Y)
             if not ((Y[:, 0] >= v) & (Y[:, 1] <= l) & ((Y[:, 0] > v) | (Y[:, 1] < l))).any()}
    assert front_codes == brute
    ref = [Y[:, 0].min() - 1, Y[:, 1].max() + 1]
    curve = result.hypervolume_curve(ref)
    signed, signed_ref = Y * [1, -1], np.array(ref) * [1, -1]        # latency is minimised
    assert curve.tolist() == pytest.approx([hypervolume(signed[:t + 1], signed_ref) for t in range(len(Y))])
    rows = result.steps(ref_point=ref)
    assert [r["hypervolume"] for r in rows] == pytest.approx(curve.tolist())


def test_public_names_exist():
    import gcnas.search

    missing = [name for name in gcnas.search.__all__ if not hasattr(gcnas.search, name)]
    assert missing == []


def test_cheap_objectives_reach_the_searcher_as_known_values(small_table):
    seen = {}

    class Spy(RandomSearch):
        def prepare(self, candidates, known=None):
            super().prepare(candidates, known)
            seen["known"] = known

    acc = TableObjective("valid_acc", table=small_table)
    lat = TableObjective("latency_ms", maximize=False, cheap=True, table=small_table)
    run_search(Spy(candidates=small_table.archs), [acc, lat], budget=3, seed=0)
    known = seen["known"]
    assert known.shape == (300, 2) and np.isnan(known[:, 0]).all()       # accuracy is never handed over
    assert np.allclose(known[:, 1], -small_table.column("latency_ms"))   # costs signed: larger is better
    run_search(Spy(candidates=small_table.archs), [acc, TableObjective("test_acc", table=small_table)],
               budget=3, seed=0)
    assert seen["known"] is None


def test_expensive_constraints_never_reach_the_searcher(small_table):
    """A bound on accuracy (even looked up in a table) must not prune: that would be an oracle."""
    seen = {}

    class Spy(RandomSearch):
        def prepare(self, candidates, known=None):
            super().prepare(candidates, known)
            seen["candidates"], seen["known"] = list(candidates), known

    acc = TableObjective("valid_acc", table=small_table)
    bound = float(np.sort(small_table.column("valid_acc"))[-8])     # 8 of 300 candidates meet it
    strict = Constraint(TableObjective("valid_acc", table=small_table), lower=bound)
    result = run_search(Spy(candidates=small_table.archs), [acc], budget=10, constraints=[strict], seed=0)
    assert len(seen["candidates"]) == 300 and seen["known"] is None   # the whole pool, no values
    picked = np.array([small_table.value(t.arch, "valid_acc") for t in result.trials])
    assert not (picked >= bound).all()                                 # random picks, not the top 8
    assert [t.report["feasible"] for t in result.trials] == (picked >= bound).tolist()
    assert result.feasible.tolist() == (picked >= bound).tolist()
    # an expensive metric that is not an objective is evaluated per trial and recorded beside it
    test_bound = float(np.median(small_table.column("test_acc")))
    other = Constraint(TableObjective("test_acc", table=small_table), lower=test_bound)
    result = run_search(Spy(candidates=small_table.archs), [acc], budget=10, constraints=[other], seed=1)
    assert len(seen["candidates"]) == 300
    for trial in result.trials:
        assert trial.report["test_acc"] == pytest.approx(small_table.value(trial.arch, "test_acc"))
        assert trial.report["feasible"] == (trial.report["test_acc"] >= test_bound)
    # the same bound on a cheap metric prunes (cheap values are the searcher's to see)
    cheap = Constraint(TableObjective("valid_acc", cheap=True, table=small_table), lower=bound)
    run_search(Spy(candidates=small_table.archs), [acc], budget=3, constraints=[cheap], seed=0)
    assert len(seen["candidates"]) == 8


def test_a_bound_no_candidate_meets_is_refused_before_the_search_cheap_or_not(small_table):
    acc, _ = _objectives(small_table)
    top = float(small_table.column("valid_acc").max())
    for cheap in (False, True):
        impossible = Constraint(TableObjective("valid_acc", cheap=cheap, table=small_table), lower=top + 1)
        with pytest.raises(InfeasibleError, match="no architecture meets valid_acc >="):
            run_search(RandomSearch(candidates=small_table.archs), [acc], budget=3, constraints=[impossible])
