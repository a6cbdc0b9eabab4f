"""Image datasets for supernet and standalone training, held in memory as uint8.

``load_images(name, ...)`` returns an :class:`ImageDataset` with NAS-Bench-201 splits:

============== ========================= ================================ ==============
name           train                      valid                            test
============== ========================= ================================ ==============
digits         half of 1,350 of sklearn's other half                        447 held out
               8x8 digits (16x16, RGB)
synthetic      ``num`` class-template     half of the rest                 other half
               images with noise
cifar10        half of the train set      other half of the train set      test set
cifar100       train set                  half of the test set             other half
imagenet16-120 train batches (120 cls)    half of ``val_data``             other half
imagefolder    half of ``ROOT/train``     other half of ``ROOT/train``     ``ROOT/test``
============== ========================= ================================ ==============

Splits are fixed (seed 0 of the data, independent of any training seed). CIFAR comes
through torchvision (``root`` holds ``cifar-10-batches-py`` / ``cifar-100-python``);
ImageNet16-120 is read from NAS-Bench-201's pickled batches (``train_data_batch_1..10``,
``val_data``, labels 1..1000 of which 1..120 are kept). ``imagefolder`` is a user's own
images in torchvision's ``ImageFolder`` layout (``ROOT/train/<class>/*``,
``ROOT/test/<class>/*``), decoded once into a cache (:mod:`gcnas.data.image_folder`).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError

if TYPE_CHECKING:  # torch is imported where used, so that `import gcnas.data` stays light
    import torch

__all__ = ["DATASET_SHAPES", "dataset_shape", "DATASETS", "ImageSplit", "ImageDataset", "load_images"]

DATASETS: tuple[str, ...] = ("digits", "synthetic", "cifar10", "cifar100", "imagenet16-120", "imagefolder")
DATASET_SHAPES: dict[str, tuple[int, int]] = {
    "cifar10": (10, 32),
    "cifar100": (100, 32),
    "imagenet16-120": (120, 16),
}
"""Dataset name -> ``(num_classes, input_size)`` as NAS-Bench-201 trains it."""


def dataset_shape(dataset: str) -> tuple[int, int]:
    """``(num_classes, input_size)`` of a NAS-Bench-201 dataset name.

    Args:
        dataset: ``cifar10``, ``cifar100`` or ``imagenet16-120`` (any case).

    Returns:
        The class count and the square input size.
    """
    key = str(dataset).lower()
    if key not in DATASET_SHAPES:
        raise InvalidInputError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASET_SHAPES)}")
    return DATASET_SHAPES[key]


_SPLIT_SEED = 0


@dataclass
class ImageSplit:
    """One split: uint8 images, labels and the normalisation of the training split.

    Attributes:
        x: ``(N, 3, H, W)`` uint8 images.
        y: ``(N,)`` int64 labels.
        mean: Per-channel mean of the training images, in [0, 1].
        std: Per-channel standard deviation of the training images.
        augment: Whether :meth:`batches` applies random crop (padding ``H // 8``) + flip.
    """

    x: torch.Tensor
    y: torch.Tensor
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    augment: bool = False

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 ``(N, 3, H, W)`` -> normalised float32."""
        import torch

        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        return (x.float() / 255.0 - mean) / std

    def batches(self, batch_size: int, *, shuffle: bool = False, seed: int | None = None,
                augment: bool | None = None, rank: int = 0, world_size: int = 1,
                limit: int | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Normalised ``(x, y)`` batches on CPU, deterministic given ``seed``.

        Args:
            batch_size: Images per batch (per process).
            shuffle: Draw a permutation from ``seed`` first.
            seed: Seed of the permutation and of the augmentation.
            augment: Override :attr:`augment`.
            rank: This process's rank; each rank takes every ``world_size``-th batch.
            world_size: Number of processes sharing the data.
            limit: Stop after this many batches (per process).

        Yields:
            ``(B, 3, H, W)`` float32 images and ``(B,)`` int64 labels.
        """
        import torch

        if batch_size < 1:
            raise InvalidInputError(f"batch_size must be positive, got {batch_size}")
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
        order = torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        augment = self.augment if augment is None else augment
        starts = list(range(0, len(self), batch_size))
        usable = len(starts) - len(starts) % world_size if world_size > 1 else len(starts)
        count = 0
        for i in range(rank, usable, world_size):
            if limit is not None and count >= limit:
                return
            index = order[starts[i]:starts[i] + batch_size]
            x = self.x[index]
            if augment:
                x = _crop_flip(x, generator)
            count += 1
            yield self.normalise(x), self.y[index]

    def num_batches(self, batch_size: int, world_size: int = 1, limit: int | None = None) -> int:
        """How many batches :meth:`batches` yields per process."""
        n = -(-len(self) // batch_size) // world_size
        return n if limit is None else min(n, limit)


@dataclass
class ImageDataset:
    """A dataset with NAS-Bench-201 style splits.

    Attributes:
        name: One of :data:`DATASETS`.
        train: Training split (network weights).
        valid: Validation split (architecture weights, sub-network scoring).
        test: Held-out split.
        num_classes: Number of classes.
    """

    name: str
    train: ImageSplit
    valid: ImageSplit
    test: ImageSplit
    num_classes: int

    @property
    def image_size(self) -> int:
        """Height (= width) of the images."""
        return int(self.train.x.shape[-1])

    def __repr__(self) -> str:
        return (f"ImageDataset({self.name!r}, train={len(self.train)}, valid={len(self.valid)}, "
                f"test={len(self.test)}, classes={self.num_classes}, size={self.image_size})")


def _crop_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    import torch
    import torch.nn.functional as F
    n, _, h, w = x.shape
    pad = max(h // 8, 1)
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    out[flip] = out[flip].flip(-1)
    return out


def _split(x: np.ndarray, y: np.ndarray, parts: list[int | None], augment: bool = False) -> list[ImageSplit]:
    """Shuffle with the fixed data seed and cut into ``parts`` (None = the rest)."""
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(y))
    sizes = [p if p is not None else len(y) - sum(q for q in parts if q is not None) for p in parts]
    bounds = np.cumsum([0, *sizes])
    return [_as_split(x[order[a:b]], y[order[a:b]], augment) for a, b in zip(bounds[:-1], bounds[1:])]


def _as_split(x: np.ndarray, y: np.ndarray, augment: bool) -> ImageSplit:
    import torch
    return ImageSplit(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64)),
                      (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), augment)


def _with_stats(train: ImageSplit, *others: ImageSplit, augment_train: bool) -> list[ImageSplit]:
    # Exact moments from per-channel histograms of the uint8 pixels: no float copy of the split.
    levels = np.arange(256, dtype=np.float64) / 255.0
    mean, std = [], []
    for channel in range(3):
        counts = np.bincount(train.x[:, channel].numpy().ravel(), minlength=256).astype(np.float64)
        m = float(counts @ levels / counts.sum())
        var = float(counts @ (levels - m) ** 2 / max(counts.sum() - 1, 1))
        mean.append(m)
        std.append(max(var ** 0.5, 1e-3))
    mean, std = tuple(mean), tuple(std)
    splits = [ImageSplit(train.x, train.y, mean, std, augment_train)]
    return splits + [ImageSplit(s.x, s.y, mean, std, False) for s in others]


def _digits() -> tuple[list[ImageSplit], int]:
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    images = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    x = (images.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, 3, 1, 1).numpy()
    train, valid, test = _split(x, bunch.target, [675, 675, None])
    return _with_stats(train, valid, test, augment_train=False), 10


def _synthetic(num: int, size: int = 16, classes: int = 10) -> tuple[list[ImageSplit], int]:
    import torch
    import torch.nn.functional as F
    if num < 4 * classes:
        raise InvalidInputError(f"synthetic dataset needs num >= {4 * classes} images, got {num}")
    rng = np.random.default_rng(_SPLIT_SEED)
    coarse = torch.from_numpy(rng.normal(size=(classes, 3, 4, 4)).astype(np.float32))
    templates = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False).numpy()
    y = rng.integers(0, classes, size=num)
    x = templates[y] + rng.normal(scale=0.8, size=(num, 3, size, size)).astype(np.float32)
    x = np.clip(128 + 40 * x, 0, 255).astype(np.uint8)
    rest = num - num // 2
    train, valid, test = _split(x, y, [num // 2, rest // 2, None])
    return _with_stats(train, valid, test, augment_train=False), classes


def _root(root: str | os.PathLike | None, name: str) -> Path:
    if root is None:
        hint = ("" if name == "imagefolder" else
                "; add --download to fetch CIFAR where the internet is reachable")
        raise DataNotFoundError(f"dataset {name!r} needs --data-root DIR (the folder holding its files){hint}")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(f"data root {str(path)!r} for {name!r} is not a directory")
    return path


def _cifar(name: str, root: str | os.PathLike | None, download: bool) -> tuple[list[ImageSplit], int]:
    from torchvision.datasets import CIFAR10, CIFAR100

    path = _root(root, name) if not download else Path(root or ".").expanduser()
    cls, classes = (CIFAR10, 10) if name == "cifar10" else (CIFAR100, 100)
    folder = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
    try:
        sets = [cls(str(path), train=t, download=download) for t in (True, False)]
    except RuntimeError as error:
        raise DataNotFoundError(f"{name} not found under {str(path)!r} (expected {folder}/ in the official python "
                                f"format); download it, or pass --download where the internet is reachable "
                                f"({error})") from None
    except OSError as error:
        raise DataNotFoundError(f"could not download {name} into {str(path)!r}: {error}") from None
    (xtr, ytr), (xte, yte) = [(s.data.transpose(0, 3, 1, 2), np.asarray(s.targets)) for s in sets]
    if name == "cifar10":
        train, valid = _split(xtr, ytr, [len(ytr) // 2, None], augment=True)
        test = _as_split(xte, yte, False)
    else:
        train = _as_split(xtr, ytr, True)
        valid, test = _split(xte, yte, [len(yte) // 2, None])
    return _with_stats(train, valid, test, augment_train=True), classes


def _read_imagenet16(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as handle:
            entry = pickle.load(handle, encoding="latin1")  # trusted: ImageNet16's official format is pickled batches
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 16, 16)
        labels = np.asarray(entry["labels"], dtype=np.int64) - 1
        if len(data) != len(labels):
            raise ValueError(f"{len(data)} images but {len(labels)} labels")
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as error:
        raise CorruptFileError(f"{str(path)!r} is not an ImageNet16 batch ({error!r}); "
                               "expected a pickled dict with 'data' (N, 768) uint8 and 'labels' 1..1000") from None
    keep = labels < 120
    return data[keep], labels[keep]


def _imagenet16(root: str | os.PathLike | None) -> tuple[list[ImageSplit], int]:
    path = _root(root, "imagenet16-120")
    if not (path / "val_data").exists() and (path / "ImageNet16" / "val_data").exists():
        path = path / "ImageNet16"
    names = [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]
    missing = [n for n in names if not (path / n).exists()]
    if missing:
        raise DataNotFoundError(f"ImageNet16-120 files missing under {str(path)!r}: {', '.join(missing)} "
                                "(NAS-Bench-201's ImageNet16 folder holds train_data_batch_1..10 and val_data)")
    parts = [_read_imagenet16(path / n) for n in names[:-1]]
    train = _as_split(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), True)
    xv, yv = _read_imagenet16(path / "val_data")
    valid, test = _split(xv, yv, [len(yv) // 2, None])
    return _with_stats(train, valid, test, augment_train=True), 120


def _image_folder(root: str | os.PathLike | None, image_size: int | None, cache_dir: str | os.PathLike | None,
                  progress: bool) -> tuple[list[ImageSplit], int]:
    from gcnas.data.image_folder import read_image_folder

    path = _root(root, "imagefolder")
    images = read_image_folder(path, image_size=image_size or 32, cache_dir=cache_dir, progress=progress)
    train, valid = _split(images.x_train, images.y_train, [len(images.y_train) // 2, None], augment=True)
    test = _as_split(images.x_test, images.y_test, False)
    return _with_stats(train, valid, test, augment_train=True), len(images.classes)


def load_images(name: str, *, root: str | os.PathLike | None = None, download: bool = False,
                num: int = 2000, image_size: int | None = None, cache_dir: str | os.PathLike | None = None,
                progress: bool = True) -> ImageDataset:
    """Load an image dataset with its NAS-Bench-201 splits.

    Args:
        name: One of :data:`DATASETS`.
        root: Folder holding the files (CIFAR, ImageNet16-120); unused for ``digits`` and
            ``synthetic``.
        download: Let torchvision download CIFAR into ``root``.
        num: Number of images of the ``synthetic`` dataset.
        image_size: Side the ``imagefolder`` images are resized to (default 32).
        cache_dir: Cache of decoded ``imagefolder`` arrays (default
            :func:`gcnas.data.image_folder.default_cache_dir`).
        progress: Show a progress bar while an image folder is decoded.

    Returns:
        The :class:`ImageDataset`.

    Example:
        >>> load_images("digits")
        ImageDataset('digits', train=675, valid=675, test=447, classes=10, size=16)
    """
    if name == "digits":
        (train, valid, test), classes = _digits()
    elif name == "synthetic":
        (train, valid, test), classes = _synthetic(num)
    elif name in ("cifar10", "cifar100"):
        (train, valid, test), classes = _cifar(name, root, download)
    elif name == "imagenet16-120":
        (train, valid, test), classes = _imagenet16(root)
    elif name == "imagefolder":
        (train, valid, test), classes = _image_folder(root, image_size, cache_dir, progress)
    else:
        raise InvalidInputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return ImageDataset(name, train, valid, test, classes)
