"""The predictor file: tensors and plain values, read without running code.

A predictor file is a torch file holding one dict::

    {"format": "gcnas-predictor-2", "name": "gcn", "params": '{"hidden": 64, ...}',
     "state": {"y_mean_": 71.2, "states_": [{"embed.weight": tensor, ...}, ...], ...}}

``params`` is JSON text (the constructor arguments); ``state`` (the fitted state,
:meth:`Predictor._state`) holds only dicts with string keys, lists, strings, numbers,
booleans, ``None`` and CPU tensors (a numpy array is stored as a tensor; the predictor's
``_set_state`` turns it back). It is read with ``torch.load(weights_only=True)``, whose
unpickler builds tensors and those containers and imports nothing else, so a file cannot
run code however it was crafted.

gcnas 0.1 wrote format ``gcnas-predictor-1``: the same dict with ``params`` as a dict and
the fitted state pickled as it was. Such a file is read the same way when it holds only
those types (the GCN, MLP and GP predictors); one that needs more to load (the GBT
predictor's scikit-learn trees, or a crafted file) is a full pickle and is refused, unless
the caller vouches for its source (``trust_pickle=True``, ``--trust-pickle``).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError

__all__ = ["FORMAT", "LEGACY_FORMAT", "to_plain", "write_predictor_file", "read_predictor_file", "pickle_imports"]

FORMAT = "gcnas-predictor-2"
"""The format this gcnas writes: JSON settings, plain fitted state, tensors."""

LEGACY_FORMAT = "gcnas-predictor-1"
"""The format of gcnas 0.1 (params a dict, the state pickled as it was)."""

_STRING_OPS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
                         "SHORT_BINSTRING"})
_TORCH_OWN = ("torch._utils._rebuild_", "collections.OrderedDict")


def to_plain(value: Any, where: str = "state") -> Any:
    """``value`` with numpy arrays as tensors, numpy scalars as Python numbers, tuples as lists.

    Args:
        value: Fitted state: nested dicts (string keys), lists, tuples, numbers, strings,
            ``None``, numpy arrays and scalars, tensors.
        where: The path of ``value`` in the state, for the error message.

    Returns:
        The same tree, in the types ``torch.load(weights_only=True)`` rebuilds.

    Raises:
        TypeError: A value of any other type (a predictor that keeps such state must turn
            it into arrays in its ``_state``).
    """
    import torch

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"{where} is a numpy array of Python objects, which a predictor file cannot hold")
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has the key {key!r}; a predictor file keeps string keys only")
            plain[key] = to_plain(item, f"{where}[{key!r}]")
        return plain
    if isinstance(value, (list, tuple)):
        return [to_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which a predictor file "
                    "cannot hold (tensors, arrays, numbers, strings, lists and dicts only); a predictor that keeps "
                    "one turns it into arrays in its _state and back in its _set_state (see GBTPredictor)")


def write_predictor_file(path: str | os.PathLike, name: str, params: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write a predictor file atomically.

    Args:
        path: Where.
        name: The registry name of the predictor.
        params: Its constructor arguments (JSON values).
        state: Its fitted state (see :func:`to_plain`).

    Returns:
        ``path``.

    Raises:
        InvalidInputError: A constructor argument that is not a JSON value (e.g. a
            ``numpy.random.Generator`` as ``seed``).
    """
    import torch

    from gcnas.data.store import atomic_write

    try:
        settings = json.dumps(to_plain(params, "params"))
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"cannot save this {name} predictor: {error}; give its parameters as numbers, "
                                "strings, booleans or None (e.g. an int seed)") from None
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "name": name, "params": settings, "state": to_plain(state)}, buffer)
    return atomic_write(path, buffer.getvalue())


