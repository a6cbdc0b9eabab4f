"""Nothing outside a space's own folder names that space: code above the spaces reaches one by
name (``get_space``) and uses the protocol only.

The test walks the AST of every module under ``gcnas/`` (imports at module level and inside
functions alike) and flags, outside ``gcnas/spaces/<space>/``:

- an import of ``gcnas.spaces.<space>`` or of a module inside it;
- a use of the space's own class names (``NB201Space``, ``DartsSpace``, ...), however reached;
- an import path of the space written as a string (``"gcnas.spaces.nb201.space:NB201Space"``),
  which only the registry may hold.

``PENDING`` and ``NOT_CONVERTED`` are empty: every module outside a space's folder reaches the
space through the registry. Any offender fails the test.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(importlib.import_module("gcnas").__file__).parent

SPACES: dict[str, set[str]] = {
    "nb201": {"NB201Space", "NB201Routes", "NB201Network"},
    "darts": {"DartsSpace", "DartsSuperNet", "DartsRoutes"},
    "imc": {"ImcSpace", "MacroSuperNet", "MacroRoutes", "MacroArch"},
}
"""Each built-in space and the class names that only its folder may use."""

REGISTRY = "spaces/registry.py"
"""The one module that names the built-in spaces' import paths (as strings, imported on lookup)."""

PENDING: tuple[str, ...] = ()
"""Modules still being converted by a branch of a refactor in flight: none (an entry must name a real offender)."""

NOT_CONVERTED: tuple[str, ...] = ()
"""Modules of this branch still bound to one space: none left (an entry must name a real offender)."""


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _offences(path: Path, space: str, names: set[str]) -> list[str]:
    """What ``path`` does that only ``gcnas/spaces/<space>/`` may do."""
    package = f"gcnas.spaces.{space}"
    import_path = re.compile(rf"^{re.escape(package)}(\.\w+)*(:\w+)?$")
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module == package or node.module.startswith(package + ".")):
            found.append(f"line {line}: from {node.module} import ...")
        elif isinstance(node, ast.ImportFrom) and node.module == "gcnas.spaces" and any(
                alias.name == space for alias in node.names):
            found.append(f"line {line}: from gcnas.spaces import {space}")
        elif isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names
                      if a.name == package or a.name.startswith(package + ".")]
        elif isinstance(node, ast.Name) and node.id in names:
            found.append(f"line {line}: names {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append(f"line {line}: names .{node.attr}")
        elif isinstance(node, ast.alias) and node.name in names:
            found.append(f"line {line}: imports {node.name}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and import_path.match(node.value)
              and path != ROOT / REGISTRY):
            found.append(f"line {line}: the import path {node.value!r} as a string")
    return found


def _modules_outside(space: str) -> list[Path]:
    folder = ROOT / "spaces" / space
    return [p for p in sorted(ROOT.rglob("*.py")) if folder not in p.parents]


def _exempt(relative: str) -> bool:
    return any(fnmatch.fnmatch(relative, pattern) for pattern in (*PENDING, *NOT_CONVERTED))


@pytest.mark.parametrize("space", sorted(SPACES))
def test_nothing_outside_a_space_folder_names_the_space(space):
    offenders = {}
    for path in _modules_outside(space):
        relative = _relative(path)
        if not _exempt(relative):
            found = _offences(path, space, SPACES[space])
            if found:
                offenders[relative] = found
    assert not offenders, (f"modules outside gcnas/spaces/{space}/ that name it (reach it through "
                           f"gcnas.spaces.get_space({space!r}) and the protocol instead): {offenders}")


def test_not_converted_lists_only_modules_that_still_offend():
    """An entry of NOT_CONVERTED whose module is clean is stale: drop it (PENDING is the lead's to empty)."""
    stale = []
    for pattern in NOT_CONVERTED:
        matched = [p for p in ROOT.rglob("*.py") if fnmatch.fnmatch(_relative(p), pattern)]
        offending = [p for p in matched for space in SPACES
                     if (ROOT / "spaces" / space) not in p.parents and _offences(p, space, SPACES[space])]
        if not offending:
            stale.append(pattern)
    assert not stale, f"NOT_CONVERTED entries with no offender left: {stale}"


def test_the_walk_catches_each_kind_of_offence(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import gcnas.spaces.nb201.space\n"
                      "def f():\n"
                      "    from gcnas.spaces.nb201 import Arch\n"
                      "    return get_space('nb201') == NB201Space()\n"
                      "PATH = 'gcnas.spaces.nb201.space:NB201Space'\n"
                      "DOC = 'see gcnas.spaces.nb201 for the cell space'\n")
    found = _offences(module, "nb201", SPACES["nb201"])
    assert [f.split(":")[0] for f in found].count("line 1") == 1
    assert any("line 3" in f for f in found) and any("line 4" in f for f in found)
    assert any("line 5" in f for f in found) and not any("line 6" in f for f in found)
