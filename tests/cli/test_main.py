from __future__ import annotations

import json

import pytest

from gcnas.cli import COMMAND_MODULES, build_parser, main

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_every_command_group_is_registered():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public accessor
    assert {"arch", "supernet", "train", "hw", "encoder", "predictor", "lut", "search", "demo", "runs",
            "status"} <= set(choices)
    assert len(COMMAND_MODULES) == 10


def test_arch_show_prints_code_canonical_and_costs(capsys):
    assert main(["arch", "show", BEST, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["string"] == BEST and record["code"] == 11668 and record["is_canonical"] is True
    # the official counter (xautodl get_model_infos) gives these for this cell on CIFAR-10
    assert record["params_m"] == pytest.approx(1.288506) and record["flops_m"] == pytest.approx(184.73025)


def test_arch_show_accepts_a_code_and_an_official_index(capsys, nb201_200ep):
    assert main(["arch", "show", "11668"]) == 0
    assert BEST in capsys.readouterr().out
    assert main(["arch", "show", "code:11668", "--format", "json"]) == 0
    by_code = json.loads(capsys.readouterr().out)
    assert by_code["string"] == BEST and by_code["code"] == 11668
    assert main(["arch", "show", f"index:{by_code['index']}", "--format", "json"]) == 0  # packaged table
    assert json.loads(capsys.readouterr().out)["string"] == BEST
    assert main(["arch", "show", "index:0", "--table", str(nb201_200ep.path), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["index"] == 0 and record["test_acc"] == pytest.approx(85.8633) and record["code"] == 13931
    assert main(["arch", "show", "0", "--table", str(nb201_200ep.path)]) == 1  # a bare number would flip meaning
    assert "write index:0" in capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["arch", "show", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "unknown operation 'conv'"),
    (["arch", "show", "99999"], "out of range"),
    (["arch", "show", "index:1", "--table", "/nonexistent.csv"], "does not exist"),
])
def test_user_errors_print_one_line_without_traceback(capsys, argv, fragment):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_help_works_for_every_command(capsys):
    for group in ("arch", "supernet", "hw", "encoder", "predictor", "lut", "search", "demo"):
        with pytest.raises(SystemExit) as info:
            main([group, "--help"])
        assert info.value.code == 0
    assert "usage: gcnas" in capsys.readouterr().out


def test_an_index_missing_from_the_table_is_one_line(capsys, small_table):
    absent = next(i for i in range(15625) if i not in set(small_table._indices.tolist()))  # noqa: SLF001
    assert main(["arch", "show", f"index:{absent}", "--table", str(small_table.path)]) == 1
    err = capsys.readouterr().err
    assert f"index {absent} is not in" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not err.split("error: ", 1)[1].startswith("'")  # a sentence, not a quoted KeyError key


@pytest.mark.parametrize("bug", [ValueError("internal shape mismatch"), KeyError("internal_key")])
def test_errors_that_are_not_user_errors_keep_their_traceback(monkeypatch, bug):
    import gcnas.cli.arch as arch_cli

    def broken(*args, **kwargs):
        raise bug

    monkeypatch.setattr(arch_cli, "resolve_arch", broken)
    with pytest.raises(type(bug)):
        main(["arch", "show", BEST])


def test_exit_codes_user_error_is_1_usage_error_is_2(small_table, tmp_path, capsys):
    assert main(["arch", "show", "|bogus~0|"]) == 1  # bad input: one line, status 1
    err = capsys.readouterr().err
    assert err.startswith("gcnas arch: error:") and err.count("\n") == 1
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error keeps status 2
        main(["arch", "show", "--no-such-flag"])
    assert usage.value.code == 2
    run = str(tmp_path / "r")
    assert main(["search", "run", "--run", run, "--method", "random", "--budget", "3",
                 "--accuracy-from", f"table:{small_table.path}:valid_acc"]) == 0
    capsys.readouterr()
    assert main(["search", "compare", run, "--column", "nosuch"]) == 1
    assert "has no column 'nosuch'" in capsys.readouterr().err


def test_every_flag_and_argument_has_help_text():
    import argparse

    missing = []

    def walk(parser, path):
        for action in parser._actions:  # noqa: SLF001 - argparse has no public accessor
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif not action.help and action.dest != "help":
                missing.append(" ".join([*path, *(action.option_strings or [action.dest])]))

    walk(build_parser(), ["gcnas"])
    assert missing == []


def test_csv_output_and_strict_json(capsys):
    import csv
    import io

    from gcnas.cli._common import emit

    assert main(["arch", "show", "code:11668", "--format", "csv"]) == 0
    rows = {r["field"]: r["value"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["code"] == "11668" and rows["string"] == BEST
    emit([{"a": float("nan"), "b": float("inf"), "c": 1.5, "d": [float("-inf")]}], "json")
    text = capsys.readouterr().out
    assert json.loads(text) == [{"a": None, "b": None, "c": 1.5, "d": [None]}]
    assert "NaN" not in text and "Infinity" not in text


def test_latency_and_energy_sources_share_one_flag_family(capsys):
    assert main(["hw", "costs", "code:11668", "--latency-from", "nb201:latency:pixel3",
                 "--energy-from", "model", "--format", "json"]) == 0
    from_form = json.loads(capsys.readouterr().out)
    assert main(["hw", "costs", "code:11668", "--latency", "nb201:latency:pixel3", "--energy", "model",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == from_form
