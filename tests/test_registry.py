import importlib

import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.registry import Registry


class Base:
    def __init__(self, size: int = 1) -> None:
        self.size = size


def test_register_make_and_list_names():
    registry: Registry[Base] = Registry("model")

    @registry.register("small")
    class Small(Base):
        pass

    assert Small.name == "small" and registry.classes == {"small": Small}
    assert registry.names() == ["small"] and "small" in registry and list(registry) == ["small"]
    assert registry.make("small", size=3).size == 3 and registry.get("small") is Small


def test_duplicates_and_unknown_names_are_refused_with_the_choices():
    registry: Registry[Base] = Registry("model")
    registry.register("b")(type("B", (Base,), {}))
    registry.register("a")(type("A", (Base,), {}))
    with pytest.raises(InvalidInputError, match="model 'a' is already registered by A"):
        registry.register("a")(type("Other", (Base,), {}))
    with pytest.raises(InvalidInputError, match="unknown model 'c'; choose one of a, b"):
        registry.make("c")
    with pytest.raises(InvalidInputError, match="non-empty name"):
        registry.register("")


def test_builtin_entries_are_loaded_lazily_once():
    calls = []
    registry: Registry[Base] = Registry("model", load=lambda: calls.append(registry.register("x")(Base)))
    assert calls == [] and registry.classes == {}
    assert registry.names() == ["x"] and registry.names() == ["x"] and len(calls) == 1


@pytest.mark.parametrize("register, kind", [
    ("gcnas.supernet.strategies:register_strategy", "strategy"),
    ("gcnas.predictors.base:register_predictor", "predictor"),
    ("gcnas.search.base:register_searcher", "search method"),
])
def test_the_three_registries_refuse_duplicates_alike(register, kind):
    import importlib

    module, name = register.split(":")
    decorator = getattr(importlib.import_module(module), name)
    taken = {"strategy": "uniform", "predictor": "gcn", "search method": "random"}[kind]
    with pytest.raises(InvalidInputError, match=f"{kind} '{taken}' is already registered by"):
        decorator(taken)(type("Again", (), {}))


def test_public_lookups_keep_their_behaviour():
    from gcnas.predictors import make_predictor, predictor_names
    from gcnas.search import make_searcher, searcher_names
    from gcnas.supernet import STRATEGIES, make_strategy

    assert set(STRATEGIES) == {"uniform", "gaea", "darts", "snas", "nasp"} and make_strategy("gaea").name == "gaea"
    assert predictor_names() == ["conformal", "gbt", "gcn", "gp", "mlp"] and make_predictor("mlp").name == "mlp"
    assert searcher_names() == ["bo", "evolution", "latent-bo", "random", "reinforce"]
    with pytest.raises(InvalidInputError, match="unknown strategy 'x'; choose one of darts, gaea, nasp, snas, uniform"):
        make_strategy("x")
    with pytest.raises(InvalidInputError, match="unknown predictor 'x'; choose one of conformal, gbt, gcn, gp, mlp"):
        make_predictor("x")
    with pytest.raises(InvalidInputError, match="unknown search method 'x'; choose one of bo, evolution"):
        make_searcher("x")


def test_every_registering_module_is_loaded_by_its_registry():
    """Packages import their modules lazily (gcnas._lazy): each registry's list of built-in modules must name
    every module that registers an entry, or its entries would be missing until someone imports it."""
    import ast
    from pathlib import Path

    from gcnas.predictors.base import BUILTIN_PREDICTORS
    from gcnas.search.base import BUILTIN_SEARCHERS

    root = Path(importlib.import_module("gcnas").__file__).parent
    for package, decorator, listed in (("predictors", "register_predictor", BUILTIN_PREDICTORS),
                                       ("search", "register_searcher", BUILTIN_SEARCHERS)):
        registering = set()
        for path in (root / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and any(
                        isinstance(d, ast.Call) and getattr(d.func, "id", None) == decorator for d in node.decorator_list):
                    registering.add(path.stem)
        assert registering == set(listed), (package, registering)


def test_lookups_work_in_a_fresh_process_that_imported_nothing():
    import subprocess
    import sys

    code = ("from gcnas.predictors.base import predictor_names; from gcnas.search.base import searcher_names; "
            "print(predictor_names(), searcher_names())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'gcn'" in done.stdout and "'reinforce'" in done.stdout