def read_predictor_file(path: str | os.PathLike, *, trust_pickle: bool = False) -> dict[str, Any]:
    """Read a predictor file without running code from it (unless ``trust_pickle``).

    Args:
        path: The file.
        trust_pickle: Also read a full pickle (a predictor saved by gcnas 0.1 that holds
            other objects than tensors, e.g. the GBT's scikit-learn trees). Loading a
            pickle runs whatever code it names: only for files from a source you trust.

    Returns:
        ``{"format", "name", "params" (dict), "state" (dict)}``.

    Raises:
        DataNotFoundError: No file at ``path``.
        InvalidInputError: A full pickle and ``trust_pickle`` is False.
        CorruptFileError: Not a readable predictor file.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no fitted predictor at {str(path)!r}; run `gcnas predictor fuse` (supernet scores, "
                                f"zero-cost proxies and anchors; best on real images) or `gcnas predictor fit` first")
    try:
        with warnings.catch_warnings():  # torch warns about a plain pickle's protocol before refusing it
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:  # needs more than tensors and plain values, or not a pickle
        if trust_pickle:
            blob = _load_trusted(path)
        else:
            imports = pickle_imports(path)
            if not imports:
                raise CorruptFileError(f"{str(path)!r} is not a readable predictor file ({_first_line(error)}); "
                                       "refit it") from None
            raise InvalidInputError(_refusal(path, imports)) from None
    except Exception as error:  # noqa: BLE001  (torch raises many kinds on a bad file)
        raise CorruptFileError(f"{str(path)!r} is not a readable predictor file ({_first_line(error)}); "
                               "refit it") from None
    return _checked(path, blob)


def pickle_imports(path: str | os.PathLike) -> list[str]:
    """The globals a pickle (or the pickle inside a torch zip file) imports when loaded.

    Reads the opcodes only (:mod:`pickletools`); nothing is imported or run. Tensor
    rebuilding (``torch._utils._rebuild_*``) and ``collections.OrderedDict`` are left out.

    Args:
        path: The file.

    Returns:
        ``module.name`` of each other global, in order of appearance, without repeats;
        empty when the file is not a pickle or imports nothing else.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.endswith("data.pkl")]
                data = archive.read(members[0]) if members else b""
        else:
            data = path.read_bytes()
    except (OSError, zipfile.BadZipFile, KeyError):
        return []
    found: list[str] = []
    stream = io.BytesIO(data)
    for _ in range(8):  # torch's old format: several pickles back to back, then raw bytes
        if stream.tell() >= len(data) or not _scan(stream, found):
            break
    return [name for name in dict.fromkeys(found)
            if not name.startswith(_TORCH_OWN) and not (name.startswith("torch.") and name.endswith("Storage"))]


def _scan(stream: io.BytesIO, found: list[str]) -> bool:
    """Add the globals of one pickle to ``found``; False when the bytes are not a whole pickle."""
    strings: list[str] = []
    memo: dict[int, Any] = {}
    last: Any = None
    try:
        for opcode, arg, _ in pickletools.genops(stream):
            name = opcode.name
            if name in ("GLOBAL", "INST"):  # protocols 0-2 (torch.save) spell builtins as Python 2 did
                found.append(str(arg).replace(" ", ".").replace("__builtin__.", "builtins."))
            elif name == "STACK_GLOBAL" and len(strings) >= 2:
                found.append(f"{strings[-2]}.{strings[-1]}")
            if name in _STRING_OPS:
                last = str(arg)
                strings.append(last)
            elif name == "MEMOIZE":
                memo[len(memo)] = last
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = last
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                last = memo.get(int(arg))
                if isinstance(last, str):
                    strings.append(last)
            else:
                last = None
    except Exception:  # noqa: BLE001  (not a pickle, or its end: genops raises several kinds)
        return False
    return True


def _refusal(path: Path, imports: list[str]) -> str:
    shown = ", ".join(imports[:3]) + (f" and {len(imports) - 3} more" if len(imports) > 3 else "")
    return (f"{str(path)!r} is a full pickle: loading it would import and run {shown}; gcnas reads predictors only "
            "as tensors and plain values, which run no code. If it is a predictor saved by an older gcnas and you "
            "trust its source, pass --trust-pickle (Python: load_predictor(path, trust_pickle=True)) and save it "
            "again; otherwise refit it with `gcnas predictor fit`")


def _load_trusted(path: Path) -> Any:
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=False)  # trusted: only with --trust-pickle
    except Exception as error:  # noqa: BLE001  (unpickling runs the file's code: anything can fail)
        raise CorruptFileError(f"{str(path)!r} is not a readable predictor file, even as a trusted pickle "
                               f"({type(error).__name__}: {_first_line(error)}); refit it") from None


def _checked(path: Path, blob: Any) -> dict[str, Any]:
    """The file's dict, with ``params`` as a dict, after checking its shape."""
    fmt = blob.get("format") if isinstance(blob, dict) else None
    if fmt not in (FORMAT, LEGACY_FORMAT) or not isinstance(blob.get("name"), str) \
            or not isinstance(blob.get("state"), dict):
        raise CorruptFileError(f"{str(path)!r} is not a gcnas predictor file; refit it with `gcnas predictor fit`")
    params = blob.get("params")
    if fmt == FORMAT:
        try:
            params = json.loads(params)
        except (TypeError, ValueError):
            params = None
    if not isinstance(params, dict):
        raise CorruptFileError(f"{str(path)!r} has unreadable predictor settings; refit it with `gcnas predictor fit`")
    return {"format": fmt, "name": blob["name"], "params": params, "state": blob["state"]}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
