"""Spaces by name: built-ins imported on first lookup, a user's space registered the same way."""

from __future__ import annotations

import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import get_space, register_space, space_name, space_names
from gcnas.spaces import registry
from gcnas.spaces.darts import DartsSpace


def test_builtin_spaces_by_name():
    assert space_names()[:2] == ["nb201", "darts"]
    assert get_space("darts") == DartsSpace()
    assert get_space("nb201").name == "nb201"
    assert space_name(DartsSpace()) == "darts"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(InvalidInputError, match="unknown search space 'nope'.*nb201, darts"):
        get_space("nope")


def test_user_space_registers_and_builtins_stay(monkeypatch):
    monkeypatch.setattr(registry, "_FACTORIES", {})
    register_space("toy-copy", DartsSpace)
    assert "toy-copy" in space_names() and get_space("toy-copy") == DartsSpace()
    with pytest.raises(InvalidInputError, match="built-in"):
        register_space("darts", DartsSpace)
    with pytest.raises(InvalidInputError, match="registered already"):
        register_space("toy-copy", DartsSpace)
    register_space("toy-copy", DartsSpace, replace=True)
    with pytest.raises(InvalidInputError, match="lowercase"):
        register_space("Bad Name", DartsSpace)


def test_unregistered_space_cannot_be_named():
    class Loose:
        name = "loose"

    with pytest.raises(InvalidInputError, match="register_space"):
        space_name(Loose())
