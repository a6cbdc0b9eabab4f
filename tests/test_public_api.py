"""The public surface of DESIGN.md imports, and every package's ``__all__`` names exist."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = ["gcnas.spaces.nb201", "gcnas.data", "gcnas.supernet", "gcnas.hardware", "gcnas.encoders",
            "gcnas.predictors", "gcnas.search", "gcnas.exceptions", "gcnas.registry", "gcnas._thirdparty",
            "gcnas.parallel", "gcnas.progress"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_exists(name):
    module = importlib.import_module(name)
    assert module.__all__, f"{name} exports nothing"
    missing = [attr for attr in module.__all__ if not hasattr(module, attr)]
    assert not missing, f"{name}.__all__ lists missing names {missing}"
    assert len(set(module.__all__)) == len(module.__all__)


def test_design_import_block():
    from gcnas.data import BenchmarkTable, HWNASBench, LatencyTable, NATSBench, RunStore  # noqa: F401
    from gcnas.encoders import Arch2Vec  # noqa: F401
    from gcnas.hardware import costs, measure_latency  # noqa: F401
    from gcnas.predictors import GCNPredictor, LookupTable, kendall_tau  # noqa: F401
    from gcnas.search import BayesianOptimization, RandomSearch, RegularizedEvolution  # noqa: F401
    from gcnas.spaces.nb201 import Arch, NB201Space  # noqa: F401
    from gcnas.supernet import sample_subnets, train_supernet  # noqa: F401
    from gcnas.spaces.nb201 import SuperNet, build_network


def test_lower_packages_do_not_import_higher_ones():
    import ast
    from pathlib import Path

    order = ["space", "exceptions", "_lazy", "_thirdparty", "registry", "threads", "parallel", "progress", "spaces",
             "data", "supernet", "hardware", "encoders", "predictors", "search"]
    # top-level modules every package may use, and the search spaces (docs/spaces.md)
    bottom = {"space", "exceptions", "_lazy", "_thirdparty", "registry", "threads", "parallel", "progress", "spaces"}
    allowed = {"space": set(), "exceptions": set(), "_lazy": set(), "_thirdparty": set(), "registry": {"exceptions"},
               "spaces": {"exceptions"},
               "threads": {"exceptions"}, "parallel": {"exceptions", "threads"}, "progress": {"exceptions"},
               "data": bottom,
               "supernet": bottom | {"data"},
               "hardware": bottom | {"data", "supernet"},
               "encoders": bottom | {"data"},
               "predictors": bottom | {"data", "supernet", "hardware", "encoders"},
               "search": set(order) - {"search"}}
    root = Path(importlib.import_module("gcnas").__file__).parent
    for package in order:
        paths = [root / f"{package}.py"] if (root / f"{package}.py").exists() else sorted((root / package).rglob("*.py"))
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gcnas."):
                    target = node.module.split(".")[1]
                    assert target == package or target in allowed[package], f"{path.name} imports {node.module}"


def test_importing_gcnas_shows_no_third_party_jit_deprecation():
    """torch deprecates ``torch.jit.script``; PyG and linear_operator script on import (gcnas._thirdparty)."""
    import subprocess
    import sys

    # the packages load their modules on first use (gcnas._lazy): import the ones that import those libraries
    code = ("import gcnas.search, gcnas.predictors, gcnas.encoders, gcnas.supernet, gcnas.hardware, gcnas.cli; "
            "import gcnas.cli.search, gcnas.search.surrogate, gcnas.search.bo, gcnas.predictors.gcn, "
            "gcnas.predictors.gp, gcnas.encoders.arch2vec; from gcnas.search.pareto import _botorch; _botorch(); "
            "from gcnas.predictors import GCNPredictor, GPPredictor; from gcnas.search import BayesianOptimization")
    done = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_public_name_is_also_a_submodule_name():
    """A package loads its names on first use (gcnas._lazy); importing a submodule binds the package
    attribute of the same name to the module, so a function named like its module would turn into a
    module as soon as anything imported that module directly."""
    import pkgutil

    for package in ("data", "hardware", "encoders", "supernet", "predictors", "search"):
        module = importlib.import_module(f"gcnas.{package}")
        submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
        assert not submodules & set(module.__all__), (package, submodules & set(module.__all__))
        for name in module.__all__:
            assert not inspect.ismodule(getattr(module, name)), (package, name)
