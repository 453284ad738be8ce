"""Tests that kill their process or hang: recorded as crashed/timeout, the rest still run, no orphans."""

from __future__ import annotations

import psutil

CRASHING = {
    "tests/test_a_before.py": """
        def test_before():
            pass
    """,
    "tests/test_b_segfault.py": """
        import ctypes

        def test_segfault():
            ctypes.string_at(0)
    """,
    "tests/test_c_exit.py": """
        import os

        def test_exit():
            print("about to leave", flush=True)
            os._exit(7)
    """,
    "tests/test_d_after.py": """
        def test_after_1():
            pass

        def test_after_2():
            pass
    """,
}


def test_segfault_and_os_exit_are_crashes_and_the_rest_complete(make_project, cli, tw):
    root = make_project(CRASHING)
    done = cli("run", str(root))
    assert done.returncode == 1
    results = tw.newest_results(root)
    outcomes = {nodeid: row["outcome"] for nodeid, row in results.items()}
    assert outcomes == {
        "tests/test_a_before.py::test_before": "passed",
        "tests/test_b_segfault.py::test_segfault": "crashed",
        "tests/test_c_exit.py::test_exit": "crashed",
        "tests/test_d_after.py::test_after_1": "passed",
        "tests/test_d_after.py::test_after_2": "passed",
    }
    assert "SIGSEGV" in results["tests/test_b_segfault.py::test_segfault"]["longrepr"]
    assert "exit code 7" in results["tests/test_c_exit.py::test_exit"]["longrepr"]
    assert "restarting" in done.stdout
    (run,) = tw.query(tw.history_db(root), "select crashed, passed, exit_status from runs")
    assert tuple(run) == (2, 3, 1)


HANGING = {
    "tests/test_hang.py": """
        import os
        import subprocess
        import time

        def test_quick_first():
            pass

        def test_hangs():
            helper = subprocess.Popen(["sleep", "600"])
            with open(os.environ["SPINE_PIDS_FILE"], "w") as pids:
                pids.write(f"{os.getpid()} {helper.pid}")
            time.sleep(600)

        def test_quick_after():
            pass
    """,
}


def test_hang_past_the_timeout_is_killed_with_its_helpers(make_project, cli, tw, tmp_path):
    root = make_project(HANGING)
    pids_file = tmp_path / "pids.txt"
    done = cli("run", str(root), "--timeout", "2", env={"SPINE_PIDS_FILE": str(pids_file)})
    assert done.returncode == 1, done.stdout + done.stderr
    outcomes = {nodeid: row["outcome"] for nodeid, row in tw.newest_results(root).items()}
    assert outcomes == {
        "tests/test_hang.py::test_quick_first": "passed",
        "tests/test_hang.py::test_hangs": "timeout",
        "tests/test_hang.py::test_quick_after": "passed",
    }
    pytest_pid, helper_pid = map(int, pids_file.read_text().split())

    def gone(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    tw.wait_until(lambda: gone(pytest_pid) and gone(helper_pid), "the hung pytest and its helper to exit")
