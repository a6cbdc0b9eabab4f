"""check_space: the built-in spaces keep the protocol's promises, and a broken space is named."""

from __future__ import annotations

import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import check_space, get_space


@pytest.mark.parametrize("name", ["nb201", "darts"])
def test_builtin_spaces_pass_the_protocol_checks(name):
    check_space(get_space(name), samples=6, seed=3)


class _NeighbourIncludesItself:
    """NB201 with a neighbours() that breaks the contract (lists the cell itself)."""

    def __init__(self) -> None:
        self._space = get_space("nb201")

    def __getattr__(self, name):
        return getattr(self._space, name)

    def neighbours(self, arch):
        return [arch, *self._space.neighbours(arch)]


def test_a_broken_space_is_named_with_the_promise_it_breaks():
    broken = _NeighbourIncludesItself()
    for member in ("name", "decisions", "node_types", "max_nodes", "graph_names"):
        setattr(broken, member, getattr(broken._space, member))
    with pytest.raises(InvalidInputError, match=r"'nb201' breaks the protocol: neighbours"):
        check_space(broken, samples=2, network=False)


def test_an_object_without_the_members_is_refused_with_what_it_lacks():
    with pytest.raises(InvalidInputError, match="lacks .*decisions"):
        check_space(object(), network=False)
