"""Feature maps of the BO surrogate: one-hot, statistics, stored embeddings, joined maps."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.encoders import graph_statistics
from gcnas.exceptions import InvalidInputError
from gcnas.search import ConcatFeatures, EmbeddingFeatures, make_features, onehot_features, stats_features
from gcnas.search.features import FeatureMap
from gcnas.spaces.nb201 import Arch

ARCHS = [Arch.from_code(c) for c in (7, 4000, 15624)]


def test_onehot_marks_each_edge_op():
    arch = Arch.from_string("|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|")
    features = onehot_features([arch, Arch.from_code(0)])
    assert features.shape == (2, 30) and features.dtype == np.float64
    assert np.flatnonzero(features[0]).tolist() == [5 * edge + op for edge, op in enumerate((0, 1, 2, 3, 4, 0))]
    assert np.flatnonzero(features[1]).tolist() == [0, 5, 10, 15, 20, 25]       # every edge none
    assert onehot_features([]).shape == (0, 30)


def test_named_maps_and_joins_keep_their_column_order():
    onehot, stats = onehot_features(ARCHS), graph_statistics(ARCHS)
    assert np.array_equal(make_features("onehot")(ARCHS), onehot)
    assert np.array_equal(make_features("stats")(ARCHS), stats) and np.array_equal(stats_features(ARCHS), stats)
    assert np.array_equal(make_features("onehot+stats")(ARCHS), np.column_stack([onehot, stats]))
    assert np.array_equal(make_features("stats+onehot")(ARCHS), np.column_stack([stats, onehot]))
    custom: FeatureMap = lambda archs: np.array([[a.code] for a in archs], dtype=float)  # noqa: E731
    assert make_features(custom) is custom
    joined = ConcatFeatures([custom, lambda archs: [a.code % 7 for a in archs]])      # 1-D output: one column
    assert joined(ARCHS).tolist() == [[7.0, 0.0], [4000.0, 3.0], [15624.0, 0.0]]


@pytest.mark.parametrize("spec, message", [
    ("graph2vec", "unknown features 'graph2vec'"),
    ("onehot+", "must join distinct names"),
    ("onehot+onehot", "must join distinct names"),
    ("onehot+graph2vec", "unknown features 'graph2vec'"),
    ("arch2vec", "needs a run store"),
])
def test_bad_specs_are_refused(spec, message):
    with pytest.raises(InvalidInputError, match=message):
        make_features(spec)


def test_joining_nothing_is_refused():
    with pytest.raises(InvalidInputError, match="at least one feature map"):
        ConcatFeatures([])


def test_embeddings_are_looked_up_by_code_in_any_order():
    emb = EmbeddingFeatures([15624, 0, 5], np.arange(6.0).reshape(3, 2))
    archs = [Arch.from_code(c) for c in (5, 15624, 0, 5)]
    assert emb(archs).tolist() == [[4.0, 5.0], [0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert emb.dim == 2 and emb([]).shape == (0, 2)
    # a code between the known ones, and one beyond the largest known code
    small = EmbeddingFeatures([0, 5], np.ones((2, 2)))
    for missing in (Arch.from_code(3), Arch.from_code(6)):
        with pytest.raises(InvalidInputError, match=f"no arch2vec embedding for {re.escape(str(missing))}"):
            small([Arch.from_code(0), missing])
    with pytest.raises(InvalidInputError, match=r"\(2 missing\)"):
        small([Arch.from_code(1), Arch.from_code(2)])


@pytest.mark.parametrize("codes, vectors", [([0, 1], np.ones(2)), ([0, 1], np.ones((3, 2))), ([], np.ones((0, 2)))])
def test_embeddings_of_the_wrong_shape_are_refused(codes, vectors):
    with pytest.raises(InvalidInputError, match="must be \\(k, d\\) for k codes"):
        EmbeddingFeatures(codes, vectors)


def test_embeddings_from_the_run_store(tmp_path):
    archs = [Arch.from_code(c) for c in range(4)]
    with RunStore(tmp_path / "run") as store:
        with pytest.raises(InvalidInputError, match="no arch2vec embeddings"):
            make_features("arch2vec", store=store)
        store.write_embeddings("arch2vec", archs, np.eye(4, 3))
        assert make_features("arch2vec", store=store)(archs[::-1]).tolist() == np.eye(4, 3)[::-1].tolist()
        joined = make_features("arch2vec+onehot", store=store)(archs[1:2])
    assert np.array_equal(joined, np.column_stack([np.eye(4, 3)[1:2], onehot_features(archs[1:2])]))


def test_embeddings_from_an_npz_cache(tmp_path):
    path = tmp_path / "latent.npz"
    np.savez(path, codes=np.array([9, 2]), z=np.array([[1.0, 2.0], [3.0, 4.0]]))
    feats = make_features(str(path))
    assert feats([Arch.from_code(2), Arch.from_code(9)]).tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert feats.name == "latent"
    for name, arrays in (("no_z", {"codes": np.array([1])}), ("no_codes", {"z": np.ones((1, 2))})):
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(InvalidInputError, match="must hold arrays 'codes' and 'z'"):
            EmbeddingFeatures.from_npz(tmp_path / f"{name}.npz")
    with pytest.raises(InvalidInputError, match="not found"):
        make_features(str(tmp_path / "absent.npz"))
