"""The ``zc`` feature spec: cached per-cell proxies (params, FLOPs, synflow, ...) as BO features."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.data.table_specs import open_table
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201.counts import network_costs_many
from gcnas.predictors.features import ProxySettings
from gcnas.search import BayesianOptimization, TableObjective, make_features, onehot_features, run_search
from gcnas.search.features import ConcatFeatures, ProxyFeatures
from gcnas.spaces.nb201 import Arch, NB201Space

CANONICAL = [a for a in NB201Space().all_archs() if a.is_canonical()]
# two isomorphic cells: node 1 is node 0 (a skip), so a 1x1 convolution of either is one function
TWINS = [Arch.from_string("|skip_connect~0|+|skip_connect~0|skip_connect~1|"
                          "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"),
         Arch.from_string("|skip_connect~0|+|skip_connect~0|skip_connect~1|"
                          "+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")]


def fake_synflow(codes) -> np.ndarray:
    """A stand-in for the cached synflow (log1p scale): one value per canonical code."""
    return 10.0 + (np.asarray(codes) % 97) / 10.0


@pytest.fixture(scope="module")
def synflow_run(tmp_path_factory):
    """A run whose store caches synflow (under the default settings) for every canonical cell."""
    run = tmp_path_factory.mktemp("zc")
    with RunStore(run) as store:
        key = ProxySettings().key("synflow", None, 32)
        store.write_features("synflow", key, CANONICAL, fake_synflow([a.code for a in CANONICAL]))
    return run


def test_twins_share_a_canonical_cell():
    assert TWINS[0].code != TWINS[1].code and TWINS[0].canonical() == TWINS[1].canonical()


def test_zc_is_log_params_log_flops_and_the_cached_synflow(synflow_run):
    archs = [Arch.from_code(c) for c in (0, 7, 4000, 15624)] + TWINS
    with RunStore(synflow_run, mode="ro") as store:
        feats = make_features("zc", store=store)
        X = feats(archs)
    assert isinstance(feats, ProxyFeatures) and feats.names == ("params", "flops", "synflow")
    assert X.shape == (len(archs), 3) and X.dtype == np.float64 and np.isfinite(X).all()
    canonical = [a.canonical() for a in archs]
    counts = network_costs_many(canonical, channels=16, cells=5, num_classes=10, input_size=32)
    assert np.allclose(X[:, 0], np.log(counts["params_m"]))
    assert np.allclose(X[:, 1], np.log(counts["flops_m"]))
    assert np.allclose(X[:, 2], fake_synflow([a.code for a in canonical]))
    assert np.array_equal(X[-2], X[-1])                       # isomorphic cells: one row
    assert not np.array_equal(X[1], X[2])


def test_named_features_keep_their_order_and_join_with_other_maps(synflow_run):
    archs = [Arch.from_code(c) for c in (3, 999, 12000)]
    with RunStore(synflow_run, mode="ro") as store:
        zc = make_features("zc", store=store)(archs)
        assert np.array_equal(make_features("zc:synflow,params", store=store)(archs), zc[:, [2, 0]])
        joined = make_features("onehot+zc", store=store)
        assert isinstance(joined, ConcatFeatures)
        assert np.array_equal(joined(archs), np.column_stack([onehot_features(archs), zc]))


def test_counted_features_need_no_store_and_are_cached_in_a_writable_one(tmp_path):
    archs = [Arch.from_code(c) for c in (5, 600)] + TWINS
    X = make_features("zc:params,flops")(archs)
    assert X.shape == (4, 2)
    with RunStore(tmp_path) as store:
        assert np.array_equal(ProxyFeatures(["params", "flops"], store=store)(archs), X)
        stored = store.features("params", ProxySettings().key("params", None, 32))
    assert set(stored) == {a.canonical() for a in archs}       # one value per canonical cell
    assert np.allclose(np.log([stored[a.canonical()] for a in archs]), X[:, 0])


@pytest.mark.parametrize("spec, store, message", [
    ("zc", "empty", r"has no cached synflow under settings C16-N5-k10-s32-seed0 for 1 of the 1 canonical cells"),
    ("zc", None, "need a run store holding synflow"),
    ("zc:params,naswot", "empty", r"no cached naswot .*names=\['naswot'\], images=BATCH"),
    ("zc:params,grasp", "empty", "unknown cell feature 'grasp'"),
    ("zc:params,params", "empty", "named twice"),
    ("zc:", "empty", "at least one feature name"),
])
def test_missing_or_bad_features_are_refused_with_the_fix(tmp_path, spec, store, message):
    with RunStore(tmp_path) as run:
        with pytest.raises(InvalidInputError, match=message) as error:
            make_features(spec, store=run if store else None)([Arch.from_code(1234)])
    if "no cached" in message or "need a run store" in message:
        assert "cell_features(" in str(error.value) and "leave" in str(error.value)


def test_other_settings_are_named_and_an_undefined_score_takes_the_lowest(tmp_path):
    archs = [CANONICAL[100], CANONICAL[3000], CANONICAL[6000]]
    with RunStore(tmp_path) as store:
        store.write_features("synflow", ProxySettings(num_classes=100).key("synflow", None, 32), archs, [1, 2, 3])
        with pytest.raises(InvalidInputError, match=r"under other settings: C16-N5-k100-s32-seed0 \(3 cells\)"):
            ProxyFeatures(["synflow"], store=store)(archs)
        batch = "C16-N5-k10-s32-seed0-batchabc"
        store.write_features("naswot", batch, archs, [-np.inf, 5.0, 7.0])     # stored as NULL: undefined
        X = ProxyFeatures(["naswot"], store=store)(archs)
    assert X[:, 0].tolist() == [5.0, 5.0, 7.0]


def test_bo_searches_with_proxy_features(synflow_run):
    table = open_table("nb201:cifar10")
    with RunStore(synflow_run, mode="ro") as store:
        bo = BayesianOptimization(features="onehot+stats+zc", store=store, n_init=4, refit_every=3)
        result = run_search(bo, [TableObjective("valid_acc", table=table)], budget=8, seed=3)
    assert bo.X_.shape == (15625, 30 + 10 + 3)
    assert bo.X_.min() == 0.0 and bo.X_.max() == 1.0
    codes = [t.arch.code for t in result.trials]
    assert len(codes) == 8 and len(set(codes)) == 8


def test_cli_search_takes_zc_features_from_the_run(tmp_path, capsys):
    from gcnas.cli import main

    run = tmp_path / "r"
    args = ["search", "run", "--run", str(run), "--method", "bo", "--budget", "6", "--n-init", "3",
            "--features", "onehot+stats+zc", "--accuracy-from", "nb201:cifar10:valid_acc", "--format", "json"]
    assert main(args) == 1                                # the run caches no synflow yet
    assert "has no cached synflow" in capsys.readouterr().err
    with RunStore(run) as store:
        store.write_features("synflow", ProxySettings().key("synflow", None, 32), CANONICAL,
                             fake_synflow([a.code for a in CANONICAL]))
    assert main(args) == 0
    capsys.readouterr()
    with RunStore(run, mode="ro") as store:
        assert len(store.trials("bo")) == 6
        assert len(store.features("params", ProxySettings().key("params", None, 32))) == len(CANONICAL)
