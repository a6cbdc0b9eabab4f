"""Genotype strings and NAS-Bench-301 configs: exact round trips, clear errors."""

from __future__ import annotations

import csv

import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts import DartsSpace, Genotype, format_genotype, from_config, parse_genotype, to_config
from tests.conftest import shared_file

DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
            "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
            "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
            "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")


def test_darts_v2_round_trip_and_fields():
    g = parse_genotype(DARTS_V2)
    assert format_genotype(g) == DARTS_V2 == str(g)
    assert g.normal[7] == ("dil_conv_3x3", 2) and g.reduce[0] == ("max_pool_3x3", 0)


def test_range_concat_and_positional_fields_are_read():
    text = DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)")
    assert parse_genotype(text) == parse_genotype(DARTS_V2)
    g = parse_genotype(DARTS_V2)
    positional = (f"Genotype({[*g.normal]!r}, [2, 3, 4, 5], {[*g.reduce]!r}, [2, 3, 4, 5])")
    assert parse_genotype(positional) == g


@pytest.mark.parametrize("text, match", [
    ("Genotyp(normal=[])", "Genotype"),
    ("Genotype(normal=[", "cannot parse"),
    (DARTS_V2.replace("'sep_conv_3x3', 0)", "'conv_7x7', 0)", 1), "unknown op 'conv_7x7'"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "node 5 can read states 0..4"),
    (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3]"), "normal_concat must be"),
    (DARTS_V2.replace(", reduce_concat=[2, 3, 4, 5]", ""), "lacks field"),
    (DARTS_V2.replace("reduce_concat", "reduced_concat"), "unknown Genotype field"),
    (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=__import__('os')"), "literal list"),
])
def test_malformed_strings_raise_one_clear_error(text, match):
    with pytest.raises(InvalidInputError, match=match):
        parse_genotype(text)


def test_same_input_twice_is_refused():
    with pytest.raises(InvalidInputError, match="reads state 0 twice"):
        Genotype(normal=[("skip_connect", 0)] * 8, reduce=[("skip_connect", 0), ("skip_connect", 1)] * 4)


def test_every_published_nb301_string_round_trips_exactly():
    with shared_file("nb301/nb301_sample_cifar10.csv").open() as handle:
        texts = [row["genotype"] for row in csv.DictReader(handle)]
    assert len(texts) == 725
    assert [format_genotype(parse_genotype(t)) for t in texts] == texts


def test_config_round_trip_is_canonical():
    space = DartsSpace()
    for seed in range(20):
        g = space.sample(seed)
        config = to_config(g)
        assert len([k for k in config if "edge_" in k]) == 16
        assert from_config(config) == g.canonical()
    with pytest.raises(InvalidInputError, match="exactly 2"):
        from_config({k: v for k, v in to_config(space.sample(0)).items() if not k.endswith("edge_normal_0")})
