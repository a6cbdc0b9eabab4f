"""The image-folder reader: layout, splits, resizing, the decode cache and its errors."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gcnas.data import load_images
from gcnas.data.image_folder import read_image_folder
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError

@pytest.fixture
def write_folder(image_folder_factory):
    return image_folder_factory


@pytest.fixture
def folder(tmp_path, write_folder):
    return write_folder(tmp_path / "images")


def test_layout_becomes_nb201_splits(folder, tmp_path):
    data = load_images("imagefolder", root=folder, image_size=8, cache_dir=tmp_path / "cache", progress=False)
    assert (len(data.train), len(data.valid), len(data.test)) == (9, 9, 6)
    assert data.num_classes == 3 and data.image_size == 8 and data.train.x.dtype == torch.uint8
    assert data.train.augment and not data.valid.augment
    # train/ is cut in two halves, test/ stays whole; labels follow the sorted class names
    assert sorted(torch.cat([data.train.y, data.valid.y]).tolist()) == [0] * 6 + [1] * 6 + [2] * 6
    assert sorted(data.test.y.tolist()) == [0, 0, 1, 1, 2, 2]
    # the colour of each image says its class: pixels and labels stayed together
    for split in (data.train, data.valid, data.test):
        level = split.x.float().mean((1, 2, 3))
        assert torch.equal(((level - 20) / 60).round().long(), split.y)
    again = load_images("imagefolder", root=folder, image_size=8, cache_dir=tmp_path / "cache", progress=False)
    assert torch.equal(again.valid.x, data.valid.x)  # the split seed is fixed


def test_other_sizes_are_resized(folder, tmp_path, write_folder):
    write_folder(folder, train=6, test=2, size=12, classes=("cat",))  # overwrite one class with 12x12 images
    data = read_image_folder(folder, image_size=8, cache_dir=tmp_path / "cache", progress=False)
    assert data.x_train.shape == (18, 3, 8, 8) and data.x_test.shape == (6, 3, 8, 8)
    big = read_image_folder(folder, image_size=16, cache_dir=tmp_path / "cache", progress=False)
    assert big.x_train.shape == (18, 3, 16, 16) and big.cache_file != data.cache_file


def test_second_load_reads_the_cache_and_a_change_is_noticed(folder, tmp_path):
    cache = tmp_path / "cache"
    first = read_image_folder(folder, image_size=8, cache_dir=cache, progress=False)
    assert not first.from_cache and first.cache_file.exists()
    second = read_image_folder(folder, image_size=8, cache_dir=cache, progress=False)
    assert second.from_cache and np.array_equal(second.x_train, first.x_train)
    time.sleep(0.01)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "train" / "dog" / "000.png")
    changed = read_image_folder(folder, image_size=8, cache_dir=cache, progress=False)
    assert not changed.from_cache and changed.cache_file != first.cache_file
    assert not np.array_equal(changed.x_train, first.x_train)
    first.cache_file.unlink()
    changed.cache_file.write_bytes(b"not an npz")  # a damaged cache is decoded again
    assert not read_image_folder(folder, image_size=8, cache_dir=cache, progress=False).from_cache


def test_missing_splits_and_roots(tmp_path, write_folder):
    with pytest.raises(DataNotFoundError, match="needs --data-root"):
        load_images("imagefolder")
    with pytest.raises(DataNotFoundError, match="is not a directory"):
        read_image_folder(tmp_path / "nope")
    root = write_folder(tmp_path / "a")
    for part in (root / "test").iterdir():
        for f in part.iterdir():
            f.unlink()
        part.rmdir()
    (root / "test").rmdir()
    with pytest.raises(DataNotFoundError, match="has no test/ directory"):
        read_image_folder(root, cache_dir=tmp_path / "cache")


def test_class_in_one_split_only(tmp_path, write_folder):
    root = write_folder(tmp_path / "a")
    write_folder(tmp_path / "a", classes=("zebra",), test=0, train=3)
    (root / "test" / "zebra").rmdir()
    with pytest.raises(InvalidInputError, match=r"only in train/: \['zebra'\]"):
        read_image_folder(root, cache_dir=tmp_path / "cache")


def test_empty_class_and_single_image(tmp_path, write_folder):
    root = write_folder(tmp_path / "a")
    (root / "train" / "empty").mkdir()
    (root / "test" / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="'empty' .* hold no image"):
        read_image_folder(root, cache_dir=tmp_path / "cache")
    single = write_folder(tmp_path / "b", train=1, test=1)
    with pytest.raises(InvalidInputError, match="single image in train/"):
        read_image_folder(single, cache_dir=tmp_path / "cache")


def test_unreadable_image_is_named(tmp_path, write_folder):
    root = write_folder(tmp_path / "a")
    bad = root / "train" / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(CorruptFileError, match="broken.png"):
        read_image_folder(root, cache_dir=tmp_path / "cache", progress=False)
