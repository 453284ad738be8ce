"""Scenario 17: spaces and unicode in the project path, the test files and names, and the history
location: runs, crash restarts, the history and exports all work."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

PROJECT = {
    "src dir/prix €.py": "def total(n):\n    return n * 2\n",
    "tests/test_çà_et_là.py": """
        import os
        import sys

        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src dir"))
        prix = __import__("prix €")

        def test_ünïcödé_name():
            assert prix.total(2) == 4

        def test_crash_then_restart_in_a_spaced_path():
            os._exit(3)

        def test_日本語():
            print("sortie: 日本語 ✓")
    """,
}
EXPECTED = {
    "tests/test_çà_et_là.py::test_ünïcödé_name": "passed",
    "tests/test_çà_et_là.py::test_crash_then_restart_in_a_spaced_path": "crashed",
    "tests/test_çà_et_là.py::test_日本語": "passed",
}


@pytest.mark.parametrize("history_from", ["default", "TESTWATCH_DB"])
def test_spaces_and_unicode_everywhere(history_from, make_project, outcomes, query, tmp_path):
    root = make_project(PROJECT, name="my projé ct/ 测试 dir")
    db = root / ".testwatch" / "history.db"
    env = {}
    if history_from == "TESTWATCH_DB":  # the same code path as --db
        db = tmp_path / "hïstory dir" / "h db €.sqlite"
        env = {"TESTWATCH_DB": str(db)}
    done = _testwatch("run", str(root), env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert outcomes(db) == EXPECTED
    assert "sortie: 日本語 ✓\n" in [row[0] for row in query(db, "select stdout from results")]
    assert oct(db.stat().st_mode & 0o777) == "0o600"

    export = _testwatch("export", str(root), "--format", "csv", env=env)
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert {row["nodeid"]: row["outcome"] for row in rows} == EXPECTED


def _testwatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real CLI with exactly this TESTWATCH_DB (the shared ``cli`` fixture always drops it)."""
    full_env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    return subprocess.run(
        [sys.executable, "-m", "testwatch", *args],
        env={**full_env, **env}, capture_output=True, text=True, timeout=120,
    )
