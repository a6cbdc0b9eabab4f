"""Package namespaces that import a submodule only when one of its names is used.

A ``gcnas`` command that reads a lookup table needs SQLite and numpy, not torch and PyTorch
Geometric (seconds to import). Importing ``gcnas.predictors.lut`` runs
``gcnas/predictors/__init__.py`` first, so a package that imported every submodule eagerly
would load torch for every command. Each package's ``__init__`` therefore maps its public
names to the submodules that define them, and :func:`lazy_exports` resolves a name on first
use (PEP 562), caching it in the package namespace. ``from gcnas.predictors import X`` and
``gcnas.predictors.X`` work as before; ``dir()`` and ``__all__`` list every public name.

Imports nothing of gcnas (bottom layer, beside ``threads`` and ``exceptions``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> the submodule (relative to ``package``) that defines it.

    Returns:
        ``(__getattr__, __dir__)``, to assign at the package's top level.

    Example:
        >>> # in gcnas/predictors/__init__.py
        >>> __getattr__, __dir__ = lazy_exports(__name__, {"LookupTable": "lut"})
    """
    exports = dict(exports)

    def __getattr__(name: str) -> Any:
        submodule = exports.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
