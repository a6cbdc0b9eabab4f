"""``gcnas runs`` and ``gcnas status``: what runs hold, read without creating or changing anything."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.search import SearchResult


def _json(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def runs_dir(tiny_run, tmp_path):
    """``tmp_path/runs``: a copy of the tiny run, an empty run folder, a folder that is no run, a damaged store."""
    runs = tmp_path / "runs"
    shutil.copytree(tiny_run, runs / "tiny")
    (runs / "notes").mkdir()
    (runs / "notes" / "readme.txt").write_text("not a run")
    with RunStore(runs / "group" / "fresh"):  # a run nested one level down, nothing finished yet
        pass
    (runs / "broken").mkdir()
    (runs / "broken" / "gcnas.sqlite").write_bytes(b"not a database" * 100)
    return runs


def test_runs_lists_every_run_with_its_stages_and_studies(runs_dir, capsys):
    rows = {r["run"]: r for r in _json(capsys, ["runs", str(runs_dir), "--format", "json"])}
    assert set(rows) == {"tiny", "group/fresh", "broken"}
    tiny = rows["tiny"]
    assert tiny["stages"] == "predictor, lut, arch2vec" and tiny["error"] is None
    assert tiny["studies"] == "random (12), two (12)"
    assert tiny["last"] is not None
    assert rows["group/fresh"]["stages"] == "-" and rows["group/fresh"]["studies"] == "-"
    assert "is not a readable SQLite database" in rows["broken"]["error"]
    capsys.readouterr()
    assert main(["runs", str(runs_dir)]) == 0  # the table: one damaged run does not hide the others
    table = capsys.readouterr().out
    assert "random (12), two (12)" in table and "broken" in table


def test_status_gives_stages_trial_counts_and_best_values(tiny_run, capsys):
    status = _json(capsys, ["status", str(tiny_run), "--format", "json"])
    assert [s["stage"] for s in status["stages"]] == ["predictor", "lut", "encoder_pretrain", "search:random",
                                                      "search:two"]
    predictor = status["stages"][0]
    assert "model=gcn" in predictor["settings"] and "n_train=30" in predictor["settings"]
    assert "train_codes" not in predictor["settings"]  # long lists are left out
    assert status["lut"]["rows"] == 15625 and "accuracy" in status["lut"]["columns"]
    assert status["embeddings"] == [{"encoder": "arch2vec", "cells": 15625, "dim": 16}]
    studies = {s["study"]: s for s in status["studies"]}
    with RunStore(tiny_run, mode="ro") as store:
        one, two = SearchResult.load(store, "random"), SearchResult.load(store, "two")
    assert studies["random"]["trials"] == 12 and studies["random"]["failed"] == 0
    assert studies["random"]["objectives"] == {"accuracy": "max"}
    assert studies["random"]["best"]["accuracy"] == pytest.approx(np.nanmax(one.values("accuracy")))
    assert studies["random"]["best_arch"] == str(one.trials[int(one.incumbent_index()[-1])].arch)
    assert studies["two"]["objectives"] == {"accuracy": "max", "params_m": "min"}
    assert studies["two"]["best"]["params_m"] == pytest.approx(np.nanmin(two.values("params_m")))
    assert studies["two"]["pareto_front"] == len(two.pareto_front())
    assert not studies["two"]["running"]


def test_status_table_names_each_block(tiny_run, capsys):
    capsys.readouterr()
    assert main(["status", str(tiny_run)]) == 0
    out = capsys.readouterr().out
    for block in ("stages:", "embeddings:", "lookup table: 15625 rows", "studies:"):
        assert block in out
    assert "accuracy" in out and "(max)" in out and "params_m" in out and "(min)" in out


def test_runs_and_status_create_nothing(tiny_run, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["status", str(missing)]) == 1
    assert main(["runs", str(missing)]) == 1
    assert not missing.exists()
    err = capsys.readouterr().err
    assert "has no run store" in err and "is not a folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["status", str(empty)]) == 1
    assert list(empty.iterdir()) == []  # no store created in an existing folder either
    assert _json(capsys, ["runs", str(empty), "--format", "json"]) == []
    with RunStore(tiny_run, mode="ro") as store:
        before = (store.stages(), store.study_sizes(), store.schema_version)
    main(["status", str(tiny_run), "--format", "json"])
    main(["runs", str(tiny_run.parent), "--format", "json"])
    with RunStore(tiny_run, mode="ro") as store:
        assert (store.stages(), store.study_sizes(), store.schema_version) == before
