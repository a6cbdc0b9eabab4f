"""The README's command examples print what the README says (benchmarks/readme_examples.py).

The quick examples run here on every test run; all of them (minutes: GCN fits, arch2vec, BO)
with ``python benchmarks/readme_examples.py --check``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import readme_examples  # noqa: E402

QUICK = {"device-csv", "trials"}
"""Examples that take seconds; the others are checked by hand (see the module docstring)."""


def test_readme_marks_examples_and_the_quick_ones_exist():
    names = {e.name for e in readme_examples.parse_readme((REPO / "README.md").read_text())}
    assert QUICK <= names
    assert len(names) >= 6


@pytest.mark.parametrize("name", sorted(QUICK))
def test_quick_readme_example_prints_what_the_readme_shows(name):
    example = next(e for e in readme_examples.parse_readme((REPO / "README.md").read_text()) if e.name == name)
    if any("$T" in step.command for step in example.steps) and readme_examples.shared_data() is None:
        pytest.skip("NAS-Bench-201 tables not found under $GCNAS_SHARED_DATA/nb201")
    out = io.StringIO()
    drifted = readme_examples.check_examples(REPO / "README.md", {name}, out=out)
    assert drifted == 0, out.getvalue()


def _readme(body: str) -> str:
    return f"# t\n\n<!-- example: demo -->\n```\n{body}```\n"


def test_a_changed_figure_is_drift_and_write_restores_the_text(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(_readme("$ printf 'rank  code\\n1     42\\n'\nrank  code\n1     43\n"))
    out = io.StringIO()
    assert readme_examples.check_examples(readme, out=out) == 1
    assert "-1     43" in out.getvalue() and "+1     42" in out.getvalue()
    assert readme_examples.check_examples(readme, write=True, out=io.StringIO()) == 0
    assert "1     42" in readme.read_text()
    assert readme_examples.check_examples(readme, out=io.StringIO()) == 0


def test_wall_clock_figures_and_elisions_are_forgiven():
    shown = ["field    value", "-------  -----", "rows     15625", "seconds  8.24", "(5 rows, 6.8 ms)", "..."]
    now = ["field    value", "-------  -----", "rows     15625", "seconds  19.1", "(5 rows, 12 ms)", "a", "b"]
    assert readme_examples.matches(shown, now)
    assert not readme_examples.matches(shown, ["field    value", "-------  -----", "rows     15624",
                                               "seconds  8.24", "(5 rows, 6.8 ms)"])
    csv_shown = ["trial,status,code,ask_seconds,worker", "0,ok,6037,0.0689,vm:1"]
    assert readme_examples.matches(csv_shown, ["trial,status,code,ask_seconds,worker", "0,ok,6037,0.01,vm:2"])
    assert not readme_examples.matches(csv_shown, ["trial,status,code,ask_seconds,worker", "0,ok,6038,0.0689,vm:1"])
    table = ["epoch  train_loss  seconds", "-----  ----------  -------", "1      2.041       0.3195"]
    assert readme_examples.matches(table, ["epoch  train_loss  seconds", "-----  ----------  -------",
                                           "1      2.041       0.41"])
    assert not readme_examples.matches(table, ["epoch  train_loss  seconds", "-----  ----------  -------",
                                               "1      2.042       0.3195"])


def test_write_keeps_the_lines_around_an_elision():
    shown = ["a", "...", "z"]
    assert readme_examples.shaped_like(shown, ["1", "2", "3", "4"]) == ["1", "...", "4"]
    assert readme_examples.shaped_like(["x", "y"], ["1", "2", "3"]) == ["1", "2", "3"]


def test_a_failing_command_is_an_error_not_a_pass(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(_readme("$ exit 3\n"))
    with pytest.raises(RuntimeError, match="exited 3"):
        readme_examples.check_examples(readme, out=io.StringIO())


def test_a_marker_without_a_fence_is_refused():
    with pytest.raises(ValueError, match="right above"):
        readme_examples.parse_readme("<!-- example: x -->\ntext\n")
