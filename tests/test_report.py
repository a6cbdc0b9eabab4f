"""The report's plots: a staircase only through the front of two objectives."""

from __future__ import annotations

import numpy as np
import pytest

import gcnas.report as report
from gcnas.report import Code, Report, front_style, plot_pareto


@pytest.fixture
def drawn(monkeypatch):
    """The axes of every figure the report module saves."""
    axes = []

    def keep(plt, fig, path):
        axes.append(fig.axes[0])
        plt.close(fig)
        return path

    monkeypatch.setattr(report, "_save", keep)
    return axes


@pytest.mark.parametrize(("objectives", "style", "lines"), [(2, "staircase", 1), (3, "points", 0)])
def test_the_front_is_a_staircase_only_for_two_objectives(drawn, tmp_path, objectives, style, lines):
    rng = np.random.default_rng(0)
    cost, accuracy = rng.uniform(1, 5, 30), rng.uniform(80, 95, 30)
    assert front_style(objectives) == style
    plot_pareto(cost, accuracy, tmp_path / "front.png", title="t", cost_label="latency (ms)", front=[0, 3, 7],
                chosen={"pick 1": (2.0, 90.0)}, objectives=objectives)
    (ax,) = drawn
    assert len(ax.lines) == lines  # ax.step draws one Line2D; points are scatter collections only
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert ("Pareto front" in labels) == (objectives == 2)
    assert ("Pareto front of 3 objectives (projected)" in labels) == (objectives == 3)
    front = [c for c in ax.collections if len(c.get_offsets()) == 3]
    assert len(front) == 1  # the three front members are drawn as points either way


def test_code_cells_are_shown_as_code():
    page = Report("r")
    page.section("s").table(["command"], [[Code("gcnas arch export code:5 --format onnx --out a.onnx")]])
    assert "<td><code>gcnas arch export code:5 --format onnx --out a.onnx</code></td>" in page.to_html()
