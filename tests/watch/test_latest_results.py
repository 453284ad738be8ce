"""latest_results (schema v5): each test's newest result, kept by triggers, which the selection reads
instead of grouping every stored result."""

from __future__ import annotations

import sqlite3


def _latest(root) -> dict[str, str]:
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    return dict(db.execute("select nodeid, outcome from latest_results"))


def _grouped(root) -> dict[str, str]:
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    sql = "select nodeid, outcome from results where id in (select max(id) from results group by nodeid)"
    return dict(db.execute(sql))


def test_latest_results_follow_runs_and_deletions(sample, cli, edit, affected):
    edit(sample / "calc/core.py", "return -x", "return x")
    assert cli("run", str(sample), "--affected").returncode == 1
    assert _latest(sample)["tests/test_core.py::test_negate"] == "failed"
    edit(sample / "calc/core.py", "return x\n", "return -x\n")
    assert cli("run", str(sample), "--affected").returncode == 0
    latest = _latest(sample)
    assert latest["tests/test_core.py::test_negate"] == "passed"
    assert latest == _grouped(sample)
    db = sqlite3.connect(sample / ".testwatch" / "history.db")
    with db:
        db.execute("delete from results where run_id = (select max(id) from runs)")
    assert _latest(sample)["tests/test_core.py::test_negate"] == "failed"
    assert _latest(sample) == _grouped(sample)
    assert affected(sample)["selected"] == ["tests/test_core.py::test_negate"]


def test_a_history_from_before_v5_gets_its_latest_results(sample, cli):
    assert cli("run", str(sample)).returncode == 0
    db = sqlite3.connect(sample / ".testwatch" / "history.db")
    with db:
        db.execute("drop table latest_results")
        for trigger in ("insert", "update", "delete"):
            db.execute(f"drop trigger latest_results_{trigger}")
        db.execute("pragma user_version = 4")
    db.close()
    assert cli("history", str(sample)).returncode == 0
    assert _latest(sample) == _grouped(sample)
    assert len(_latest(sample)) == 3
