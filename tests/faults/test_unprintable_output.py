"""Issue 14, item 8: testwatch's own output cannot be written (stdout closed with ``>&-``, or a
full disk, ``> /dev/full``). Printing fails; the run must still be recorded and end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SUITE = """
def test_passes():
    print("some output")


def test_fails():
    assert 1 == 2
"""


@pytest.mark.parametrize("stdout", ["closed", "/dev/full"])
@pytest.mark.parametrize("command", [["run"], ["run", "--json"]], ids=["lines", "json"])
def test_a_run_whose_output_cannot_be_written_is_still_recorded(
    stdout, command, make_project, history_of, query, outcomes, tmp_path
):
    root = make_project({"tests/test_a.py": SUITE})
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    argv = [sys.executable, "-m", "testwatch", *command, str(root)]
    if stdout == "closed":
        done = subprocess.run(["sh", "-c", '"$@" >&-', "sh", *argv], cwd=tmp_path, env=env,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    else:
        with open(stdout, "w") as full:
            done = subprocess.run(argv, cwd=tmp_path, env=env, stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # pytest's "some tests failed"
    assert "Traceback" not in done.stderr
    db = history_of(root)
    assert query(db, "select status, exit_status, passed, failed from runs") == [("finished", 1, 1, 1)]
    assert outcomes(db) == {"tests/test_a.py::test_passes": "passed", "tests/test_a.py::test_fails": "failed"}
