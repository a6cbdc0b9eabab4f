"""A reader of stdout that goes away (``| head``) ends the command quietly, with status 141."""

from __future__ import annotations

import subprocess
import sys

from gcnas.cli import EXIT_BROKEN_PIPE


def _gcnas(*args: str) -> list[str]:
    return [sys.executable, "-m", "gcnas", *args]


def test_closed_stdout_ends_quietly_with_141(tiny_run):
    process = subprocess.Popen(_gcnas("search", "trials", "--study", "random", "--format", "json", "--run",
                                      str(tiny_run)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the command writes a byte
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_BROKEN_PIPE == 141
    assert err == ""  # no traceback, no "Exception ignored ... BrokenPipeError"


def test_head_of_a_long_output_is_quiet(tiny_run):
    # 3,000 rows of JSON (~1 MB) fill the pipe: the writer is blocked when head exits
    command = (f"{' '.join(_gcnas('lut', 'query', '--top', '3000', '--format', 'json', '--run', str(tiny_run)))}"
               " | head -2; echo \"gcnas exited ${PIPESTATUS[0]}\" >&2")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[0] == "["
    assert len(done.stdout.splitlines()) == 2
    assert done.stderr.strip() == "gcnas exited 141"
