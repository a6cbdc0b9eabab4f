"""`gcnas demo --run DIR` never replaces other work silently: it resumes its own run with the
same settings, refuses anything else unless --overwrite, and a demo that did nothing leaves
nothing behind. The pipeline itself is replaced by a recorder (tests/test_demo.py runs it)."""

from __future__ import annotations

import json

import pytest

import gcnas.demo as demo
from gcnas.cli import main
from gcnas.data import RunStore
from gcnas.demo import DemoSettings, run_demo
from gcnas.exceptions import InvalidInputError


@pytest.fixture
def pipeline(monkeypatch):
    """The demo's pipeline as a recorder: what the run held when it started; it finishes one stage."""
    seen = []

    def record(store, settings, **kwargs):
        seen.append({"stages": list(store.stages()), "files": sorted(p.name for p in store.run_dir.iterdir())})
        store.finish_stage("demo:supernet", {"epochs": settings.supernet_epochs})
        return {"recorded": True}

    monkeypatch.setattr(demo, "_pipeline", record)
    return seen


def _quiet(**kwargs):
    return dict(progress=False, log=lambda message: None, **kwargs)


@pytest.fixture
def fitted_run(tmp_path, capsys):
    """A run where a user fitted a predictor with `gcnas predictor fit`."""
    run = tmp_path / "mine"
    assert main(["predictor", "fit", "--model", "gbt", "--ensemble", "1", "--table", "nb201:cifar10",
                 "--num-train", "20", "--run", str(run)]) == 0
    capsys.readouterr()
    return run


def test_demo_refuses_a_run_of_other_commands(fitted_run, capsys, pipeline):
    before = (fitted_run / "predictor.pt").read_bytes()
    assert main(["demo", "--quick", "--run", str(fitted_run)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "predictor.pt" in err and "stage predictor" in err
    assert "--overwrite" in err and "another --run DIR" in err
    assert not pipeline and (fitted_run / "predictor.pt").read_bytes() == before
    with RunStore(fitted_run) as store:
        assert list(store.stages()) == ["predictor"]


def test_overwrite_replaces_the_run(fitted_run, capsys, pipeline):
    assert main(["demo", "--quick", "--run", str(fitted_run), "--overwrite", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"recorded": True}
    (started,) = pipeline
    assert started["stages"] == [] and "predictor.pt" not in started["files"]  # emptied before the demo began
    with RunStore(fitted_run) as store:
        assert list(store.stages()) == ["demo:supernet"]


def test_same_settings_resume_other_settings_are_refused(tmp_path, pipeline):
    run = tmp_path / "demo"
    run_demo(run, settings=DemoSettings.quick(), **_quiet())
    run_demo(run, settings=DemoSettings.quick(), **_quiet())  # resumed: what the first made is kept
    assert pipeline[1]["stages"] == ["demo:supernet"]
    with pytest.raises(InvalidInputError, match=r"other settings \(samples 24 -> 30\).*same flags.*--overwrite"):
        run_demo(run, settings=DemoSettings.quick(samples=30), **_quiet())
    assert len(pipeline) == 2
    run_demo(run, settings=DemoSettings.quick(samples=30), **_quiet(overwrite=True))
    assert pipeline[2]["stages"] == []
    assert json.loads((run / "demo.json").read_text())["settings"]["samples"] == 30


def test_a_folder_that_is_no_run_is_never_emptied(tmp_path, pipeline):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(InvalidInputError, match="not a gcnas run but holds files \\(notes.txt\\)"):
            run_demo(folder, settings=DemoSettings.quick(), **_quiet(overwrite=overwrite))
    assert (folder / "notes.txt").read_text() == "mine" and not pipeline


def test_a_demo_that_did_nothing_leaves_nothing(tmp_path, capsys, monkeypatch):
    def fails(store, settings, **kwargs):
        raise InvalidInputError("no images here")

    monkeypatch.setattr(demo, "_pipeline", fails)
    run = tmp_path / "runs" / "typo"
    assert main(["demo", "--quick", "--run", str(run)]) == 1
    assert "no images here" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
