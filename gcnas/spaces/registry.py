"""Search spaces by name: the one place that maps ``"nb201"``, ``"darts"`` or ``"imc"`` to a space.

A run store, a predictor file and every CLI ``--space`` flag record a space by its name;
:func:`get_space` turns the name back into the space. A user's own space plugs in the
same way as the built-in ones::

    from gcnas.spaces import register_space
    register_space("toy", ToySpace)        # a class or any zero-argument factory
    space = get_space("toy")

Built-in spaces are named by an import path (``"module:attribute"``) and imported on first
lookup, so that asking for one space does not import another (none of NAS-Bench-201, DARTS
and the IMC macro space imports anything heavy; the rule keeps it so). This module imports nothing
of gcnas but :mod:`gcnas.exceptions`.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from gcnas.exceptions import InvalidInputError

__all__ = ["DEFAULT_SPACE", "get_space", "resolve_space", "register_space", "space_names", "space_name"]

DEFAULT_SPACE = "nb201"
"""The space of a run, a predictor or a searcher that names none (NAS-Bench-201)."""

BUILTIN_SPACES: dict[str, str] = {
    "nb201": "gcnas.spaces.nb201.space:NB201Space",
    "darts": "gcnas.spaces.darts.space:DartsSpace",
    "imc": "gcnas.spaces.imc.space:ImcSpace",
}
"""Built-in spaces: name -> ``"module:factory"``, imported on first lookup."""

_FACTORIES: dict[str, Callable[[], Any]] = {}


def register_space(name: str, factory: Callable[[], Any], *, replace: bool = False) -> None:
    """Make a space available by name (to ``get_space``, ``--space NAME``, run stores, predictor files).

    Args:
        name: The space's name, as its ``name`` attribute says; lowercase letters, digits, ``_`` and ``-``.
        factory: A zero-argument callable returning the space (usually its class).
        replace: Allow replacing a registered user space (never a built-in one).

    Raises:
        InvalidInputError: A malformed name, a name taken by a built-in space, or one taken
            already without ``replace=True``.

    Example:
        >>> from gcnas.spaces.darts import DartsSpace
        >>> register_space("darts-copy", DartsSpace)
        >>> get_space("darts-copy").name
        'darts'
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name) or name != name.lower():
        raise InvalidInputError(f"a space name is lowercase letters, digits, '_' and '-', got {name!r}")
    if not callable(factory):
        raise InvalidInputError(f"register_space({name!r}, ...) needs a class or zero-argument factory, "
                                f"got {type(factory).__name__}")
    if name in BUILTIN_SPACES:
        raise InvalidInputError(f"{name!r} is a built-in search space; register yours under another name")
    if name in _FACTORIES and not replace:
        raise InvalidInputError(f"a search space named {name!r} is registered already; pass replace=True to replace it")
    _FACTORIES[name] = factory


def space_names() -> list[str]:
    """Every space :func:`get_space` knows: the built-in ones, then the registered ones."""
    return [*BUILTIN_SPACES, *(n for n in _FACTORIES if n not in BUILTIN_SPACES)]


def get_space(name: str) -> Any:
    """The search space registered under ``name`` (a fresh instance; spaces compare by value).

    Raises:
        InvalidInputError: An unknown name (the message lists the known ones).

    Example:
        >>> get_space("darts").size() is None
        True
    """
    if name in BUILTIN_SPACES:
        module, _, attribute = BUILTIN_SPACES[name].partition(":")
        return getattr(importlib.import_module(module), attribute)()
    if name in _FACTORIES:
        return _FACTORIES[name]()
    raise InvalidInputError(f"unknown search space {name!r}; choose one of {', '.join(space_names())}, "
                            "or register your own with gcnas.spaces.register_space(name, factory)")


def space_name(space: Any) -> str:
    """The name under which ``space`` can be rebuilt by :func:`get_space`.

    Raises:
        InvalidInputError: ``space`` has no ``name``, or its name does not rebuild an equal space
            (register it first).
    """
    name = getattr(space, "name", None)
    if isinstance(name, str) and name in space_names():
        if get_space(name) == space:
            return name
    for other in space_names():  # registered under another name (e.g. a second DARTS shape)
        if get_space(other) == space:
            return other
    raise InvalidInputError(f"the search space {space!r} is not registered, so it cannot be recorded by name; "
                            "call gcnas.spaces.register_space(name, factory) first")


def resolve_space(space: Any) -> Any:
    """The space an argument names: ``None`` is :data:`DEFAULT_SPACE`, a string goes through
    :func:`get_space`, a space instance is returned as it is.

    Every stage that takes ``space=`` (predictors, encoders, searchers, cost tables) reads it here.

    Raises:
        InvalidInputError: An unknown name, or an object that is not a
            :class:`~gcnas.spaces.SearchSpace` (a member of the protocol missing).

    Example:
        >>> resolve_space(None).name, resolve_space("darts").size()
        ('nb201', None)
    """
    from gcnas.spaces.protocol import SearchSpace

    if space is None:
        return get_space(DEFAULT_SPACE)
    if isinstance(space, str):
        return get_space(space)
    if not isinstance(space, SearchSpace):
        missing = [m for m in SearchSpace.__protocol_attrs__ if not hasattr(space, m)] if hasattr(
            SearchSpace, "__protocol_attrs__") else []
        raise InvalidInputError(f"space must be a SearchSpace (gcnas.spaces), the name of a registered one or None; "
                                f"got {type(space).__name__} {space!r:.60}"
                                + (f", which lacks {', '.join(sorted(missing))}" if missing else ""))
    return space
