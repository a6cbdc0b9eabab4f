import json

import pytest

from gcnas.data import RunStore
from gcnas.exceptions import CorruptFileError, DataNotFoundError, GcnasError
from gcnas.search import RandomSearch, SearchResult, TableObjective, run_search
from gcnas.search.history import study_config_name


def _study(small_table, store):
    acc = TableObjective("valid_acc", table=small_table)
    lat = TableObjective("latency_ms", maximize=False, table=small_table)
    run_search(RandomSearch(candidates=small_table.archs), [acc, lat], budget=6, store=store, study="s", seed=0)
    return store.run_dir / study_config_name("s")


def test_load_keeps_each_objective_direction(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        _study(small_table, store)
        result = SearchResult.load(store, "s")
    assert result.objectives == ["valid_acc", "latency_ms"] and result.maximize == [True, False]


@pytest.mark.parametrize("content, error, fragment", [
    ("{not json", CorruptFileError, "is not valid JSON"),
    ('["valid_acc", "latency_ms"]', CorruptFileError, "whether each is maximised"),
    ('{"objectives": ["valid_acc", "latency_ms"]}', CorruptFileError, "whether each is maximised"),
    ('{"objectives": ["valid_acc", "latency_ms"], "maximize": [true]}', CorruptFileError, "whether each is"),
    (None, DataNotFoundError, "has trials but no settings file search_s.json"),
])
def test_an_unreadable_study_config_is_a_clear_error_never_a_guess(small_table, tmp_path, content, error, fragment):
    with RunStore(tmp_path / "run") as store:
        path = _study(small_table, store)
        if content is None:
            path.unlink()
        else:
            path.write_text(content)
        with pytest.raises(error, match=fragment) as info:
            SearchResult.load(store, "s")
    assert isinstance(info.value, GcnasError)


def test_a_rerun_rewrites_a_missing_config(small_table, tmp_path):
    with RunStore(tmp_path / "run") as store:
        path = _study(small_table, store)
        path.unlink()
        _study(small_table, store)                      # the same settings: nothing to redo, the file is back
        assert json.loads(path.read_text())["maximize"] == [True, False]
        assert SearchResult.load(store, "s").maximize == [True, False]
