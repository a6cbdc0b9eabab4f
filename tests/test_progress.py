"""Progress: tqdm's bar on a terminal, plain log lines when the stream is piped, one helper for both."""

from __future__ import annotations

import io

import pytest

import gcnas.progress as progress_module
from gcnas.cli import main
from gcnas.exceptions import InvalidInputError
from gcnas.progress import EVERY_S, MIN_GAP_S, Progress, progress, progress_mode


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _auto_mode(monkeypatch):
    monkeypatch.delenv("GCNAS_PROGRESS", raising=False)


def _lines(total: int, *, leave: bool = True, step_s: float = 1.0, desc: str = "fit", unit: str = "epoch"):
    stream, clock = io.StringIO(), Clock()
    bar = Progress(None, total=total, desc=desc, unit=unit, mode="lines", stream=stream, leave=leave, initial=0,
                   clock=clock)
    for i in range(total):
        clock.now += step_s
        bar.set_postfix(loss=1.0 / (i + 1))
        bar.update()
    bar.close()
    return stream.getvalue().splitlines()


def test_lines_at_each_tenth_at_most_every_min_gap_and_a_last_line():
    lines = _lines(200, step_s=1.0)  # 200 s of work: a tenth every 20 s
    assert len(lines) == 10
    assert lines[0] == "fit: epoch 20/200 (10%), loss 0.05, 20 s, about 3 min 00 s left"
    assert lines[-1] == "fit: epoch 200/200 (100%), loss 0.005, 3 min 20 s"
    fast = _lines(200, step_s=0.01)  # 2 s of work: tenths come faster than MIN_GAP_S
    assert fast == ["fit: epoch 200/200 (100%), loss 0.005, 2.0 s"]


def test_slow_work_logs_every_few_seconds_between_tenths():
    lines = _lines(4, step_s=3 * EVERY_S)  # each unit is one minute: every update is due
    assert [line.split(",")[0] for line in lines] == ["fit: epoch 1/4 (25%)", "fit: epoch 2/4 (50%)",
                                                       "fit: epoch 3/4 (75%)", "fit: epoch 4/4 (100%)"]
    assert MIN_GAP_S < EVERY_S


def test_transient_progress_only_logs_while_slow():
    assert _lines(100, leave=False, step_s=0.01) == []  # an inner loop: its caller logs the epochs
    slow = _lines(10, leave=False, step_s=EVERY_S / 2)
    assert len(slow) == 5 and "about" in slow[0]


def test_lines_on_a_pipe_and_the_bar_on_a_terminal():
    piped = io.StringIO()
    for _ in progress(range(3), desc="scoring", unit="arch", stream=piped):
        pass
    assert piped.getvalue() == "scoring: arch 3/3 (100%), 0.0 s\n"
    terminal = Terminal()
    bar = progress(range(3), desc="scoring", unit="arch", stream=terminal)
    assert type(bar._bar).__module__.startswith("tqdm")  # noqa: SLF001 - tqdm draws it
    list(bar)
    assert "\r" in terminal.getvalue() and "3/3" in terminal.getvalue() and "(100%)" not in terminal.getvalue()
    quiet = io.StringIO()
    assert list(progress(range(3), enabled=False, stream=quiet)) == [0, 1, 2] and quiet.getvalue() == ""


@pytest.mark.parametrize(("value", "terminal", "expected"), [(None, False, "lines"), (None, True, "bar"),
                                                             ("lines", True, "lines"), ("bar", False, "bar"),
                                                             ("off", True, "off")])
def test_gcnas_progress_overrides_the_choice(monkeypatch, value, terminal, expected):
    if value is not None:
        monkeypatch.setenv("GCNAS_PROGRESS", value)
    assert progress_mode(Terminal() if terminal else io.StringIO()) == expected


def test_unknown_gcnas_progress_is_a_user_error(monkeypatch):
    monkeypatch.setenv("GCNAS_PROGRESS", "loud")
    with pytest.raises(InvalidInputError, match="GCNAS_PROGRESS must be one of auto, bar, lines, off"):
        progress_mode(io.StringIO())


def test_piped_predictor_fit_lut_build_and_encoder_pretrain_log_progress(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "MIN_GAP_S", 0.0)  # a tenth is due whenever it comes
    run = ["--run", str(tmp_path), "--format", "json"]
    assert main(["predictor", "fit", "--table", "nb201:cifar10", "--num-train", "20", "--epochs", "10",
                 "--ensemble", "2", *run]) == 0
    fit = capsys.readouterr().err.splitlines()
    assert fit[-1].startswith("gcn fit: epoch 20/20 (100%), member 2/2, loss ")
    assert "gcn fit: epoch 2/20 (10%), member 1/2, loss " in fit[0] and len(fit) >= 5
    assert main(["lut", "build", *run]) == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith("lut build: step 3/3 (100%), rows 15625, ")
    assert main(["encoder", "pretrain", "--epochs", "2", "--decoder-epochs", "1", "--hidden-dim", "8",
                 "--num-layers", "1", *run]) == 0
    pretrain = capsys.readouterr().err.splitlines()
    assert pretrain[-1].startswith("encoder pretrain (arch2vec): step 440/440 (100%), loss ")
    assert any("step 44/440 (10%)" in line for line in pretrain)


def test_predictor_fit_on_a_terminal_draws_the_bar(tmp_path, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["predictor", "fit", "--table", "nb201:cifar10", "--num-train", "20", "--epochs", "5",
                 "--ensemble", "1", "--run", str(tmp_path), "--format", "json"]) == 0
    drawn = terminal.getvalue()
    assert "gcn fit" in drawn and "\r" in drawn and "5/5" in drawn
    assert "epoch 5/5 (100%)" not in drawn  # no log lines on a terminal
