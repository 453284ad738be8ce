"""The history survives a SIGKILL of testwatch mid-run, and two testwatch processes share it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

SLOW_SUITE = {
    "tests/test_slow.py": textwrap.dedent("""
        import time
        import pytest

        @pytest.mark.parametrize("n", range(60))
        def test_step(n):
            time.sleep(0.1)
    """),
}


def _count_results(tw, db) -> int:
    try:
        return tw.query(db, "select count(*) from results")[0][0]
    except sqlite3.Error:
        return 0  # not created yet


def test_sigkill_mid_run_keeps_committed_results_and_a_sound_file(make_project, tw):
    root = make_project(SLOW_SUITE)
    db = tw.history_db(root)
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    process = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "run", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        tw.wait_until(lambda: _count_results(tw, db) >= 5, "five committed results")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    committed = _count_results(tw, db)
    assert committed >= 5
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("select count(*) from results").fetchone()[0] == committed
        rows = conn.execute("select nodeid, outcome from results order by id").fetchall()
    finally:
        conn.close()
    assert [nodeid for nodeid, _ in rows[:3]] == [f"tests/test_slow.py::test_step[{n}]" for n in range(3)]
    assert {outcome for _, outcome in rows} == {"passed"}


def test_two_writers_at_once_both_record_everything(make_project, cli, tw):
    root = make_project({
        "tests/test_many.py": textwrap.dedent("""
            import time
            import pytest

            @pytest.mark.parametrize("n", range(40))
            def test_n(n):
                time.sleep(0.02)
        """),
    })
    outputs = []

    def one_run():
        outputs.append(cli("run", str(root)))

    writers = [threading.Thread(target=one_run) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    for done in outputs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "database is locked" not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    db = tw.history_db(root)
    counts = tw.query(db, "select run_id, count(*) from results group by run_id order by run_id")
    assert [tuple(row) for row in counts] == [(1, 40), (2, 40)]
    statuses = tw.query(db, "select status, passed from runs order by id")
    assert [tuple(row) for row in statuses] == [("finished", 40), ("finished", 40)]
