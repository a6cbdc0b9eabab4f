import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.data.store import Trial
from gcnas.exceptions import CorruptFileError, DataNotFoundError, GcnasError
from gcnas.search import RandomSearch, SearchResult, TableObjective, run_search
from gcnas.search.history import study_config_name
from gcnas.spaces.nb201 import Arch


def _study(small_table, store):
    acc = TableObjective("valid_acc", table=small_table)
    lat = TableObjective("latency_ms", maximize=False, table=small_table)
    run_search(RandomSearch(candidates=small_table.archs), [acc, lat], budget=6, store=store, study="s", seed=0)


def test_load_keeps_each_objective_direction(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        _study(small_table, store)
        result = SearchResult.load(store, "s")
    assert result.objectives == ["valid_acc", "latency_ms"] and result.maximize == [True, False]


@pytest.mark.parametrize("content, error, fragment", [
    ("{not json", CorruptFileError, "settings of study 's' is not valid JSON"),
    ('["valid_acc", "latency_ms"]', CorruptFileError, "not a JSON object"),
    ('{"objectives": ["valid_acc", "latency_ms"]}', CorruptFileError, "whether each is maximised"),
    ('{"objectives": ["valid_acc", "latency_ms"], "maximize": [true]}', CorruptFileError, "whether each is"),
    (None, DataNotFoundError, "has trials but no recorded settings"),
])
def test_an_unreadable_study_config_is_a_clear_error_never_a_guess(small_table, tmp_path, content, error, fragment):
    # the settings live in the store's studies table (schema 2); edit or delete its row
    with RunStore(tmp_path / "run") as store:
        _study(small_table, store)
        if content is None:
            store.connection.execute("DELETE FROM studies WHERE study='s'")
        else:
            store.connection.execute("UPDATE studies SET settings=? WHERE study='s'", (content,))
        with pytest.raises(error, match=fragment) as info:
            SearchResult.load(store, "s")
    assert isinstance(info.value, GcnasError)


def test_a_rerun_records_missing_settings_in_the_store_not_in_a_file(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        _study(small_table, store)
        assert not (store.run_dir / study_config_name("s")).exists()   # nothing beside the store
        store.connection.execute("DELETE FROM studies WHERE study='s'")
        _study(small_table, store)                      # the same settings: nothing to redo, the settings are back
        assert store.study_settings("s")["maximize"] == [True, False]
        assert SearchResult.load(store, "s").maximize == [True, False]


# (valid_acc, latency_ms, status, feasible) of a hand-made study: an infeasible trial that
# would dominate everything, a failed one, a duplicate, ties on accuracy.
ROWS = [(70.0, 2.0, "ok", True), (72.0, 3.0, "ok", True), (75.0, 1.0, "ok", False), (None, None, "failed", True),
        (71.0, 1.5, "ok", True), (72.0, 3.0, "ok", True), (72.0, 3.5, "ok", True), (69.0, 1.5, "ok", True),
        (73.0, 4.0, "ok", True)]


def _result(objectives=("valid_acc", "latency_ms"), maximize=(True, False)) -> SearchResult:
    trials = []
    for i, (acc, lat, status, feasible) in enumerate(ROWS):
        values = {} if status != "ok" else {"valid_acc": acc, "latency_ms": lat}
        trials.append(Trial(i, Arch.from_code(100 + i), status, values, {"feasible": feasible}))
    return SearchResult("s", list(objectives), list(maximize), trials)


def _usable() -> np.ndarray:
    return np.array([status == "ok" and feasible for _, _, status, feasible in ROWS])


def _brute_front(Y: np.ndarray, usable: np.ndarray) -> list[int]:
    """Usable rows no usable row dominates (``Y`` larger is better), by pairwise comparison."""
    rows = np.flatnonzero(usable)
    return [i for i in rows if not any((Y[j] >= Y[i]).all() and (Y[j] > Y[i]).any() for j in rows)]


def test_pareto_front_minimises_what_is_minimised():
    Y = np.array([[np.nan if a is None else a, np.nan if l is None else -l] for a, l, _, _ in ROWS])
    expected = _brute_front(Y, _usable())
    assert expected == [1, 4, 5, 8]                    # (72, 3.0) twice, (71, 1.5), (73, 4.0)
    assert [t.trial for t in _result().pareto_front()] == expected
    # latency listed first changes nothing; maximising both keeps only the most accurate and slowest
    assert [t.trial for t in _result(("latency_ms", "valid_acc"), (False, True)).pareto_front()] == expected
    assert [t.trial for t in _result(maximize=(True, True)).pareto_front()] == [8]


def _running_best(values: list, usable: np.ndarray, sign: float) -> tuple[list[int], list[float]]:
    """Index and value of the first usable trial holding the best value so far."""
    index, best = [], []
    for t in range(len(values)):
        seen = [i for i in range(t + 1) if usable[i]]
        top = max(seen, key=lambda i: (sign * values[i], -i)) if seen else -1
        index.append(top)
        best.append(values[top] if top >= 0 else np.nan)
    return index, best


@pytest.mark.parametrize("primary, maximize", [("valid_acc", True), ("latency_ms", False)])
def test_incumbent_is_the_first_usable_trial_with_the_running_best(primary, maximize):
    column = 0 if primary == "valid_acc" else 1
    values = [row[column] for row in ROWS]
    other = "latency_ms" if primary == "valid_acc" else "valid_acc"
    result = _result((primary, other), (maximize, not maximize))
    index, best = _running_best(values, _usable(), 1.0 if maximize else -1.0)
    assert index == ([0, 1, 1, 1, 1, 1, 1, 1, 8] if maximize else [0, 0, 0, 0, 4, 4, 4, 4, 4])
    assert result.incumbent_index().tolist() == index
    assert result.best_so_far().tolist() == best
    assert result.best_so_far(other).tolist() == [ROWS[i][1 - column] for i in index]


def _dominated_area(points: np.ndarray, ref: np.ndarray) -> float:
    """Area dominated by 2-D ``points`` (larger is better) above ``ref``: a grid over their coordinates."""
    points = points[(points > ref).all(axis=1)]
    if len(points) == 0:
        return 0.0
    xs, ys = np.unique(np.r_[ref[0], points[:, 0]]), np.unique(np.r_[ref[1], points[:, 1]])
    area = 0.0
    for x0, x1 in zip(xs[:-1], xs[1:]):
        for y0, y1 in zip(ys[:-1], ys[1:]):
            if ((points[:, 0] >= x1) & (points[:, 1] >= y1)).any():
                area += (x1 - x0) * (y1 - y0)
    return area


def test_hypervolume_curve_takes_the_reference_point_in_the_objectives_units():
    ref = np.array([68.0, 5.0])                        # 68 % accuracy, 5 ms
    signed = np.array([[np.nan if a is None else a, np.nan if l is None else -l] for a, l, _, _ in ROWS])
    usable = _usable()
    expected = [_dominated_area(signed[:t + 1][usable[:t + 1]], ref * [1, -1]) for t in range(len(ROWS))]
    assert expected[0] == pytest.approx(2.0 * 3.0) and expected[-1] > expected[0]
    assert _result().hypervolume_curve(ref).tolist() == pytest.approx(expected)
    rows = _result().steps(ref_point=ref)
    assert [r["hypervolume"] for r in rows] == pytest.approx(expected)
    assert [r["best_valid_acc"] for r in rows] == [70.0, 72.0, 72.0, 72.0, 72.0, 72.0, 72.0, 72.0, 73.0]
