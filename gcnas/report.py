"""A self-contained HTML report of one run (``runs/NAME/report.html``) and its PNGs.

The report is assembled from plain data (numbers, rows, PNG files), so every stage of the
pipeline can contribute a section without this module importing the stage's package.
Images are embedded as base64 so the single HTML file can be mailed or archived.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from gcnas.data.store import atomic_write

__all__ = ["Code", "Report", "Section", "front_style", "plot_curves", "plot_scatter", "plot_pareto", "plot_stage_times"]

_STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
     padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #446;padding-bottom:.2em} h2{margin-top:1.8em;color:#335}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em;display:block;max-width:100%;overflow-x:auto}
td,th{border:1px solid #ccd;padding:.25em .6em}
th{background:#eef;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f4f4f8;padding:0 .25em;font-size:.88em} .figs{display:flex;flex-wrap:wrap;gap:1em}
.figs img{max-width:100%;border:1px solid #dde} p.note{color:#555;font-size:.9em}
"""


class Code(str):
    """A table cell shown as code (a command to copy)."""


@dataclass
class Section:
    """One titled part of the report: paragraphs, tables and images, in that order."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[Sequence[Any]]]] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)

    def text(self, paragraph: str) -> Section:
        self.paragraphs.append(paragraph)
        return self

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Section:
        self.tables.append((list(columns), [list(r) for r in rows]))
        return self

    def image(self, path: str | os.PathLike | None) -> Section:
        if path is not None:
            self.images.append(Path(path))
        return self


class Report:
    """Collects sections and writes one self-contained HTML file.

    Args:
        title: The page title.

    Example:
        >>> report = Report("gcnas demo")
        >>> report.section("Settings").table(["setting", "value"], [["epochs", 3]])
        >>> report.write("runs/demo/report.html")
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.sections: list[Section] = []

    def section(self, title: str) -> Section:
        section = Section(title)
        self.sections.append(section)
        return section

    def to_html(self) -> str:
        parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_esc(self.title)}</title>",
                 f"<style>{_STYLE}</style></head><body><h1>{_esc(self.title)}</h1>",
                 f"<p class='note'>Written {time.strftime('%Y-%m-%d %H:%M:%S')}.</p>"]
        for section in self.sections:
            parts.append(f"<h2>{_esc(section.title)}</h2>")
            parts += [f"<p>{paragraph}</p>" for paragraph in section.paragraphs]
            for columns, rows in section.tables:
                parts.append("<table><tr>" + "".join(f"<th>{_esc(c)}</th>" for c in columns) + "</tr>")
                for row in rows:
                    parts.append("<tr>" + "".join(_td(v) for v in row) + "</tr>")
                parts.append("</table>")
            if section.images:
                parts.append("<div class='figs'>")
                for image in section.images:
                    if image.exists():
                        data = base64.b64encode(image.read_bytes()).decode()
                        parts.append(f"<img alt='{_esc(image.name)}' src='data:image/png;base64,{data}'>")
                parts.append("</div>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, path: str | os.PathLike) -> Path:
        """Write the HTML atomically and return its path."""
        return atomic_write(path, self.to_html())


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _td(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        text = "-" if np.isnan(value) else (f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}")
        return f"<td class='num'>{text}</td>"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"<td class='num'>{value}</td>"
    if isinstance(value, Code) or (isinstance(value, str) and value.startswith("|") and value.endswith("|")):
        return f"<td><code>{_esc(value)}</code></td>"
    if isinstance(value, Mapping):
        return f"<td><code>{_esc(json.dumps(value, default=str))}</code></td>"
    return f"<td>{_esc(value)}</td>"


def _figure(width: float = 5.2, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(width, height), dpi=100)


def _save(plt, fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_curves(series: Mapping[str, Sequence[float]], path: str | os.PathLike, *, title: str,
                xlabel: str = "epoch", ylabel: str = "") -> Path:
    """Line plot of named series against their index (training curves).

    Args:
        series: Name -> values (one per epoch or step).
        path: Output PNG.
        title: Plot title.
        xlabel: X label.
        ylabel: Y label.

    Returns:
        The PNG path.
    """
    plt, fig, ax = _figure()
    for name, values in series.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_scatter(x: Sequence[float], y: Sequence[float], path: str | os.PathLike, *, title: str,
                 xlabel: str, ylabel: str, highlight: Sequence[int] = ()) -> Path:
    """Scatter of two measures of the same architectures, with the diagonal range."""
    plt, fig, ax = _figure(4.6, 4.2)
    x, y = np.asarray(x, float), np.asarray(y, float)
    ax.scatter(x, y, s=10, alpha=0.6, color="#4466aa")
    if len(highlight):
        idx = np.asarray(highlight, int)
        ax.scatter(x[idx], y[idx], s=40, facecolors="none", edgecolors="#cc3311", label="chosen")
        ax.legend(fontsize=8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def front_style(objectives: int) -> str:
    """How a Pareto front is drawn on accuracy-vs-one-cost axes: ``staircase`` or ``points``.

    A front of two objectives is a staircase on their axes. A front of three or more, drawn
    on two of them, is a projection: its members need not dominate each other there (a slower
    cell may be on the front for its energy), so a staircase through them would be false.
    """
    return "staircase" if objectives == 2 else "points"


def plot_pareto(cost: Sequence[float], accuracy: Sequence[float], path: str | os.PathLike, *, title: str,
                cost_label: str, front: Sequence[int] = (), chosen: Mapping[str, tuple[float, float]] | None = None,
                points_label: str = "evaluated", objectives: int = 2) -> Path:
    """Accuracy against one cost: all points (``points_label``), the Pareto front, named picks.

    Args:
        objectives: How many objectives ``front`` is the Pareto front of: 2 draws it as a
            staircase, more as points (the 2-D projection, see :func:`front_style`).
    """
    plt, fig, ax = _figure()
    cost, accuracy = np.asarray(cost, float), np.asarray(accuracy, float)
    ax.scatter(cost, accuracy, s=10, alpha=0.35, color="#888888", label=points_label)
    if len(front):
        idx = np.asarray(front, int)
        order = idx[np.argsort(cost[idx])]
        label = "Pareto front"
        if front_style(objectives) == "staircase":
            ax.step(cost[order], accuracy[order], where="post", color="#4466aa")
        else:
            label = f"Pareto front of {objectives} objectives (projected)"
        ax.scatter(cost[order], accuracy[order], s=22, color="#4466aa", label=label)
    for name, (c, a) in (chosen or {}).items():
        ax.scatter([c], [a], s=80, marker="*", zorder=5, label=name)
    ax.set(title=title, xlabel=cost_label, ylabel="accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_stage_times(seconds: Mapping[str, float], path: str | os.PathLike) -> Path:
    """Horizontal bars: wall time of each pipeline stage."""
    plt, fig, ax = _figure(5.2, 0.4 * max(len(seconds), 3) + 1)
    names = list(seconds)
    ax.barh(names[::-1], [seconds[n] for n in names][::-1], color="#4466aa")
    ax.set(title="wall time per stage", xlabel="seconds")
    ax.grid(alpha=0.3, axis="x")
    return _save(plt, fig, path)
