"""The README / docs results tables are what benchmarks/results/*.json say, and the results file helper.

Only the committed results files are read: nothing here needs reference data or runs a benchmark.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the benchmarks are scripts; their helpers import each other by name

import _results  # noqa: E402
import results_table  # noqa: E402

README_BLOCK = re.compile(r"<!-- results:begin -->\n(.*?)<!-- results:end -->", re.DOTALL)


def check(root: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / "results_table.py"), "--check", "--root", str(root)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy_of_repo(tmp_path):
    """README.md, docs/*.md and benchmarks/results/*.json copied to a temporary root."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    for path in (REPO / "docs").glob("*.md"):
        shutil.copy(path, tmp_path / "docs" / path.name)
    for path in (BENCHMARKS / "results").glob("*.json"):
        shutil.copy(path, tmp_path / "benchmarks" / "results" / path.name)
    return tmp_path


def test_readme_and_docs_tables_match_the_results_files():
    finished = check()
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr


def test_check_fails_on_a_readme_with_one_changed_figure(copy_of_repo):
    readme = copy_of_repo / "README.md"
    text = readme.read_text()
    block = README_BLOCK.search(text)
    figure = re.search(r"\b\d+\.\d{3}\b", block.group(1))  # the first three-decimal figure of the table
    assert figure is not None
    changed = figure.group(0)[:-1] + str((int(figure.group(0)[-1]) + 1) % 10)
    start = block.start(1) + figure.start()
    readme.write_text(text[:start] + changed + text[start + len(figure.group(0)):])

    finished = check(copy_of_repo)

    assert finished.returncode == 1
    removed = [line for line in finished.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in finished.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 1
    assert changed in removed[0] and figure.group(0) in added[0]
    assert "README.md differ" in finished.stderr


def test_check_fails_when_a_results_file_changes(copy_of_repo):
    path = copy_of_repo / "benchmarks" / "results" / "hardware_energy.json"
    record = json.loads(path.read_text())
    record["figures"]["spearman.energy_fp32.pixel3"] = 0.5
    path.write_text(json.dumps(record))

    finished = check(copy_of_repo)

    assert finished.returncode == 1
    assert "pixel3 0.500" in finished.stdout


def test_a_row_without_its_results_file_shows_no_figure_and_names_its_command(copy_of_repo):
    (copy_of_repo / "benchmarks" / "results" / "space_canonical.json").unlink()

    generated = results_table.generate(copy_of_repo)["README.md"][1]

    row = next(line for line in README_BLOCK.search(generated).group(1).splitlines()
               if line.startswith("| canonical classes"))
    assert "not yet rerun" in row and "`python benchmarks/space_canonical.py`" in row
    assert not re.search(r"\d,\d{3} \|", row.split("|")[2]) and "6,466" not in row.split("|")[2]


def test_every_readme_row_is_rendered_from_its_file_when_the_file_exists():
    results = results_table.Results(BENCHMARKS / "results")
    for row in results_table.README_ROWS:
        if results.has(row.stem):
            cells = row.cells(results)
            assert cells[1] != "not yet rerun", row.what
            assert results_table.portable_command(results(row.stem).data["command"]) in cells[5]


def test_check_rejects_a_docs_file_without_its_block(copy_of_repo):
    path = copy_of_repo / "docs" / "data.md"
    path.write_text(path.read_text().replace("<!-- results:begin natsbench -->", ""))

    finished = check(copy_of_repo)

    assert finished.returncode == 2
    assert "natsbench" in finished.stderr


# -- the results file helper ---------------------------------------------------------------------

def test_results_file_holds_provenance_and_figures(tmp_path):
    run = _results.BenchmarkRun("demo_bench", {"num": 3, "label": "x"}, out=tmp_path / "r.json",
                                argv=[str(BENCHMARKS / "demo_bench.py"), "--num", "3", "--proxies", ""])
    path = run.write({"tau": 0.5, "n": 3, "name": "a", "skipped": None}, details={"rows": [1, 2]})

    record = _results.load_results(path)
    assert record["command"] == "python benchmarks/demo_bench.py --num 3 --proxies ''"
    assert record["figures"] == {"tau": 0.5, "n": 3, "name": "a", "skipped": None}
    assert record["settings_hash"] == _results.settings_hash({"num": 3, "label": "x"})
    assert record["label"] == "x" and record["details"] == {"rows": [1, 2]}
    assert set(record["versions"]) == {"python", *_results.PACKAGES}
    assert record["machine"]["logical_cores"] >= 1 and len(record["machine"]["loadavg_start"]) == 3
    assert record["git"]["commit"] is None or len(record["git"]["commit"]) == 40
    assert record["wall_seconds"] >= 0 and record["started"] <= record["finished"]


@pytest.mark.parametrize("figures,match", [
    ({"tau": math.nan}, "nan"),
    ({"tau": math.inf}, "inf"),
    ({"rows": [1, 2]}, "details"),
    ({1: 0.5}, "strings"),
])
def test_figures_must_be_flat_and_finite(figures, match):
    with pytest.raises(_results.ResultsError, match=match):
        _results.check_figures(figures)


def test_a_nan_figure_is_written_as_null_not_lost(tmp_path):
    import numpy as np

    run = _results.BenchmarkRun("demo_bench", {}, out=tmp_path / "r.json", argv=["demo_bench.py"])
    record = _results.load_results(run.write({"tau": np.float64("nan"), "n": np.int64(3)},
                                             details={"a": np.arange(2)}))
    assert record["figures"] == {"tau": None, "n": 3} and record["not_finite"] == ["tau"]
    assert record["details"] == {"a": [0, 1]}


def test_load_results_names_what_is_missing(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps([{"model": "gcn"}]))
    with pytest.raises(_results.ResultsError, match="not a results object"):
        _results.load_results(path)
    path.write_text(json.dumps({"benchmark": "x", "figures": {}}))
    with pytest.raises(_results.ResultsError, match="lacks"):
        _results.load_results(path)


def test_settings_hash_depends_on_the_chosen_settings_only():
    a = {"epochs": 30, "label": "first"}
    assert _results.settings_hash(a, ["epochs"]) == _results.settings_hash({**a, "label": "second"}, ["epochs"])
    assert _results.settings_hash(a, ["epochs"]) != _results.settings_hash({**a, "epochs": 31}, ["epochs"])
    with pytest.raises(_results.ResultsError, match="epoch"):
        _results.settings_hash(a, ["epoch"])


def test_cache_key_changes_with_the_code_that_makes_the_cache(tmp_path, monkeypatch):
    for relative in ("gcnas/exceptions.py", "gcnas/spaces/nb201/space.py", "gcnas/supernet/__init__.py",
                     "gcnas/search/__init__.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x = 1\n")
    monkeypatch.setattr(_results, "REPO", tmp_path)
    settings = {"epochs": 30}
    supernet_key, whole_key = _results.cache_key(settings, packages=["supernet"]), _results.cache_key(settings)

    (tmp_path / "gcnas/search/__init__.py").write_text("x = 2\n")  # code the supernet cache does not depend on
    assert _results.cache_key(settings, packages=["supernet"]) == supernet_key
    assert _results.cache_key(settings) != whole_key

    (tmp_path / "gcnas/supernet/__init__.py").write_text("x = 2\n")
    edited = _results.cache_key(settings, packages=["supernet"])
    assert edited != supernet_key
    (tmp_path / "gcnas/exceptions.py").write_text("x = 2\n")  # top-level modules count for every package
    assert _results.cache_key(settings, packages=["supernet"]) != edited
    edited = _results.cache_key(settings, packages=["supernet"])
    (tmp_path / "gcnas/spaces/nb201/space.py").write_text("x = 2\n")  # and so do the search spaces
    assert _results.cache_key(settings, packages=["supernet"]) != edited
    assert edited.split("-")[0] == supernet_key.split("-")[0]  # the settings part did not move
    with pytest.raises(_results.ResultsError, match="subpackage"):
        _results.code_version(["nope"])


def test_commands_name_no_path_of_the_machine_that_ran_them():
    command = ("python benchmarks/search_multi.py --plots /home/ci/gcnas/runs/bench/plots --data-root "
               "/srv/shared/data/images/cifar10-jpg --truth table:/srv/shared/data/nb201/t.csv:test_acc --save /tmp/a.pt")
    assert results_table.portable_command(command) == (
        "python benchmarks/search_multi.py --plots runs/bench/plots --data-root $GCNAS_SHARED_DATA/images/cifar10-jpg "
        "--truth table:$GCNAS_SHARED_DATA/nb201/t.csv:test_acc --save /tmp/a.pt")
    table = (REPO / "README.md").read_text().split("<!-- results:begin -->")[1]
    assert not re.search(r"/\S*/(shared/data|runs|docs)/", table.replace("$GCNAS_SHARED_DATA/", ""))
