"""latent_map: input checks (the picture itself is drawn in the CLI test)."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.encoders import latent_map
from gcnas.exceptions import InvalidInputError


def test_latent_map_rejects_mismatched_or_empty_input(tmp_path):
    with pytest.raises(InvalidInputError, match=r"\(n, d\) vectors and \(n,\) values"):
        latent_map(np.zeros((10, 4)), np.zeros(9), tmp_path / "x.png")
    with pytest.raises(InvalidInputError, match="at least 5 points with a finite acc"):
        latent_map(np.zeros((10, 4)), np.full(10, np.nan), tmp_path / "x.png", metric="acc")
    assert not (tmp_path / "x.png").exists()


def test_latent_map_pca_only(tmp_path):
    rng = np.random.default_rng(0)
    path = latent_map(rng.normal(size=(50, 4)), rng.normal(size=50), tmp_path / "pca.png", tsne_points=0)
    assert path.read_bytes()[:4] == b"\x89PNG"
