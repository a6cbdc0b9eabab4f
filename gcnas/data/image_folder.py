"""A user's own images in torchvision's ``ImageFolder`` layout, decoded once and cached.

The layout is ``ROOT/train/<class>/*`` and ``ROOT/test/<class>/*`` (any image format
torchvision decodes). Decoding tens of thousands of files takes tens of seconds, so the
decoded uint8 arrays are kept in a cache file whose name is a hash of every file's path,
size and modification time and of the image size: a changed folder makes a new key, and a
second load reads one ``.npy`` pair per split in about a second.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError

__all__ = ["FolderImages", "read_image_folder", "default_cache_dir"]

_SPLITS = ("train", "test")
_CACHE_VERSION = 2


@dataclass
class FolderImages:
    """Decoded images of an image folder.

    Attributes:
        classes: Class names, sorted (torchvision's order; labels index this list).
        x_train: ``(N, 3, S, S)`` uint8 images of ``train/``.
        y_train: ``(N,)`` int64 labels.
        x_test: ``(M, 3, S, S)`` uint8 images of ``test/``.
        y_test: ``(M,)`` int64 labels.
        cache_file: The cache the arrays were read from or written to.
        from_cache: Whether they were read from the cache (no decoding).
    """

    classes: list[str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    cache_file: Path
    from_cache: bool


def default_cache_dir() -> Path:
    """``$GCNAS_CACHE_DIR/images``, else ``~/.cache/gcnas/images``."""
    base = os.environ.get("GCNAS_CACHE_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "gcnas") / "images"


def _list_split(root: Path, split: str) -> tuple[list[str], list[tuple[str, int]]]:
    from torchvision.datasets import ImageFolder

    folder = root / split
    if not folder.is_dir():
        raise DataNotFoundError(
            f"image folder {str(root)!r} has no {split}/ directory; expected {split}/<class>/<image> "
            "(torchvision's ImageFolder layout) under both train/ and test/")
    try:
        listing = ImageFolder(str(folder), allow_empty=True)
    except FileNotFoundError as error:
        raise DataNotFoundError(f"{str(folder)!r} holds no class folders ({error}); "
                                f"expected {split}/<class>/<image>") from None
    counts = np.bincount([label for _, label in listing.samples], minlength=len(listing.classes))
    empty = [name for name, count in zip(listing.classes, counts) if count == 0]
    if empty:
        raise InvalidInputError(f"class folder(s) {', '.join(repr(e) for e in empty)} under {str(folder)!r} "
                                "hold no image; add images or remove the folder")
    return list(listing.classes), [(path, int(label)) for path, label in listing.samples]


def _fingerprint(root: Path, listings: dict[str, list[tuple[str, int]]], image_size: int) -> str:
    digest = hashlib.sha256(f"v{_CACHE_VERSION}|{image_size}".encode())
    for split in _SPLITS:
        for path, label in listings[split]:
            stat = os.stat(path)
            digest.update(f"{os.path.relpath(path, root)}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _decode(samples: list[tuple[str, int]], image_size: int, desc: str, progress: bool) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError
    from torchvision.datasets.folder import default_loader
    from gcnas.progress import progress as show_progress

    out = np.empty((len(samples), 3, image_size, image_size), dtype=np.uint8)
    for i, (path, _) in enumerate(show_progress(samples, desc=desc, unit="img", enabled=progress)):
        try:
            image = default_loader(path)  # ImageFolder's own loader: PIL, converted to RGB
            if image.size != (image_size, image_size):
                image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
            out[i] = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise CorruptFileError(f"cannot decode image {path!r} ({error}); remove or replace the file") from None
    return out


def read_image_folder(root: str | os.PathLike, *, image_size: int = 32, cache_dir: str | os.PathLike | None = None,
                      progress: bool = True) -> FolderImages:
    """Read ``root/train`` and ``root/test`` into uint8 arrays, through a cache.

    Args:
        root: The folder holding ``train/<class>/*`` and ``test/<class>/*``.
        image_size: Side of the square images; others are resized (antialiased) to it.
        cache_dir: Where decoded arrays are kept (default :func:`default_cache_dir`).
        progress: Show a progress bar while decoding.

    Returns:
        The :class:`FolderImages`.

    Raises:
        DataNotFoundError: ``root``, ``train/`` or ``test/`` is missing.
        InvalidInputError: An empty class, a class in one split only, or a class with fewer
            than 2 training images (``train/`` is cut into train and valid halves).
        CorruptFileError: An image that cannot be decoded (named in the message).

    Example:
        >>> images = read_image_folder("data/cifar10-jpg")
        >>> images.x_train.shape, images.classes[:2]
        ((50000, 3, 32, 32), ['airplane', 'automobile'])
    """
    if image_size < 1:
        raise InvalidInputError(f"image_size must be positive, got {image_size}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataNotFoundError(f"image folder {str(root)!r} is not a directory")
    classes, listings = {}, {}
    for split in _SPLITS:
        classes[split], listings[split] = _list_split(root, split)
    if classes["train"] != classes["test"]:
        only_train = sorted(set(classes["train"]) - set(classes["test"]))
        only_test = sorted(set(classes["test"]) - set(classes["train"]))
        raise InvalidInputError(
            f"train/ and test/ of {str(root)!r} must hold the same classes; only in train/: {only_train or 'none'}, "
            f"only in test/: {only_test or 'none'}")
    counts = np.bincount([label for _, label in listings["train"]], minlength=len(classes["train"]))
    scarce = [name for name, count in zip(classes["train"], counts) if count < 2]
    if scarce:
        raise InvalidInputError(f"class(es) {', '.join(repr(s) for s in scarce)} have a single image in train/; "
                                "at least 2 are needed to cut train/ into train and valid halves")

    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = _fingerprint(root, listings, image_size)
    cache_file = cache_dir / f"imagefolder-{key}.npz"
    labels = {split: np.asarray([label for _, label in listings[split]], dtype=np.int64) for split in _SPLITS}
    if cache_file.exists():
        try:
            with np.load(cache_file) as saved:
                arrays = {split: saved[f"x_{split}"] for split in _SPLITS}
            if all(arrays[s].shape == (len(labels[s]), 3, image_size, image_size) for s in _SPLITS):
                return FolderImages(classes["train"], arrays["train"], labels["train"], arrays["test"],
                                    labels["test"], cache_file, True)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is decoded again and rewritten
    arrays = {split: _decode(listings[split], image_size, f"decoding {split}/", progress) for split in _SPLITS}
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, x_train=arrays["train"], x_test=arrays["test"])
    os.replace(partial, cache_file)
    return FolderImages(classes["train"], arrays["train"], labels["train"], arrays["test"], labels["test"],
                        cache_file, False)
