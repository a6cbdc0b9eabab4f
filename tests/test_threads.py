"""The thread policy: one intra-op thread unless asked, OpenMP threads that sleep."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from gcnas.cli import main
from gcnas.exceptions import GcnasError
from gcnas.threads import DEFAULT_THREADS, THREADS_ENV, apply_thread_policy, resolve_threads


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_default_is_one_thread(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert DEFAULT_THREADS == 1
    torch.set_num_threads(2)
    assert apply_thread_policy() == 1
    assert torch.get_num_threads() == 1


def test_environment_and_explicit_choice(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "2")
    assert resolve_threads() == 2
    assert resolve_threads(3) == 3  # an explicit flag wins over the environment
    assert apply_thread_policy() == 2 and torch.get_num_threads() == 2


@pytest.mark.parametrize("value", ["zero", "0", "-1", "1.5"])
def test_bad_environment_value_is_one_clear_error(monkeypatch, value):
    monkeypatch.setenv(THREADS_ENV, value)
    with pytest.raises(GcnasError, match=THREADS_ENV):
        resolve_threads()


def test_bad_explicit_value_is_an_error():
    with pytest.raises(GcnasError, match="positive integer"):
        resolve_threads(0)


def test_every_command_runs_under_the_policy(monkeypatch, capsys):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    torch.set_num_threads(2)
    assert main(["arch", "show", "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|"]) == 0
    assert torch.get_num_threads() == 1
    assert main(["--threads", "2", "arch", "show", "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|"]) == 0
    assert torch.get_num_threads() == 2
    assert main(["--threads", "0", "arch", "show", "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|"]) != 0
    assert "positive integer" in capsys.readouterr().err


def _wait_policy_after_import(env: dict[str, str]) -> str:
    code = "import os, gcnas; print(os.environ.get('OMP_WAIT_POLICY', '<unset>'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_gcnas_makes_openmp_wait_passively_unless_chosen():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _wait_policy_after_import(env) == "PASSIVE"
    assert _wait_policy_after_import({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"


def test_numpy_blas_pool_follows_the_policy(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    monkeypatch.delenv(THREADS_ENV, raising=False)
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if not blas:
        pytest.skip("numpy has no BLAS thread pool here")
    with threadpool_limits(limits=2, user_api="blas"):  # as numpy starts on 2 cores; restored after
        apply_thread_policy()
        assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}


def test_policy_reaches_torch_imported_after_it():
    """A command that never imports torch does not pay for it; one that does still gets the policy's count."""
    import subprocess
    import sys

    code = ("import sys; from gcnas.threads import apply_thread_policy; apply_thread_policy(2); "
            "assert 'torch' not in sys.modules; import torch; print(torch.get_num_threads())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in __import__("os").environ.items() if k != "OMP_NUM_THREADS"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2"
