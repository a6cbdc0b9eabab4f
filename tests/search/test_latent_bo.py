import numpy as np
import pytest

from gcnas.data import RunStore
from gcnas.encoders import Arch2Vec
from gcnas.exceptions import InvalidInputError
from gcnas.search import CallableObjective, LatentSpaceBO, run_search
from gcnas.space import NB201Space

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
    # proposals after the random start are at least as good as the start, on this smooth score
    values = result.values("quality")
    assert values[5:].mean() >= values[:5].mean() - 0.25


def test_latent_bo_rejects_bad_encoders():
    with pytest.raises(InvalidInputError, match="needs a fitted encoder"):
        LatentSpaceBO(object())
    with pytest.raises(InvalidInputError, match="raw_samples must be an integer"):
        LatentSpaceBO(Arch2Vec(), raw_samples=0)
