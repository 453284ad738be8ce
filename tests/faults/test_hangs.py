"""Scenario 6: tests that hang in Python, in C (time.sleep) and in a blocked read are timed out,
their whole process group is killed (helpers they started too), and the rest of the run goes on."""

from __future__ import annotations

HANGING_TESTS = """
import os
import subprocess
import time


def test_before():
    pass


def test_busy_loop_in_python():
    while True:
        pass


def test_sleep_in_c_with_a_helper_process():
    subprocess.Popen(["sleep", "300"])  # must not outlive the run
    time.sleep(300)


def test_blocked_read_on_a_pipe():
    read_end, _write_end = os.pipe()
    os.read(read_end, 1)


def test_after():
    pass
"""


def test_hangs_time_out_and_leave_no_orphans(
    make_project, cli, history_of, outcomes, query, processes_mentioning
):
    root = make_project({"tests/test_hang.py": HANGING_TESTS}, name="hang project")
    done = cli("run", str(root), "--timeout", "1", timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    prefix = "tests/test_hang.py::"
    assert outcomes(history_of(root)) == {
        prefix + "test_before": "passed",
        prefix + "test_busy_loop_in_python": "timeout",
        prefix + "test_sleep_in_c_with_a_helper_process": "timeout",
        prefix + "test_blocked_read_on_a_pipe": "timeout",
        prefix + "test_after": "passed",
    }
    messages = query(history_of(root), "select longrepr from results where outcome = 'timeout'")
    assert all("timed out after 1 s" in message for (message,) in messages)
    # A killed test is as slow as it was when killed, not 0 ms.
    durations = query(history_of(root), "select call_s from results where outcome = 'timeout'")
    assert len(durations) == 3 and all(call_s >= 1.0 for (call_s,) in durations), durations
    # The command returned after killing the groups: nothing from the project is still running.
    assert processes_mentioning(str(root)) == []


XDIST_TESTS = """
import subprocess
import time

import pytest


@pytest.mark.parametrize("n", range(6))
def test_quick(n):
    pass


def test_sleep_in_c_with_a_helper_process():
    subprocess.Popen(["sleep", "300"])
    time.sleep(300)
"""


def test_hang_under_xdist_kills_the_workers_and_requeues_the_rest(
    make_project, cli, history_of, outcomes, processes_mentioning
):
    root = make_project({"tests/test_hang.py": XDIST_TESTS}, name="xdist hang")
    done = cli("run", str(root), "--timeout", "1", "--", "-n", "2", timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    recorded = outcomes(history_of(root))
    assert recorded.pop("tests/test_hang.py::test_sleep_in_c_with_a_helper_process") == "timeout"
    assert recorded == {f"tests/test_hang.py::test_quick[{n}]": "passed" for n in range(6)}
    assert processes_mentioning(str(root)) == []
