import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.encoders import Arch2Vec
from gcnas.exceptions import InvalidInputError
from gcnas.search import CallableObjective, LatentSpaceBO, run_search
from gcnas.spaces.nb201 import Arch, NB201Space

pytestmark = pytest.mark.filterwarnings("ignore")

QUALITY = (0.0, 0.5, 0.8, 1.0, 0.3)


@pytest.fixture(scope="module")
def encoder():
    return Arch2Vec(latent_dim=6, hidden_dim=32, num_layers=2, epochs=3, decoder_epochs=10, holdout=0.0,
                    seed=0).fit(NB201Space().sample_many(600, seed=0), progress=False)


def score(arch):
    return float(sum(QUALITY[op] for op in arch.ops))


def test_latent_bo_decodes_distinct_cells_and_resumes(encoder, tmp_path, killed_search):
    evaluated = []

    def objective(arch):
        evaluated.append(arch.code)
        return score(arch)

    acc = CallableObjective("quality", fn=objective)

    def make():
        return LatentSpaceBO(encoder, n_init=5, raw_samples=64, num_restarts=2, mc_samples=16)

    killed_search(make(), [acc], tmp_path / "run", at=9, budget=14, q=2)
    with RunStore(tmp_path / "run") as store:
        bo = make()
        result = run_search(bo, [acc], budget=14, store=store, q=2)
    assert len(result) == 14 and len(evaluated) == len(set(evaluated)) == 14
    assert not bo.enumerates and set(bo.last_timing_) == {"fit_s", "refit", "acquisition_s"}


class OrdinalEncoder:
    """A latent space made to be searched: each edge's op placed on [0, 1] in order of its quality.

    ``encode`` is exact and ``decode`` rounds back to the nearest cell, so the score is a
    smooth, increasing function of every latent coordinate. What is tested with it is the
    BO loop (model, acquisition, optimiser, decoding), not how well a tiny arch2vec trained.
    """

    position = np.argsort(np.argsort(QUALITY)) / 4        # op id -> its place, worst op at 0
    by_place = np.argsort(QUALITY)                         # place (0..4) -> op id

    def encode(self, archs):
        return np.array([[self.position[op] for op in a.ops] for a in archs], dtype=np.float64)

    def decode(self, z):
        places = np.clip(np.rint(np.asarray(z, dtype=np.float64).reshape(-1, 6) * 4), 0, 4).astype(int)
        return [Arch(tuple(int(self.by_place[p]) for p in row)) for row in places]


def test_latent_bo_improves_on_its_own_random_start():
    start, after = [], []
    for seed in (0, 1):
        bo = LatentSpaceBO(OrdinalEncoder(), n_init=5, raw_samples=64, num_restarts=2, mc_samples=16,
                           space=NB201Space())
        values = run_search(bo, [CallableObjective("quality", fn=score)], budget=14, q=2, seed=seed).values("quality")
        start.extend(values[:5])
        after.extend(values[5:])
    # Random cells score 3.1 on average (max 6). Measured: start 2.7, proposals 4.6; with the
    # objective's sign flipped in the model 1.3, with random proposals 3.5.
    assert np.mean(after) >= 4.0 and np.mean(after) >= np.mean(start) + 1.0


def test_latent_bo_records_a_failed_fit_on_the_trials_of_its_step(monkeypatch):
    import botorch.fit
    from botorch.exceptions.errors import ModelFittingError

    from gcnas.exceptions import FitFailedWarning

    def fail(*args, **kwargs):
        raise ModelFittingError("All attempts to fit the model have failed.")

    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", fail)
    bo = LatentSpaceBO(OrdinalEncoder(), n_init=4, raw_samples=32, num_restarts=1, mc_samples=8, space=NB201Space())
    with pytest.warns(FitFailedWarning):
        result = run_search(bo, [CallableObjective("quality", fn=score)], budget=6, seed=0)
    notes = [t.report.get("gp_fit_error") for t in result.trials]
    assert notes[:4] == [None] * 4                         # the random start fits nothing
    assert all(n and n.startswith("ModelFittingError: All attempts") for n in notes[4:])


def test_latent_bo_on_darts_decodes_distinct_valid_cells():
    """The same loop on a space that cannot be listed: cells told apart by space.key, decoded by Arch2Vec."""
    from gcnas.spaces import get_space

    space = get_space("darts")
    encoder = Arch2Vec(latent_dim=4, space=space, hidden_dim=16, num_layers=1, epochs=1, decoder_epochs=3,
                       refine_steps=2, sample_size=200, holdout=0.0, seed=0).fit(progress=False)

    def convs(cell):  # separable convolutions in the normal cell: a score with room to improve
        return float(sum(op.startswith("sep") for op, _ in cell.normal))

    bo = LatentSpaceBO(encoder, n_init=4, raw_samples=32, num_restarts=1, mc_samples=8, reference_size=64)
    result = run_search(bo, [CallableObjective("convs", fn=convs)], budget=8, seed=0)
    keys = [space.key(t.arch) for t in result.trials]
    assert len(keys) == len(set(keys)) == 8
    assert all(space.parse(space.format(t.arch)) == t.arch for t in result.trials)


def test_latent_bo_needs_a_space():
    bo = LatentSpaceBO(OrdinalEncoder(), n_init=2)
    with pytest.raises(InvalidInputError, match="needs to know the search space"):
        bo.prepare()


def test_latent_bo_rejects_bad_encoders():
    with pytest.raises(InvalidInputError, match="needs a fitted encoder"):
        LatentSpaceBO(object())
    with pytest.raises(InvalidInputError, match="raw_samples must be an integer"):
        LatentSpaceBO(Arch2Vec(), raw_samples=0)
