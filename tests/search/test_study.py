"""Ask/tell (Study) and studies that refuse to resume under other settings."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from gcnas.data import BenchmarkTable, RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.search import (BayesianOptimization, Constraint, RandomSearch, RegularizedEvolution, Study,
                          TableObjective, ToldObjective, run_search)


def _value(table: BenchmarkTable, arch) -> float:
    return float(dict(zip((a.code for a in table.archs), table.column("valid_acc")))[arch.code])


def test_ask_tell_random_search_matches_run_search(small_table, tmp_path):
    """Driving the loop by hand proposes what run_search proposes with the same seed."""
    acc = TableObjective("valid_acc", table=small_table)
    expected = run_search(RandomSearch(candidates=small_table.archs), [acc], budget=12, seed=4)
    study = Study(RandomSearch(candidates=small_table.archs), ["valid_acc"], seed=4)
    for _ in range(12):
        (arch,) = study.ask()
        study.tell(arch, _value(small_table, arch))
    got = study.result()
    assert [t.arch.code for t in got.trials] == [t.arch.code for t in expected.trials]
    assert [t.objectives for t in got.trials] == [t.objectives for t in expected.trials]


def test_pending_cells_are_never_asked_twice_and_tell_order_is_free(small_table):
    study = Study(RegularizedEvolution(population_size=6, sample_size=3, candidates=small_table.archs),
                  ["valid_acc"], seed=1)
    first = study.ask(4)
    second = study.ask(4)
    assert len({a.code for a in first + second}) == 8
    assert {a.code for a in study.pending} == {a.code for a in first + second}
    for arch in reversed(first + second):  # results arrive in any order
        study.tell(arch, {"valid_acc": _value(small_table, arch)})
    assert not study.pending
    assert [t.trial for t in study.result().trials] == list(range(8))


def test_bo_through_ask_tell_improves_on_its_initial_design(small_table):
    study = Study(BayesianOptimization(features="onehot", n_init=8, candidates=small_table.archs),
                  [ToldObjective("valid_acc")], seed=0)
    for _ in range(30):
        (arch,) = study.ask()
        study.tell(arch, _value(small_table, arch))
    values = [t.objectives["valid_acc"] for t in study.result().trials]
    best_of_table = max(small_table.column("valid_acc"))
    assert max(values[8:]) > max(values[:8])
    assert best_of_table - max(values) < best_of_table - np.median(small_table.column("valid_acc"))


def test_failures_constraints_and_looked_up_objectives(small_table):
    lookup = TableObjective("lookup", table=small_table, column="valid_acc")
    study = Study(RandomSearch(candidates=small_table.archs), ["score", lookup],
                  constraints=[Constraint(ToldObjective("memory_gb"), upper=4.0)], seed=0)
    a, b, c = study.ask(3)
    ok = study.tell(a, {"score": 1.0, "memory_gb": 2.0})
    assert ok.status == "ok" and ok.objectives["lookup"] == pytest.approx(_value(small_table, a))
    assert ok.report["feasible"] is True
    heavy = study.tell(b, {"score": 2.0, "memory_gb": 9.0})
    assert heavy.status == "ok" and heavy.report["feasible"] is False
    failed = study.tell(c, error="CUDA out of memory")
    assert failed.status == "failed" and "CUDA out of memory" in failed.error
    with pytest.raises(InvalidInputError, match="missing \\['memory_gb'\\]"):
        study.tell(a, {"score": 1.0})
    with pytest.raises(InvalidInputError, match="pass a dict"):
        study.tell(a, 1.0)


def test_ask_tell_study_resumes_from_the_store(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        study = Study(RandomSearch(candidates=small_table.archs), ["valid_acc"], store=store, study="mine", seed=2)
        for arch in study.ask(3):
            study.tell(arch, _value(small_table, arch))
    with RunStore(tmp_path / "run") as store:
        again = Study(RandomSearch(candidates=small_table.archs), ["valid_acc"], store=store, study="mine", seed=2)
        assert len(again.trials) == 3
        told = {t.arch.code for t in again.trials}
        assert not told & {a.code for a in again.ask(5)}
        with pytest.raises(InvalidInputError, match="seed: 2 -> 3"):
            Study(RandomSearch(candidates=small_table.archs), ["valid_acc"], store=store, study="mine", seed=3)


def test_resume_refuses_a_changed_table_file(small_table, tmp_path):
    """Same path, same column, other contents: the recorded checksum differs."""
    path = tmp_path / "table.csv"
    shutil.copy(small_table.path, path)
    with RunStore(tmp_path / "run") as store:
        acc = TableObjective("valid_acc", table=BenchmarkTable(path))
        run_search(RandomSearch(candidates=small_table.archs), [acc], budget=3, store=store, seed=0)
        lines = path.read_text().splitlines()
        lines[1] = lines[1].rsplit(",", 1)[0] + ",0.0"
        path.write_text("\n".join(lines) + "\n")
        changed = TableObjective("valid_acc", table=BenchmarkTable(path))
        with pytest.raises(InvalidInputError, match=r"objective_sources\[0\]\.table\.sha256.*--study NAME"):
            run_search(RandomSearch(candidates=small_table.archs), [changed], budget=5, store=store, seed=0)
        assert len(store.trials("search")) == 3  # nothing lost


def test_resume_refuses_other_searcher_settings_and_other_column(small_table, tmp_path):
    acc = TableObjective("valid_acc", table=small_table)
    with RunStore(tmp_path / "run") as store:
        run_search(RegularizedEvolution(population_size=6, candidates=small_table.archs), [acc], budget=3,
                   store=store, seed=0)
        with pytest.raises(InvalidInputError, match="searcher.population_size: 6 -> 8"):
            run_search(RegularizedEvolution(population_size=8, candidates=small_table.archs), [acc], budget=5,
                       store=store, seed=0)
        other = TableObjective("valid_acc", table=small_table, column="test_acc")
        with pytest.raises(InvalidInputError, match="column: 'valid_acc' -> 'test_acc'"):
            run_search(RegularizedEvolution(population_size=6, candidates=small_table.archs), [other], budget=5,
                       store=store, seed=0)
        resumed = run_search(RegularizedEvolution(population_size=6, candidates=small_table.archs), [acc],
                             budget=5, store=store, seed=0)
        assert len(resumed.trials) == 5


def test_cli_search_resumed_with_another_table_is_refused(small_table, tmp_path, capsys):
    from gcnas.cli import main

    other = tmp_path / "other.csv"  # the same table less its last row: another file, same column
    lines = small_table.path.read_text().splitlines()
    other.write_text("\n".join(lines[:-1]) + "\n")
    run = str(tmp_path / "r")
    base = ["search", "run", "--run", run, "--method", "random", "--budget", "4"]
    assert main(base + ["--accuracy-from", f"table:{small_table.path}:valid_acc"]) == 0
    capsys.readouterr()
    assert main(base + ["--accuracy-from", f"table:{other}:valid_acc"]) != 0
    err = capsys.readouterr().err
    assert "objective_sources[0].table" in err and "--study NAME" in err
    assert main(base + ["--accuracy-from", f"table:{other}:valid_acc", "--study", "fresh"]) == 0
