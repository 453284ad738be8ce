"""A recording reuses the block hashes ``file_state`` holds for a file whose content is unchanged:
the rows it stores are the same as when every hash is computed again."""

from __future__ import annotations

import shutil
import sqlite3

import pytest


def _rows(root) -> dict[str, list[tuple]]:
    """What a recording stores, without the run ids and file times that differ between runs."""
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    queries = {
        "test_deps": "select nodeid, path, kind, fingerprint from test_deps",
        "file_state": "select path, sha, blocks from file_state",
        "dep_owners": "select nodeid, deps from dep_owners",
        "stale_dep_paths": "select path from stale_dep_paths",
    }
    try:
        return {table: sorted(db.execute(sql).fetchall()) for table, sql in queries.items()}
    finally:
        db.close()


def _record(cli, root) -> None:
    out = cli("run", str(root), "--deps")
    assert out.returncode == 0, out.stdout + out.stderr


def test_recording_again_stores_the_same_rows(recorded, cli):
    first = _rows(recorded)
    assert any(path == "calc/core.py" for path, _, _ in first["file_state"])
    _record(cli, recorded)
    assert _rows(recorded) == first


EDITS = [("return x * RATE", "return RATE * x"), ("RATE = 2", "RATE = 2\nEXTRA = 1")]


@pytest.mark.parametrize("old, new", EDITS)
def test_after_an_edit_the_rows_match_a_fresh_history(recorded, cli, edit, old, new):
    edit(recorded / "calc/core.py", old, new)
    _record(cli, recorded)
    fresh = recorded.parent / "fresh"
    shutil.copytree(recorded, fresh, ignore=shutil.ignore_patterns(".testwatch", "__pycache__"))
    _record(cli, fresh)
    assert _rows(recorded) == _rows(fresh)
