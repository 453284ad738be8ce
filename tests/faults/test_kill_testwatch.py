"""Scenario 9: ``kill -9`` of testwatch while results stream in. The pytest child (and its xdist
workers) notice and exit within seconds, the history is intact with every committed result, and the
next start marks the interrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

SLOW_SUITE = """
import time

import pytest


@pytest.mark.parametrize("n", range(400))
def test_slow(n):
    time.sleep(0.02)
"""


@pytest.mark.parametrize("pytest_args", [[], ["-n", "2"]], ids=["single", "xdist"])
def test_kill_9_loses_nothing_committed_and_leaves_no_orphans(
    pytest_args, make_project, cli, history_of, query, wait_for, processes_mentioning, tmp_path
):
    root = make_project({"tests/test_slow.py": SLOW_SUITE})
    db = history_of(root)
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    testwatch = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "run", str(root), "--", *pytest_args],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _stored_results(query, db) >= 20, what="results to stream into the history")
        committed = query(db, "select id, nodeid, outcome from results")
        children = [pid for pid, _ in processes_mentioning(str(root)) if pid != testwatch.pid]
        assert children, "the pytest child should be running"
        testwatch.send_signal(signal.SIGKILL)
        testwatch.wait(timeout=30)
    finally:
        if testwatch.poll() is None:
            testwatch.kill()

    # The watchdog in the child's plugin kills its process group once the engine is gone.
    wait_for(lambda: not processes_mentioning(str(root)), timeout_s=15, what="the orphans to exit")

    assert query(db, "pragma integrity_check") == [("ok",)]
    after = query(db, "select id, nodeid, outcome from results")
    assert set(committed) <= set(after)
    assert all(outcome == "passed" for _, _, outcome in after)

    # The next start works and marks the run the killed testwatch left behind.
    done = cli("run", str(root), "--", "-k", "test_slow and 7]", *pytest_args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert query(db, "select id, status from runs order by id") == [(1, "interrupted"), (2, "finished")]


def _stored_results(query, db) -> int:
    """How many results the history holds; 0 while testwatch is still creating it."""
    try:
        return query(db, "select count(*) from results")[0][0]
    except sqlite3.OperationalError:
        return 0
