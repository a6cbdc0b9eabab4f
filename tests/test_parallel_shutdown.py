"""Nothing outlives the head: a killed or terminated head leaves no worker (nor resource tracker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gcnas.parallel import Terminated, terminate_as_interrupt

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")

HEAD = """
import json, os, sys, time
from gcnas.parallel import Terminated, make_executor, terminate_as_interrupt

if __name__ == "__main__":
    try:
        with terminate_as_interrupt(), make_executor("process", 2) as executor:
            pids = [f.result() for f in [executor.submit(os.getpid) for _ in range(2)]]
            sleeps = [executor.submit(time.sleep, 60) for _ in range(2)]
            time.sleep(0.5)  # both calls reach their workers
            print(json.dumps(pids), flush=True)
            for future in sleeps:
                future.result()
    except Terminated as stop:
        print("clean", flush=True)
        sys.exit(128 + stop.signum)
"""


def _state(pid: int) -> str | None:
    """The process state letter (R, S, Z...), None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")  # a zombie has exited (an orphan's may wait for its reaper)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _start_head(tmp_path: Path) -> tuple[subprocess.Popen, list[int], list[int]]:
    """The head running two 60 s calls on two workers; its worker pids and all its children."""
    script = tmp_path / "head.py"
    script.write_text(HEAD)
    head = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path)
    watchdog = threading.Timer(60, head.kill)
    watchdog.start()
    line = head.stdout.readline()
    watchdog.cancel()
    assert line, head.stderr.read()
    workers = json.loads(line)
    children = _children(head.pid)
    assert set(workers) < set(children)  # the workers and the resource tracker
    return head, workers, children


def _reap(head: subprocess.Popen, pids: list[int]) -> None:
    """Leave nothing behind on the shared machine, whatever the test found."""
    if head.poll() is None:
        head.kill()
    head.wait()
    for pid in pids:
        if _alive(pid) and b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)


def test_workers_exit_when_the_head_is_killed(tmp_path):
    head, workers, children = _start_head(tmp_path)
    try:
        head.send_signal(signal.SIGKILL)
        head.wait()
        assert _gone_within(children, 5) == [], f"workers {workers} and resource tracker outlived kill -9"
    finally:
        _reap(head, children)


def test_sigterm_takes_the_interrupt_path(tmp_path):
    head, workers, children = _start_head(tmp_path)
    try:
        started = time.monotonic()
        head.send_signal(signal.SIGTERM)
        out, _ = head.communicate(timeout=20)
        assert head.returncode == 128 + signal.SIGTERM and out.strip() == "clean"
        assert time.monotonic() - started < 5
        assert [p for p in workers if _alive(p)] == []  # stopped by the head itself before it exited
        assert _gone_within(children, 5) == []
    finally:
        _reap(head, children)


def _own_sigterm() -> None:
    """Skip where SIGTERM already has a handler: signalling this process would not test ours."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL \
            or threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGTERM is handled by someone else in this test process")


def test_terminate_as_interrupt_raises_and_restores():
    _own_sigterm()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as stop:
        with terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted at once
    assert stop.value.signum == signal.SIGTERM and isinstance(stop.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) is before
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup: left ignored
    try:
        with terminate_as_interrupt():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_cli_exits_143_on_sigterm(monkeypatch, capsys):
    import argparse

    import gcnas.cli

    _own_sigterm()

    def handler(_args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int)
    parser.set_defaults(handler=handler, command="search")
    monkeypatch.setattr(gcnas.cli, "build_parser", lambda: parser)
    assert gcnas.cli.main([]) == 143
    assert capsys.readouterr().err == ("terminated by SIGTERM; finished work is kept in the run store, rerun the same "
                                       "command to resume\n")
