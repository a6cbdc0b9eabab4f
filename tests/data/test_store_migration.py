"""A run store of schema 2 (rows keyed by NAS-Bench-201's integer code) opens, migrates and keeps every value.

The fixture ``tests/data/fixtures/store_v2/gcnas.sqlite`` (17 KB) was written by gcnas at commit
9c0f430, the last release of schema 2, with the script beside it::

    PYTHONPATH=$PWD python tests/data/fixtures/write_store_v2.py tests/data/fixtures/store_v2

seven NAS-Bench-201 cells (six drawn with seed 3, then a seventh of the first one's class):
supernet samples, CPU latency costs, a feature, arch2vec embeddings, two trials with the
study's settings, a stage and a lookup table with a covering index. The values below are
the ones that script wrote.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from gcnas.data import RunStore, Sample
from gcnas.data.store import SCHEMA_VERSION, StoreNotice
from gcnas.exceptions import CorruptFileError, InvalidInputError
from gcnas.spaces import get_space

FIXTURE = Path(__file__).parent / "fixtures" / "store_v2"
NB201 = get_space("nb201")
CELLS = [
    "|none~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|",
    "|none~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|avg_pool_3x3~2|",
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|none~2|",
    "|none~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|none~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|",
]


@pytest.fixture
def old_run(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    return run


def _rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of a SQLite file."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()


def _check_values(store: RunStore) -> None:
    archs = [NB201.parse(text) for text in CELLS]
    samples = store.samples("supernet")
    assert [s.arch for s in samples] == archs                         # insertion order kept
    assert [s.accuracy for s in samples] == [50.0 + i for i in range(7)] and samples[2].extra == {"i": 2}
    assert samples[3].loss == pytest.approx(0.8)
    assert store.costs("latency_ms", "cpu") == {archs[0]: (1.0, 0.1), archs[1]: (2.0, 0.2), archs[2]: (3.0, 0.3),
                                                archs[3]: (4.0, 0.4)}
    synflow = store.features("synflow", "s")
    assert synflow[archs[0]] == 1.5 and np.isnan(synflow[archs[1]]) and synflow[archs[2]] == 3.5
    got, vectors = store.embeddings("arch2vec")
    order = sorted(range(5), key=lambda i: archs[i].code)                  # schema 2 gave them in code order
    assert got == [archs[i] for i in order]
    np.testing.assert_array_equal(vectors, np.arange(10, dtype=np.float32).reshape(5, 2)[order])
    trials = store.trials("bo")
    assert [(t.arch, t.status, t.objectives) for t in trials] == [(archs[1], "ok", {"accuracy": 91.0}),
                                                                  (archs[2], "failed", {})]
    assert store.study_settings("bo") == {"budget": 2, "method": "bo"}
    assert store.stage("supernet:train") == {"epochs": 1, "seconds": 2.0}
    assert store.lut_columns() == ["accuracy", "latency_ms"] and store.lut_meta() == {"latency": "test"}
    np.testing.assert_allclose(store.lut_values(archs, "accuracy"), np.linspace(60, 70, 7))
    best = store.ranked_lut("accuracy", maxima={"latency_ms": 6.5}, limit=2)
    assert [r["arch"] for r in best] == [CELLS[5], CELLS[4]]
    # a class, as before: cells 0 and 6 share one, 6 is its representative (the smallest code)
    assert best[0]["key"] == NB201.key(archs[5])
    distinct = store.select_lut(order_by="accuracy", distinct_canonical=True)
    assert CELLS[6] in [r["arch"] for r in distinct] and CELLS[0] not in [r["arch"] for r in distinct]


def test_the_schema_2_fixture_migrates_on_open_and_gives_back_every_value(old_run):
    with pytest.warns(StoreNotice, match="migrated from schema 2 to 3.*kept at"):
        store = RunStore(old_run)
    with store:
        assert store.schema_version == SCHEMA_VERSION == 3 and store.space_name == "nb201"
        _check_values(store)
        indexes = {r[1] for r in store.connection.execute("PRAGMA index_list(lut)")}
        assert {"lut_accuracy", "lut_latency_ms", "lut_cover_accuracy"} <= indexes
    assert _rows(old_run / "gcnas.sqlite.v2.bak") == _rows(FIXTURE / "gcnas.sqlite")   # the store as it was, kept
    with RunStore(old_run) as again:                                          # opened again: nothing to migrate
        _check_values(again)
        again.add_samples("supernet", [Sample(NB201.parse(CELLS[3]), 99.0)])  # and it keeps being written
        assert again.samples("supernet")[-1].accuracy == 99.0


def test_read_only_the_old_store_is_read_through_a_migrated_copy_and_left_as_it_was(old_run):
    before = (old_run / "gcnas.sqlite").read_bytes()
    with RunStore(old_run, mode="ro") as store:
        assert store.schema_version == 2 and store.space_name == "nb201"
        _check_values(store)
    assert (old_run / "gcnas.sqlite").read_bytes() == before and not (old_run / "gcnas.sqlite.v2.bak").exists()


def test_a_failed_migration_leaves_the_store_as_it_was_and_names_the_copy(old_run):
    conn = sqlite3.connect(old_run / "gcnas.sqlite")
    conn.execute("UPDATE costs SET code=99999 WHERE rowid=2")  # a code no NAS-Bench-201 cell has
    conn.commit()
    conn.close()
    before = _rows(old_run / "gcnas.sqlite")
    with pytest.raises(CorruptFileError, match=r"cannot migrate run store .* from schema 2 to 3 .*99999.*left as it "
                                               r"was; a copy of it from before is at .*gcnas.sqlite.v2.bak"):
        RunStore(old_run)
    assert _rows(old_run / "gcnas.sqlite") == before == _rows(old_run / "gcnas.sqlite.v2.bak")
    assert ("schema_version", "2") in before["meta"]


def test_a_store_records_its_space_and_refuses_cells_of_another(tmp_path):
    darts = get_space("darts")
    with RunStore(tmp_path / "darts", space="darts") as store:
        genotypes = [darts.sample(i) for i in range(3)]
        store.add_samples("supernet", [Sample(g, 50.0 + i) for i, g in enumerate(genotypes)])
        assert [s.arch for s in store.samples("supernet")] == genotypes
        store.write_lut(genotypes, {"accuracy": [1.0, 3.0, 2.0]})
        assert [r["arch"] for r in store.ranked_lut("accuracy")] == [darts.format(genotypes[i]) for i in (1, 2, 0)]
        with pytest.raises(InvalidInputError, match="over the 'darts' space.*got Arch"):
            store.add_samples("supernet", [Sample(NB201.parse(CELLS[0]), 1.0)])
        with pytest.raises(InvalidInputError, match="over the 'darts' space"):
            store.write_costs("latency_ms", "cpu", [NB201.parse(CELLS[0])], [1.0])
    with RunStore(tmp_path / "darts") as again:                     # the space is read from the run
        assert again.space_name == "darts" and again.space == darts
    with pytest.raises(InvalidInputError, match="holds architectures of the 'darts' space, not 'nb201'.*--space"):
        RunStore(tmp_path / "darts", space="nb201")
    with RunStore(tmp_path / "fresh") as fresh:                      # nothing written yet: the space may be chosen
        assert fresh.space_name == "nb201"
    with RunStore(tmp_path / "fresh", space="darts") as fresh:
        assert fresh.space_name == "darts"
    with pytest.raises(InvalidInputError, match="unknown search space 'nope'"):
        RunStore(tmp_path / "other", space="nope")


def test_the_cli_opens_an_old_run_migrating_it_and_keeps_answering(old_run, capsys):
    import json

    from gcnas.cli import main

    with pytest.warns(StoreNotice, match="kept at"):        # a writable run is migrated by whichever command opens it
        assert main(["lut", "query", "--run", str(old_run), "--top", "2", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["arch"] for r in rows] == [CELLS[6], CELLS[5]] and rows[0]["code"] == NB201.parse(CELLS[6]).code
    assert (old_run / "gcnas.sqlite.v2.bak").exists()
    assert main(["lut", "build", "--run", str(old_run), "--space", "darts", "--pool", "2"]) == 1
    assert "holds architectures of the 'nb201' space, not 'darts'" in capsys.readouterr().err
