"""Loading a predictor (or a checkpoint) runs no code from the file; legacy pickles need trust."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from gcnas.cli import build_parser, main
from gcnas.exceptions import CorruptFileError, InvalidInputError
from gcnas.predictors import GBTPredictor, load_predictor, make_predictor
from gcnas.predictors.gbt import forest_arrays, forest_predict
from gcnas.predictors.mlp import one_hot_matrix
from gcnas.predictors.persist import pickle_imports
from gcnas.spaces.nb201 import NB201Space

TINY = {
    "gcn": dict(hidden=8, layers=1, ensemble=2, epochs=3, isomorphs=0, cost_feature=False),
    "mlp": dict(hidden=8, layers=1, ensemble=2, epochs=3),
    "gbt": dict(n_estimators=15, ensemble=2),
    "gp": dict(),
}


class _WritesMarker:
    """Unpickling this runs ``exec``: it creates the marker file (what an attacker's file would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def _crafted(path, marker, kind):
    payload = {"format": "gcnas-predictor-1", "name": "gbt", "params": {}, "state": {"x": _WritesMarker(marker)}}
    if kind == "torch":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=4))
    return path


@pytest.fixture(scope="module")
def data():
    archs = NB201Space().sample_many(40, seed=2)
    return archs, np.array([70 + sum(a.ops) + 0.5 * a.ops[3] for a in archs])


@pytest.mark.parametrize("name", sorted(TINY))
def test_round_trip_is_exact_and_plain(name, data, tmp_path):
    archs, y = data
    model = make_predictor(name, seed=0, **TINY[name]).fit(archs[:25], y[:25])
    path = model.save(tmp_path / "p.pt")
    assert pickle_imports(path) == []  # tensors and plain values only
    assert torch.load(path, weights_only=True)["format"] == "gcnas-predictor-2"
    again = load_predictor(path)
    assert type(again) is type(model) and again.get_params() == model.get_params()
    for before, after in zip(model.predict(archs, return_std=True), again.predict(archs, return_std=True)):
        np.testing.assert_array_equal(after, before)


def test_gbt_arrays_predict_as_scikit_learn(data):
    from sklearn.ensemble import GradientBoostingRegressor

    archs, y = data
    model = GradientBoostingRegressor(n_estimators=40, max_depth=3, subsample=0.8, random_state=3)
    model.fit(one_hot_matrix(archs[:25]), y[:25])
    x = one_hot_matrix(NB201Space().sample_many(500, seed=9))
    np.testing.assert_array_equal(forest_predict(forest_arrays(model), x.astype(np.float32)), model.predict(x))


@pytest.mark.parametrize("kind", ["torch", "pickle"])
def test_crafted_file_is_refused_and_runs_nothing(tmp_path, kind):
    marker = tmp_path / "marker"
    path = _crafted(tmp_path / "predictor.pt", marker, kind)
    with pytest.raises(InvalidInputError, match=r"full pickle: loading it would import and run builtins\.exec.*"
                                                r"--trust-pickle"):
        load_predictor(path)
    assert not marker.exists()
    if kind == "torch":  # the file is really hostile: an unsafe load runs it
        torch.load(path, weights_only=False)
    else:
        pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("argv", [["lut", "build"], ["predictor", "eval", "--table", "TABLE", "--metric", "test_acc"]])
def test_crafted_file_through_the_cli(tmp_path, capsys, small_table, argv):
    marker = tmp_path / "marker"
    run = tmp_path / "run"
    run.mkdir()
    _crafted(run / "predictor.pt", marker, "torch")
    argv = [str(small_table.path) if a == "TABLE" else a for a in argv]
    code = main([*argv, "--run", str(run)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"gcnas {argv[0]}: error: " in err and "full pickle" in err and "--trust-pickle" in err
    assert not marker.exists()


def test_legacy_pickle_loads_only_when_trusted(data, tmp_path):
    from sklearn.ensemble import GradientBoostingRegressor

    archs, y = data
    x, z = one_hot_matrix(archs[:25]), (y[:25] - y[:25].mean()) / y[:25].std()
    members = [GradientBoostingRegressor(n_estimators=15, random_state=s).fit(x, z) for s in (1, 2)]
    params = GBTPredictor(n_estimators=15, learning_rate=0.1, subsample=1.0, ensemble=2).get_params()
    legacy = tmp_path / "legacy.pt"  # what gcnas 0.1 wrote: the scikit-learn members pickled whole
    torch.save({"format": "gcnas-predictor-1", "name": "gbt", "params": params,
                "state": {"y_mean_": float(y[:25].mean()), "y_scale_": float(y[:25].std()), "n_train_": 25,
                          "models_": members}}, legacy)
    with pytest.raises(InvalidInputError, match="sklearn.ensemble._gb.GradientBoostingRegressor"):
        load_predictor(legacy)
    model = load_predictor(legacy, trust_pickle=True)
    expected = np.mean([m.predict(one_hot_matrix(archs)) for m in members], 0) * y[:25].std() + y[:25].mean()
    np.testing.assert_allclose(model.predict(archs), expected, rtol=1e-12)
    np.testing.assert_array_equal(load_predictor(model.save(tmp_path / "new.pt")).predict(archs), model.predict(archs))


def test_legacy_file_of_plain_values_still_loads(data, tmp_path):
    archs, y = data
    model = make_predictor("mlp", seed=0, **TINY["mlp"]).fit(archs[:25], y[:25])
    legacy = tmp_path / "legacy.pt"  # gcnas 0.1's MLP file holds tensors and numbers only: no trust needed
    torch.save({"format": "gcnas-predictor-1", "name": "mlp", "params": model.get_params(),
                "state": model._state()}, legacy)
    np.testing.assert_array_equal(load_predictor(legacy).predict(archs), model.predict(archs))


def test_trust_pickle_flags():
    parser = build_parser()
    for argv in (["lut", "build"], ["predictor", "eval"], ["search", "run"]):
        assert parser.parse_args([*argv, "--trust-pickle"]).trust_pickle is True
        assert parser.parse_args(argv).trust_pickle is False


def test_garbage_is_corrupt_not_a_pickle(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"\x80\x04junk that is no pickle")
    with pytest.raises(CorruptFileError, match="not a readable predictor file"):
        load_predictor(path)


def test_checkpoints_refuse_crafted_files(tmp_path):
    from gcnas.encoders import Arch2Vec
    from gcnas.supernet.checkpoint import read_checkpoint

    marker = tmp_path / "marker"
    path = _crafted(tmp_path / "crafted.pt", marker, "torch")
    with pytest.raises(CorruptFileError):
        read_checkpoint(path)
    with pytest.raises(CorruptFileError):
        Arch2Vec.load(path)
    assert not marker.exists()
