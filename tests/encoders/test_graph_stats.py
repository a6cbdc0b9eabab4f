import numpy as np
import pytest

from gcnas.encoders import graph_statistics, statistic_names
from gcnas.spaces.nb201 import Arch, NB201Space

ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def stats(text: str) -> dict[str, float]:
    return dict(zip(statistic_names(), graph_statistics([Arch.from_string(text)])[0]))


def test_all_conv3x3_cell():
    s = stats(ALL_CONV3)
    assert s["live_nor_conv_3x3"] == 6 and s["live_skip_connect"] == 0
    assert s["live_paths"] == 4                      # 0->3, 0->1->3, 0->2->3, 0->1->2->3
    assert s["max_nor_conv_3x3_on_path"] == 3
    assert s["min_non_identity_on_path"] == 1


def test_dead_branches_do_not_count():
    # node 1 and 2 feed nothing live: only the skip 0 -> 3 reaches the output
    s = stats("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert s["live_nor_conv_3x3"] == 0 and s["live_skip_connect"] == 1
    assert s["live_paths"] == 1 and s["min_non_identity_on_path"] == 0


def test_zero_cell_is_all_zeros():
    assert not graph_statistics([Arch.from_code(0)]).any()
    # a cell whose only live-looking path is cut by `none` on the last edge
    assert not graph_statistics([Arch.from_string(
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")]).any()


def test_relabelled_and_dead_variants_share_statistics():
    a = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    swapped = Arch.from_string("|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|")
    dead = Arch.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    F = graph_statistics([a, swapped])
    assert np.array_equal(F[0], F[1])
    # node 2 gains a live input in `dead`: a different cell, different statistics
    assert not np.array_equal(graph_statistics([dead])[0], F[0])
    F_all = graph_statistics(NB201Space().all_archs())
    assert F_all.shape == (15625, len(statistic_names())) and F_all.dtype == np.float64


def test_empty_input():
    assert graph_statistics([]).shape == (0, len(statistic_names()))


def test_darts_cells_get_one_block_per_graph():
    from gcnas.spaces import get_space

    space = get_space("darts")
    names = statistic_names(space)
    ops = [op for op in space.node_types if op not in ("c_k-2", "c_k-1", "none", "output")]
    assert names[:len(ops)] == [f"normal.live_{op}" for op in ops] and len(names) == 2 * (2 * len(ops) + 2)
    # normal: every node sums skip(c_k-2) + skip(c_k-1); reduce: sep_conv_3x3 on both inputs everywhere
    normal = [("skip_connect", 0), ("skip_connect", 1)] * 4
    reduce = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1)] * 4
    cell = space.parse(f"Genotype(normal={normal}, normal_concat=[2, 3, 4, 5], reduce={reduce}, "
                       "reduce_concat=[2, 3, 4, 5])")
    s = dict(zip(names, graph_statistics([cell], space=space)[0]))
    assert s["normal.live_skip_connect"] == 8 and s["normal.live_paths"] == 8
    assert s["normal.min_non_identity_on_path"] == 0 and s["normal.max_skip_connect_on_path"] == 1
    assert s["reduce.live_sep_conv_3x3"] == 8 and s["reduce.min_non_identity_on_path"] == 1
