"""Two torchrun "nodes" on this machine, joined by the c10d rendezvous over loopback.

Each node is one ``python -m torch.distributed.run --nnodes 2 --nproc_per_node 1`` with its
own ``--local-addr`` (127.0.0.1 and 127.0.0.2) and its own run directory, as two machines
without a shared filesystem would have: c10d numbers nodes in the sorted order of their
addresses, so the node at 127.0.0.1 is rank 0, the only one that writes (and, on
``--resume``, reads) the checkpoint.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gcnas.supernet import checkpoint_path

ROOT = Path(__file__).resolve().parents[2]
NODES = ("127.0.0.1", "127.0.0.2")
"""``--local-addr`` of each node; the first sorts first, so it is rank 0."""
TRAIN = ("--channels", "4", "--cells", "1", "--epochs", "3", "--batch-size", "16", "--steps-per-epoch", "8",
         "--device", "cpu", "--seed", "0")
"""The tiny supernet of every run here (the stalled script below repeats it in Python)."""
VOLATILE = ("seconds", "images_per_s")
STALL_SCRIPT = """
import sys, time
from pathlib import Path
import os
from gcnas.supernet import train_supernet

run, marker = sys.argv[1], Path(sys.argv[2])

def stall_rank0_after_epoch_1(record):
    # rank 0 has written the epoch-1 checkpoint; rank 1 goes on and waits for it in epoch 2
    if record["epoch"] == 1 and os.environ["RANK"] == "0":
        marker.write_text(str(os.getpid()))
        time.sleep(600)

train_supernet(run, dataset="digits", channels=4, cells=1, epochs=3, batch_size=16, steps_per_epoch=8,
               device="cpu", seed=0, callback=stall_rank0_after_epoch_1)
"""


def _second_loopback_address() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind((NODES[1], 0))
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed"),
    pytest.mark.skipif(not _second_loopback_address(), reason=f"{NODES[1]} is not a loopback address here"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _launch(runs: tuple[Path, Path], program: list[str]) -> list[subprocess.Popen]:
    """Start both nodes; ``program`` follows torchrun's own options, ``{run}`` is the node's run directory."""
    port = _free_port()
    # gloo on the loopback interface: the host name may resolve to another address
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GCNAS_DDP_BACKEND": "gloo", "GLOO_SOCKET_IFNAME": "lo"}
    nodes = []
    for address, run in zip(NODES, runs):
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
                   "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", f"job{port}",
                   "--rdzv-conf", "join_timeout=120", "--local-addr", address, "--max-restarts", "0",
                   *[part.format(run=run) for part in program]]
        nodes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, start_new_session=True))
        if len(nodes) == 1:
            # Both agents see the loopback endpoint as their own and race to host the rendezvous store;
            # when the second node won, its agent could exit first and leave node 0 a broken pipe. Node 0
            # hosts it, as on a real cluster where the endpoint is the first node's address.
            _wait_for_port(port, nodes[0])
    return nodes


def _wait_for_port(port: int, node: subprocess.Popen, timeout: float = 120) -> None:
    """Until something listens on ``port`` (read from /proc: a probing connection would reach the
    rendezvous store itself, which takes it for a client)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and node.poll() is None:
        if _listening(port):
            return
        time.sleep(0.05)


def _listening(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def _finish(nodes: list[subprocess.Popen], timeout: float = 300) -> list[tuple[int, str]]:
    results = []
    for node in nodes:
        try:
            _, err = node.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_node(node)
            _, err = node.communicate()
        results.append((node.returncode, err))
    return results


def _kill_node(node: subprocess.Popen) -> None:
    """SIGKILL a torchrun agent and its workers (torchrun starts each worker in a session of its own)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [node.pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _checkpoint(run: Path) -> dict:
    return torch.load(checkpoint_path(run), weights_only=True)


def _stable(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in VOLATILE} for record in history]


CLI_TRAIN = ["-m", "gcnas", "--", "supernet", "train", "--run", "{run}", *TRAIN, "--format", "json"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """Three epochs on two nodes, uninterrupted; the run directory of rank 0."""
    base = tmp_path_factory.mktemp("two_nodes")
    runs = (base / "node0", base / "node1")
    for (code, err), run in zip(_finish(_launch(runs, CLI_TRAIN)), runs):
        assert code == 0, f"{run.name}: {err[-3000:]}"
    assert not runs[1].exists()  # rank 1 writes nothing, not even its run directory
    return runs[0]


def test_two_nodes_train_one_supernet(uninterrupted):
    saved = _checkpoint(uninterrupted)
    assert saved["config"]["world_size"] == 2
    assert [r["epoch"] for r in saved["history"]] == [1, 2, 3]
    assert {r["world_size"] for r in saved["history"]} == {2}


def test_resume_after_a_lost_node(tmp_path, uninterrupted):
    runs = (tmp_path / "node0", tmp_path / "node1")
    script, marker = tmp_path / "stall.py", tmp_path / "stalled"
    script.write_text(STALL_SCRIPT)
    nodes = _launch(runs, [str(script), "{run}", str(marker)])
    deadline = time.monotonic() + 300
    while not marker.exists() and all(n.poll() is None for n in nodes) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not marker.exists():
        errors = _finish(nodes, timeout=1)
        pytest.fail(f"rank 0 never finished epoch 1: {[e[-2000:] for _, e in errors]}")
    after_one = _checkpoint(runs[0])
    assert after_one["epoch"] == 1

    _kill_node(nodes[0])                             # the node of rank 0 is lost
    started = time.monotonic()
    (_, _), (code, err) = _finish(nodes, timeout=60)
    assert code != 0, "the surviving node finished a run that had lost half its world"
    assert time.monotonic() - started < 60, "the surviving node did not notice the lost one"
    assert _checkpoint(runs[0])["epoch"] == 1 and not runs[1].exists()

    resumed = _finish(_launch(runs, [*CLI_TRAIN, "--resume"]))
    for (code, err), run in zip(resumed, runs):
        assert code == 0, f"{run.name}: {err[-3000:]}"
    saved = _checkpoint(runs[0])
    assert [r["epoch"] for r in saved["history"]] == [1, 2, 3]
    assert saved["history"][0] == after_one["history"][0]  # continued from the checkpoint, not retrained
    assert not runs[1].exists()                           # rank 1 read the checkpoint from rank 0
    whole = _checkpoint(uninterrupted)
    assert _stable(saved["history"]) == _stable(whole["history"])
    for name, value in whole["model"].items():
        assert torch.equal(value, saved["model"][name]), name
