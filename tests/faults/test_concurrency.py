"""Scenario 10: two testwatch runs on one project at once, and ``testwatch export`` while they write:
no ``database is locked``, no corruption, every result of both runs kept, each export well formed."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

SUITE = """
import time

import pytest


@pytest.mark.parametrize("n", range(150))
def test_step(n):
    time.sleep(0.01)
"""


def test_two_runs_and_exports_at_once(make_project, cli, history_of, query, tmp_path):
    root = make_project({"tests/test_steps.py": SUITE})
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "testwatch", "run", str(root)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    exported_counts = []
    try:
        while any(run.poll() is None for run in runs) or len(exported_counts) < 3:
            export = cli("export", str(root), "--format", "csv")
            starting = ("no history at", "no results table yet")
            if export.returncode != 0 and any(text in export.stderr for text in starting):
                continue  # the first run has not created the history yet
            assert export.returncode == 0, export.stderr
            assert "locked" not in export.stderr
            rows = list(csv.DictReader(io.StringIO(export.stdout)))
            assert all(row["outcome"] == "passed" and row["nodeid"] for row in rows)
            exported_counts.append(len(rows))
        outputs = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()

    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stdout + stderr
        assert "locked" not in stdout + stderr and "cannot write the history" not in stdout
    assert exported_counts == sorted(exported_counts)  # each export a consistent, growing snapshot
    db = history_of(root)
    assert query(db, "pragma integrity_check") == [("ok",)]
    assert query(db, "select status, passed from runs order by id") == [("finished", 150)] * 2
    assert query(db, "select run_id, count(*) from results group by run_id") == [(1, 150), (2, 150)]


OPEN_AND_RUN = """
import sys
from pathlib import Path

from testwatch.history.store import open_history

history = open_history(Path(sys.argv[1]))
run_id = history.start_run("manual", None, [])
history.finish_run(run_id, status="finished")
print(history.warnings)
"""


def test_many_processes_creating_one_history_at_once_all_use_it(tmp_path, query):
    for round_number in range(3):
        db = tmp_path / f"round {round_number}" / "history.db"
        starters = [
            subprocess.Popen([sys.executable, "-c", OPEN_AND_RUN, str(db)], stdout=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        outputs = [starter.communicate(timeout=120)[0] for starter in starters]
        assert outputs == ["[]\n"] * 4  # no "database is locked" fallback to memory
        assert query(db, "select count(*) from runs where status = 'finished'") == [(4,)]
