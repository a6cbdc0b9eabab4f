"""The latent space in two dimensions (PCA and t-SNE), coloured by a metric."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gcnas.exceptions import InvalidInputError

__all__ = ["latent_map"]


def latent_map(vectors: np.ndarray, values: np.ndarray, path: str | os.PathLike, *, metric: str = "accuracy",
               tsne_points: int = 4000, seed: int = 0, title: str = "arch2vec latent space") -> Path:
    """Write a PNG with two panels: PCA of all vectors and t-SNE of a seeded subset.

    Args:
        vectors: ``(n, d)`` embeddings.
        values: ``(n,)`` the metric colouring each point (NaN points are left out).
        path: The PNG to write.
        metric: Name of the metric (colour-bar label).
        tsne_points: Most points given to t-SNE (it is quadratic-ish; a seeded
            subset keeps it to seconds). 0 skips the t-SNE panel.
        seed: Seed of the subset and of t-SNE.
        title: Figure title.

    Returns:
        The path written.

    Example:
        >>> archs, Z = store.embeddings("arch2vec")
        >>> latent_map(Z, table.values(archs, "test_acc"), "map.png", metric="test_acc")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(values):
        raise InvalidInputError(f"latent_map needs (n, d) vectors and (n,) values, got {vectors.shape} "
                                f"and {values.shape}")
    keep = np.isfinite(values)
    vectors, values = vectors[keep], values[keep]
    if len(vectors) < 5:
        raise InvalidInputError(f"latent_map needs at least 5 points with a finite {metric}, got {len(vectors)}")
    # Draw the best points last so they are not hidden under the crowd.
    order = np.argsort(values)
    vectors, values = vectors[order], values[order]
    # NB201 has a tail of untrainable cells (10% accuracy); clipping the colour scale at
    # the 10th percentile spends it on the differences among the cells that train.
    low, high = np.percentile(values, [10, 100])
    panels = [("PCA", PCA(n_components=2, random_state=seed).fit_transform(vectors), values)]
    if tsne_points > 0:
        rng = np.random.default_rng(seed)
        subset = np.sort(rng.choice(len(vectors), size=min(tsne_points, len(vectors)), replace=False))
        perplexity = float(min(30, max(2, (len(subset) - 1) // 3)))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        points = tsne.fit_transform(vectors[subset])
        panels.append((f"t-SNE ({len(subset):,} points)", points, values[subset]))
    figure, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5.4), squeeze=False)
    for axis, (name, points, colour) in zip(axes[0], panels):
        scatter = axis.scatter(points[:, 0], points[:, 1], c=colour, s=3, cmap="viridis", vmin=low, vmax=high,
                               linewidths=0)
        axis.set_title(f"{name} of {vectors.shape[1]}-d embeddings")
        axis.set_xticks([])
        axis.set_yticks([])
        figure.colorbar(scatter, ax=axis, label=f"{metric} (clipped below the 10th percentile, {low:.4g})")
    figure.suptitle(f"{title}: {len(vectors):,} architectures coloured by {metric}")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
