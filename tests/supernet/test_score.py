from __future__ import annotations

import math

import pytest
import torch

from gcnas.data import RunStore
from gcnas.data.images import ImageSplit
from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201 import Arch, NB201Space
from gcnas.supernet import evaluate, sample_subnets, score_subnet, train_standalone, train_supernet
from tests.supernet.conftest import TINY


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits):
    return train_supernet(tmp_path_factory.mktemp("run"), epochs=2, data=digits, **TINY)


def test_score_is_order_independent_and_restores_bn(trained, digits):
    net = trained.supernet
    before = {k: v.clone() for k, v in net.state_dict().items()}
    a, b = Arch.from_code(10371), Arch.from_code(7868)
    first = score_subnet(trained, a, digits, bn_recalibrate=2, limit=2)
    score_subnet(trained, b, digits, bn_recalibrate=2, limit=2)
    assert score_subnet(trained, a, digits, bn_recalibrate=2, limit=2) == first
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())
    accuracy, loss = first
    correct = accuracy * 512 / 100                     # 2 batches of 256 validation images
    assert correct == pytest.approx(round(correct), abs=1e-9) and loss > 0


class _Threshold(torch.nn.Module):
    """Answers class 1 for a white image and class 0 for a black one, with logit margin 2."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        white = x.mean(dim=(1, 2, 3))
        return torch.stack([2 * (1 - white), 2 * white], dim=1)


def test_evaluate_is_correct_answers_over_all_images_in_percent():
    # 7 one-pixel images; batches of 3, 3 and 1: a mean of per-batch accuracies would give 77.8
    white = torch.tensor([0, 1, 1, 0, 1, 0, 0])
    labels = torch.tensor([0, 1, 0, 0, 1, 1, 0])          # right on images 0, 1, 3, 4, 6
    images = (255 * white).to(torch.uint8).view(7, 1, 1, 1).expand(7, 3, 1, 1).contiguous()
    split = ImageSplit(images, labels, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    right, wrong = math.log1p(math.exp(-2)), math.log1p(math.exp(2))   # cross-entropy at margin +-2
    accuracy, loss = evaluate(_Threshold(), split, batch_size=3)
    assert accuracy == pytest.approx(100 * 5 / 7, rel=1e-12)
    assert loss == pytest.approx((5 * right + 2 * wrong) / 7, rel=1e-6)
    accuracy, loss = evaluate(_Threshold(), split, batch_size=3, limit=1)   # images 0, 1, 2 only
    assert accuracy == pytest.approx(100 * 2 / 3, rel=1e-12)
    assert loss == pytest.approx((2 * right + wrong) / 3, rel=1e-6)


def test_recalibration_changes_the_score(trained, digits):
    arch = Arch.from_code(10371)
    assert score_subnet(trained, arch, digits, bn_recalibrate=0, limit=2) != \
        score_subnet(trained, arch, digits, bn_recalibrate=2, limit=2)


def test_score_bad_input(trained, digits):
    with pytest.raises(InvalidInputError, match="split must be 'valid' or 'test'"):
        score_subnet(trained, Arch.from_code(1), digits, split="train")
    with pytest.raises(InvalidInputError, match="arch must be an Arch"):
        score_subnet(trained, "|none~0|", digits)
    with pytest.raises(InvalidInputError, match="bn_recalibrate must be >= 0"):
        score_subnet(trained, Arch.from_code(1), digits, bn_recalibrate=-1)


def test_sample_subnets_writes_store_and_resumes(tmp_path, trained, digits):
    store = RunStore(tmp_path)
    samples = sample_subnets(store, trained, digits, num=4, seed=1, bn_recalibrate=1, limit=1, progress=False)
    archs = [s.arch for s in samples]
    assert len(set(archs)) == 4 and all(a.is_canonical() for a in archs)
    assert [s.arch for s in store.samples("supernet")] == archs
    more = NB201Space().sample_many(2, seed=9, canonical=True)
    again = sample_subnets(store, trained, digits, num=0, archs=archs + more, bn_recalibrate=1, limit=1,
                           progress=False)
    assert again[:4] == samples  # finished work is read back, not redone
    assert len(store.samples("supernet")) == len(set(archs + more))
    with pytest.raises(InvalidInputError, match="num must be positive"):
        sample_subnets(store, trained, digits, num=0, progress=False)


def test_train_standalone_learns(digits):
    good = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                            "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    result = train_standalone(good, data=digits, epochs=3, channels=4, cells=1, batch_size=32, device="cpu")
    assert result["arch"] == str(good) and result["epochs"] == 3
    assert result["test_accuracy"] > 30.0  # chance is 10% on ten digits
    dead = train_standalone(Arch.from_code(0), data=digits, epochs=1, channels=4, cells=1, steps_per_epoch=2,
                            device="cpu")
    assert dead["params_m"] < result["params_m"]
    with pytest.raises(InvalidInputError, match="epochs must be positive"):
        train_standalone(good, data=digits, epochs=0)
