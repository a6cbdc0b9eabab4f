"""Cell features: computed once, cached in the run store, resumed after a kill, keyed by settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.predictors.features import ProxySettings, cell_features, parse_feature_names
from gcnas.predictors.zero_cost import jacov, naswot, synflow
from gcnas.spaces.nb201 import Arch, NB201Space

SMALL = ProxySettings(channels=4, cells=1, batch_size=8)
ARCHS = NB201Space().sample_many(6, 0, distinct=True, canonical=True) + [Arch((0,) * 6)]


@pytest.fixture(scope="module")
def images():
    return torch.randn(12, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def test_features_equal_the_proxies_and_are_cached(tmp_path, images, monkeypatch):
    with RunStore(tmp_path) as store:
        first = cell_features(ARCHS, store=store, images=images, settings=SMALL, progress=False)
        assert set(first) == {"params", "flops", "synflow", "naswot", "jacov"}
        batch = images[:8]
        shape = dict(channels=4, cells=1)
        assert first["synflow"][0] == synflow(ARCHS[0], image_size=8, **shape)
        assert first["naswot"][1] == naswot(ARCHS[1], batch, **shape)
        assert first["jacov"][2] == jacov(ARCHS[2], batch, **shape)
        assert first["jacov"][-1] == -np.inf and first["naswot"][-1] == -np.inf  # the dead cell ranks last
        # a second call computes nothing: every value comes from the store
        import gcnas.predictors.features as module
        monkeypatch.setattr(module, "_compute", lambda *a: pytest.fail("recomputed a cached feature"))
        again = cell_features(ARCHS, store=store, images=images, settings=SMALL, progress=False)
    for name in first:
        np.testing.assert_array_equal(again[name], first[name])


def test_an_interrupted_computation_resumes_with_the_missing_cells_only(tmp_path, images, monkeypatch):
    import gcnas.predictors.features as module

    real = module._compute
    calls: list[int] = []

    def dies_after_one_chunk(name, archs, *rest):
        if calls:
            raise KeyboardInterrupt
        calls.append(len(archs))
        return real(name, archs, *rest)

    with RunStore(tmp_path) as store:
        monkeypatch.setattr(module, "_compute", dies_after_one_chunk)
        with pytest.raises(KeyboardInterrupt):
            cell_features(ARCHS, store=store, images=images, names=["naswot"], settings=SMALL, chunk=3,
                          progress=False)
        assert calls == [3] and sum(n for _, _, n in store.feature_kinds()) == 3
        seen: list[int] = []
        monkeypatch.setattr(module, "_compute", lambda name, archs, *rest: (seen.append(len(archs)),
                                                                            real(name, archs, *rest))[1])
        resumed = cell_features(ARCHS, store=store, images=images, names=["naswot"], settings=SMALL, chunk=3,
                                progress=False)
    assert seen == [3, 1]  # the 4 missing cells, in chunks of 3
    fresh = cell_features(ARCHS, images=images, names=["naswot"], settings=SMALL, progress=False)
    np.testing.assert_array_equal(resumed["naswot"], fresh["naswot"])


def test_other_settings_or_images_are_not_served_from_the_cache(tmp_path, images):
    with RunStore(tmp_path) as store:
        a = cell_features(ARCHS[:2], store=store, images=images, names=["naswot"], settings=SMALL, progress=False)
        b = cell_features(ARCHS[:2], store=store, images=images.flip(0), names=["naswot"], settings=SMALL,
                          progress=False)
        c = cell_features(ARCHS[:2], store=store, images=images, names=["naswot"],
                          settings=ProxySettings(channels=4, cells=1, batch_size=8, seed=1), progress=False)
        assert len(store.feature_kinds()) == 3
    assert not np.array_equal(a["naswot"], b["naswot"]) and not np.array_equal(a["naswot"], c["naswot"])


def test_bad_names_and_missing_images_are_refused(images):
    with pytest.raises(InvalidInputError, match="unknown cell feature 'grasp'"):
        parse_feature_names("params,grasp")
    with pytest.raises(InvalidInputError, match="named twice"):
        parse_feature_names("params,params")
    with pytest.raises(InvalidInputError, match="naswot read a batch of images"):
        cell_features(ARCHS, names=["params", "naswot"], settings=SMALL, progress=False)
    with pytest.raises(InvalidInputError, match="must be a positive integer"):
        ProxySettings(batch_size=0)
    assert set(cell_features(ARCHS, names="params,synflow", settings=SMALL, progress=False)) == {"params", "synflow"}
