"""A recording is stored as soon as the run's last pytest session has ended, while that pytest is
still exiting (its plugins' end, its garbage collection): the store overlaps the child's exit."""

from __future__ import annotations

import sqlite3

import pytest

CALC = "def double(x):\n    return 2 * x\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
# The child waits, in its last hook, for the history to hold the run's dependencies.
WAITS_FOR_THE_STORE = """
import os
import sqlite3
import time
from pathlib import Path


def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller ends last
        return
    db, mark = os.environ["HISTORY_TO_WATCH"], Path(os.environ["STORED_MARK"])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                if conn.execute("select count(*) from test_deps").fetchone()[0]:
                    mark.write_text("stored before pytest exited")
                    return
            finally:
                conn.close()
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    mark.write_text("not stored while pytest ran")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_the_recording_is_stored_while_the_last_pytest_exits(make_project, cli, tmp_path, workers):
    """Under pytest-xdist the controller's session ends after its workers wrote their records."""
    root = make_project({"calc.py": CALC, "tests/test_calc.py": TEST, "conftest.py": WAITS_FOR_THE_STORE})
    db, mark = tmp_path / "history.db", tmp_path / "stored"
    out = cli("run", str(root), "--deps", "--db", str(db), "--", *workers,
              env={"HISTORY_TO_WATCH": str(db), "STORED_MARK": str(mark)})
    assert out.returncode == 0, out.stdout + out.stderr
    assert mark.read_text() == "stored before pytest exited"
    stored = sqlite3.connect(db).execute(
        "select path, kind from test_deps where nodeid = 'tests/test_calc.py::test_double'").fetchall()
    assert ("calc.py", "block:double") in stored
