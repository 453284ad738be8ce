"""Scenario 7: a segfault, os._exit, a SIGKILL from outside and a memory limit: each is recorded
with its cause, pytest is restarted, and the rest of the run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

CRASHING_TESTS = """
import ctypes
import os
import resource
import time
from pathlib import Path


def test_before():
    pass


def test_segfault():
    ctypes.string_at(0)


def test_exit_3():
    os._exit(3)


def test_killed_from_outside():
    Path(os.environ["PID_FILE"]).write_text(str(os.getpid()))
    time.sleep(300)


def test_over_memory_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, hard))
    try:
        blob = bytearray(2 * 1024 * 1024 * 1024)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_after():
    pass
"""


def test_crashes_are_recorded_with_their_cause_and_the_rest_completes(
    make_project, history_of, outcomes, query, wait_for, tmp_path
):
    root = make_project({"tests/test_crash.py": CRASHING_TESTS})
    pid_file = tmp_path / "pytest.pid"
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    with subprocess.Popen(
        [sys.executable, "-m", "testwatch", "run", str(root), "--timeout", "120"],
        env={**env, "PID_FILE": str(pid_file)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as testwatch:
        pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the test's pid"))
        os.kill(pid, signal.SIGKILL)
        stdout, stderr = testwatch.communicate(timeout=120)
    assert testwatch.returncode == 1, stdout + stderr
    assert "Traceback" not in stderr

    prefix = "tests/test_crash.py::"
    assert outcomes(history_of(root)) == {
        prefix + "test_before": "passed",
        prefix + "test_segfault": "crashed",
        prefix + "test_exit_3": "crashed",
        prefix + "test_killed_from_outside": "crashed",
        prefix + "test_over_memory_limit": "failed",
        prefix + "test_after": "passed",
    }
    causes = dict(query(history_of(root), "select nodeid, longrepr from results"))
    assert "killed by SIGSEGV" in causes[prefix + "test_segfault"]
    assert 'test_crash.py", line 13 in test_segfault' in causes[prefix + "test_segfault"]  # faulthandler
    assert "exit code 3" in causes[prefix + "test_exit_3"]
    assert "killed by SIGKILL" in causes[prefix + "test_killed_from_outside"]
    # Under RLIMIT_AS Python's allocation fails cleanly: the test fails with the cause.
    assert "MemoryError" in causes[prefix + "test_over_memory_limit"]
    assert "restarting for" in stdout


def test_worker_crash_under_xdist_is_blamed_on_its_test(make_project, cli, history_of, outcomes):
    root = make_project({"tests/test_crash.py": """
        import ctypes

        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_quick(n):
            pass

        def test_segfault():
            ctypes.string_at(0)
    """})
    done = cli("run", str(root), "--", "-n", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    recorded = outcomes(history_of(root))
    assert recorded.pop("tests/test_crash.py::test_segfault") == "crashed"
    assert recorded == {f"tests/test_crash.py::test_quick[{n}]": "passed" for n in range(4)}
