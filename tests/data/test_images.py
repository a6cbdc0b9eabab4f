from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from gcnas.data import DATASETS, load_images
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError


def test_digits_splits_are_fixed_and_disjoint():
    data = load_images("digits")
    assert (len(data.train), len(data.valid), len(data.test)) == (675, 675, 447)
    assert data.num_classes == 10 and data.image_size == 16
    assert data.train.x.dtype == torch.uint8 and data.train.x.shape[1:] == (3, 16, 16)
    rows = lambda s: {bytes(x.numpy()) for x in s.x}  # noqa: E731
    assert not rows(data.train) & rows(data.test)
    assert torch.equal(load_images("digits").valid.y, data.valid.y)
    x, _ = next(data.train.batches(675))
    assert abs(float(x.mean())) < 1e-3 and abs(float(x.std()) - 1) < 0.05  # normalised by train statistics


def test_batches_are_seeded_sharded_and_augmented():
    split = load_images("synthetic", num=200).train
    first = [y for _, y in split.batches(16, shuffle=True, seed=1)]
    assert all(torch.equal(a, b) for a, b in zip(first, [y for _, y in split.batches(16, shuffle=True, seed=1)]))
    assert not torch.equal(torch.cat(first), torch.cat([y for _, y in split.batches(16, shuffle=True, seed=2)]))
    ranks = [torch.cat([y for _, y in split.batches(16, rank=r, world_size=2)]) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) and split.num_batches(16, world_size=2) == 3
    plain = next(split.batches(8, seed=3))[0]
    augmented = next(split.batches(8, seed=3, augment=True))[0]
    assert augmented.shape == plain.shape and not torch.equal(augmented, plain)
    assert split.num_batches(16, limit=2) == 2 and len(list(split.batches(16, limit=2))) == 2


def test_bad_names_and_roots(tmp_path):
    assert DATASETS == ("digits", "synthetic", "cifar10", "cifar100", "imagenet16-120", "imagefolder")
    with pytest.raises(InvalidInputError, match="unknown dataset 'mnist'; choose one of digits"):
        load_images("mnist")
    with pytest.raises(DataNotFoundError, match="needs --data-root"):
        load_images("cifar100")
    with pytest.raises(DataNotFoundError, match="cifar10 not found under .*cifar-10-batches-py"):
        load_images("cifar10", root=tmp_path)
    with pytest.raises(DataNotFoundError, match="is not a directory"):
        load_images("imagenet16-120", root=tmp_path / "nope")
    with pytest.raises(InvalidInputError, match="num >= 40"):
        load_images("synthetic", num=10)


def write_cifar10(root, x_train, y_train, x_test, y_test):
    """CIFAR-10 in its official python format (5 train batches, a test batch, meta); x is (N, 32, 32, 3)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    flat = lambda x: np.ascontiguousarray(x.transpose(0, 3, 1, 2)).reshape(len(x), 3072)  # noqa: E731
    for i, (xs, ys) in enumerate(zip(np.array_split(x_train, 5), np.array_split(y_train, 5)), 1):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps({"data": flat(xs), "labels": ys.tolist()}))
    (folder / "test_batch").write_bytes(pickle.dumps({"data": flat(x_test), "labels": y_test.tolist()}))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"c{i}" for i in range(10)]}))


@pytest.fixture
def trust_fixture_md5(monkeypatch):
    """torchvision checks the official MD5s; our fixtures are other files in the same format."""
    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)
    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)


def test_cifar10_nb201_split_through_torchvision(tmp_path, trust_fixture_md5):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 60)
    write_cifar10(tmp_path, images[:40], labels[:40], images[40:], labels[40:])
    data = load_images("cifar10", root=tmp_path)
    assert (len(data.train), len(data.valid), len(data.test)) == (20, 20, 20)  # train/valid halves of train
    assert data.train.augment and not data.valid.augment and data.image_size == 32
    pixels = {bytes(x.numpy()) for x in torch.cat([data.train.x, data.valid.x])}
    assert pixels == {bytes(x.transpose(2, 0, 1).tobytes()) for x in images[:40]}
    assert torch.equal(data.test.y, torch.from_numpy(labels[40:]))


def test_cifar10_real_pixels(tmp_path, trust_fixture_md5):
    from tests.conftest import shared_file

    subset = np.load(shared_file("images/cifar10_subset_2x500.npz"))
    write_cifar10(tmp_path, subset["x_train"], subset["y_train"], subset["x_test"], subset["y_test"])
    data = load_images("cifar10", root=tmp_path)
    # CIFAR-10's published channel means are (0.491, 0.482, 0.447): 250 real images land close.
    assert np.allclose(data.train.mean, (0.491, 0.482, 0.447), atol=0.03)
    assert sorted(torch.bincount(data.test.y).tolist()) == [50] * 10


def write_imagenet16(folder, per_batch=12, n_val=30, seed=0):
    """ImageNet16 in NAS-Bench-201's format: pickled dicts, 'data' (N, 3*16*16) uint8, labels 1..1000."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]
    for name in names:
        n = n_val if name == "val_data" else per_batch
        labels = rng.integers(1, 241, n)  # half of them outside the 120 kept classes
        entry = {"data": rng.integers(0, 256, (n, 768), dtype=np.uint8), "labels": labels.tolist()}
        (folder / name).write_bytes(pickle.dumps(entry))


def test_imagenet16_120_reads_nb201_format(tmp_path):
    write_imagenet16(tmp_path / "ImageNet16")
    data = load_images("imagenet16-120", root=tmp_path)  # the parent folder works too
    assert data.num_classes == 120 and data.image_size == 16
    labels = torch.cat([data.train.y, data.valid.y, data.test.y])
    assert int(labels.min()) >= 0 and int(labels.max()) < 120
    with open(tmp_path / "ImageNet16" / "val_data", "rb") as handle:
        kept = sum(1 for label in pickle.load(handle)["labels"] if label <= 120)
    assert len(data.valid) + len(data.test) == kept and abs(len(data.valid) - len(data.test)) <= 1


def test_imagenet16_missing_and_corrupt(tmp_path):
    write_imagenet16(tmp_path)
    (tmp_path / "train_data_batch_3").write_bytes(b"garbage")
    with pytest.raises(CorruptFileError, match="train_data_batch_3.* is not an ImageNet16 batch"):
        load_images("imagenet16-120", root=tmp_path)
    (tmp_path / "val_data").unlink()
    with pytest.raises(DataNotFoundError, match="missing .*val_data"):
        load_images("imagenet16-120", root=tmp_path)
