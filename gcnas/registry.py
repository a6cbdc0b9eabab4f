"""One name -> class registry, filled by a decorator that rejects duplicates.

Training strategies (``gcnas.supernet``), predictors (``gcnas.predictors``) and
searchers (``gcnas.search``) are chosen by name on the command line; each package keeps
one :class:`Registry` and exposes its own small functions around it
(``register_strategy`` / ``make_strategy``, ``register_predictor`` / ``make_predictor`` /
``predictor_names``, ``register_searcher`` / ``make_searcher`` / ``searcher_names``).

This module imports nothing of gcnas but :mod:`gcnas.exceptions`, so every package may
use it.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterator, TypeVar

from gcnas.exceptions import InvalidInputError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Classes by name; ``register(name)`` is a class decorator, ``make(name)`` builds one.

    A registered class gets ``cls.name = name``. The built-in entries may be registered
    lazily: ``load`` (for example ``lambda: importlib.import_module("gcnas.predictors")``)
    runs before the registry is first read, so asking for the names or an instance
    never depends on which modules happen to be imported already.

    Args:
        kind: What is registered, as error messages name it (``"strategy"``,
            ``"predictor"``, ``"search method"``).
        load: Imports the modules that register the built-in entries; None when they
            are registered by the time the registry is read.

    Example:
        >>> MODELS: Registry[Model] = Registry("model")
        >>> @MODELS.register("linear")
        ... class Linear(Model): ...
        >>> MODELS.make("linear", alpha=0.1)
    """

    def __init__(self, kind: str, *, load: Callable[[], Any] | None = None) -> None:
        if not isinstance(kind, str) or not kind:
            raise InvalidInputError(f"a registry needs a non-empty kind, got {kind!r}")
        self.kind = kind
        self.classes: dict[str, type[T]] = {}
        """The entries themselves (a plain dict, shared, never copied)."""
        self._load = load

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator adding a class under ``name``.

        Args:
            name: The name users choose it by.

        Returns:
            The decorator; it returns the class unchanged but for ``cls.name = name``.

        Raises:
            InvalidInputError: ``name`` is empty or already registered.
        """
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"a {self.kind} needs a non-empty name, got {name!r}")

        def decorate(cls: type[T]) -> type[T]:
            if not cls.__module__.startswith("gcnas."):
                # A user's class: the built-in entries (imported lazily) must hold their names first,
                # so that taking one is refused here rather than breaking the first lookup later.
                self._ensure_loaded()
            if name in self.classes:
                raise InvalidInputError(f"{self.kind} {name!r} is already registered by "
                                        f"{self.classes[name].__name__}; choose another name")
            cls.name = name  # type: ignore[attr-defined]
            self.classes[name] = cls
            return cls

        return decorate

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self._ensure_loaded()
        return sorted(self.classes)

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``.

        Args:
            name: A registered name.

        Returns:
            The class.

        Raises:
            InvalidInputError: Unknown ``name`` (the message lists the valid ones).
        """
        self._ensure_loaded()
        if name not in self.classes:
            raise InvalidInputError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
        return self.classes[name]

    def make(self, name: str, **kwargs: Any) -> T:
        """An instance of the class registered as ``name``, built with ``kwargs``.

        Args:
            name: A registered name.
            **kwargs: Passed to the class.

        Returns:
            The new instance.
        """
        return self.get(name)(**kwargs)

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self.classes

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self.classes)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={sorted(self.classes)})"

    def _ensure_loaded(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None  # cleared first: a load that reads the registry does not recurse
            try:
                load()
            except BaseException:
                self._load = load
                raise
