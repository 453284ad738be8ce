"""The index beside test_deps (dep_owners, stale_dep_paths): selections that read only the rows of
changed files still select every test whose dependency changed."""

from __future__ import annotations

import sqlite3


def _db(root):
    return sqlite3.connect(root / ".testwatch" / "history.db")


def test_owners_are_counted_as_recorded(recorded):
    db = _db(recorded)
    counted = dict(db.execute("select nodeid, deps from dep_owners"))
    expected = dict(db.execute("select nodeid, count(*) from test_deps group by nodeid"))
    assert counted == expected
    assert "tests/test_core.py::test_double" in counted
    assert db.execute("select path from stale_dep_paths").fetchall() == []


def test_a_test_not_rerun_after_its_file_was_recorded_stays_selected(recorded, cli, edit, affected):
    edit(recorded / "calc/core.py", "return x * RATE", "return RATE * x")
    out = cli("run", str(recorded), "--deps", "--", "tests/test_core.py::test_negate")
    assert out.returncode == 0, out.stdout + out.stderr
    stale = _db(recorded).execute("select path from stale_dep_paths").fetchall()
    assert stale == [("calc/core.py",)]
    result = affected(recorded)
    assert result["selected"] == ["tests/test_core.py::test_double"]
    assert result["reasons"]["tests/test_core.py::test_double"] == "calc/core.py::double changed"
    out = cli("run", str(recorded), "--affected")
    assert "tests/test_core.py::test_double" in out.stdout, out.stdout
    assert _db(recorded).execute("select path from stale_dep_paths").fetchall() == []
    assert affected(recorded)["selected"] == []


def test_reverting_a_recorded_change_selects_the_tests_recorded_after_it(recorded, cli, edit, affected):
    edit(recorded / "calc/core.py", "return -x", "return 0 - x")
    out = cli("run", str(recorded), "--affected")
    assert out.returncode == 0, out.stdout + out.stderr
    edit(recorded / "calc/core.py", "return 0 - x", "return -x")
    assert affected(recorded)["selected"] == ["tests/test_core.py::test_negate"]


def test_a_history_from_before_the_index_is_migrated_and_selects_the_same(recorded, edit, affected):
    db = _db(recorded)
    with db:
        db.execute("drop table dep_owners")
        db.execute("drop table stale_dep_paths")
        db.execute("pragma user_version = 3")
    db.close()
    edit(recorded / "calc/core.py", "return -x", "return 0 - x")
    assert affected(recorded)["selected"] == ["tests/test_core.py::test_negate"]
    db = _db(recorded)
    assert db.execute("select count(*) from dep_owners").fetchone()[0] > 0
    assert db.execute("pragma user_version").fetchone()[0] >= 4
