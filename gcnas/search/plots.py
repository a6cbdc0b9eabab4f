"""Plots of search runs (matplotlib, written to files, no display needed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError

__all__ = ["plot_best_so_far", "plot_pareto"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(plt, fig, ax, path: str | os.PathLike, *, xlabel: str, ylabel: str, title: str,
            xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None) -> Path:
    """Label, legend and grid the axes, then write the figure and close it."""
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_best_so_far(curves: Mapping[str, Sequence[np.ndarray]], path: str | os.PathLike, *,
                     ylabel: str = "incumbent", optimum: float | None = None, title: str = "",
                     ylim: tuple[float, float] | None = None) -> Path:
    """Median best-so-far vs queries per method, with the inter-quartile band over seeds.

    Args:
        curves: ``{method: [curve of seed 0, curve of seed 1, ...]}``, each ``(n,)``.
        path: Output image (``.png``, ``.pdf`` ...).
        ylabel: Label of the y axis.
        optimum: Draw this value as a dashed line (e.g. 94.37).
        title: Figure title.
        ylim: Limits of the y axis (default: automatic).

    Returns:
        The written path.
    """
    if not curves:
        raise InvalidInputError("no curves to plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, runs in curves.items():
        length = min(len(c) for c in runs)
        M = np.array([np.asarray(c, dtype=float)[:length] for c in runs])
        x = np.arange(1, length + 1)
        med = np.nanmedian(M, axis=0)
        ax.plot(x, med, label=f"{label} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(x, np.nanpercentile(M, 25, axis=0), np.nanpercentile(M, 75, axis=0), alpha=0.2)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=0.8, label=f"optimum {optimum:g}")
    return _finish(plt, fig, ax, path, xlabel="queries", ylabel=ylabel, title=title, ylim=ylim)


def plot_pareto(points: Mapping[str, np.ndarray], path: str | os.PathLike, *, xlabel: str, ylabel: str,
                front: np.ndarray | None = None, title: str = "", xlim: tuple[float, float] | None = None,
                ylim: tuple[float, float] | None = None) -> Path:
    """Scatter of evaluated ``(x, y)`` points per method, with an optional true front.

    Args:
        points: ``{label: (n, 2) array}`` in the objectives' own units.
        path: Output image.
        xlabel: x axis label (e.g. ``latency_ms``).
        ylabel: y axis label (e.g. ``valid_acc``).
        front: ``(k, 2)`` reference front drawn as a step line.
        title: Figure title.
        xlim: Limits of the x axis (zoom on the interesting part of the front).
        ylim: Limits of the y axis.

    Returns:
        The written path.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    if front is not None and len(front):
        f = np.asarray(front)[np.argsort(np.asarray(front)[:, 0])]
        ax.step(f[:, 0], f[:, 1], where="post", color="k", lw=0.8, label="true front")
    for label, P in points.items():
        P = np.asarray(P, dtype=float)
        ax.scatter(P[:, 0], P[:, 1], s=10, alpha=0.6, label=label)
    return _finish(plt, fig, ax, path, xlabel=xlabel, ylabel=ylabel, title=title, xlim=xlim, ylim=ylim)
