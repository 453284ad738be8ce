"""A recording reuses what it computed before for a file whose content is unchanged (the block
hashes ``file_state`` holds; the parses and coverage rows kept beside the history by content):
the rows it stores are the same as when everything is computed again, and a recording of
unchanged code rewrites none of the stored dependency rows."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from testwatch.select.blocks_cache import BlocksCache


def _rows(root) -> dict[str, list[tuple]]:
    """What a recording stores, without the run ids and file times that differ between runs."""
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    queries = {
        "test_deps": "select nodeid, path, kind, fingerprint from test_deps",
        "file_state": "select path, sha, blocks from file_state",
        "dep_owners": "select nodeid, deps from dep_owners",
        "stale_dep_paths": "select path from stale_dep_paths",
        "coverage": "select file, statements, covered, missing_lines from coverage "
        "where run_id = (select max(run_id) from coverage)",
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


def test_a_new_history_beside_the_kept_parses_stores_the_same_rows(recorded, cli):
    history = recorded / ".testwatch"
    assert (history / "file-blocks.json").is_file() and (history / "coverage-rows.json").is_file()
    first = _rows(recorded)
    for stale in history.glob("history.db*"):
        stale.unlink()
    _record(cli, recorded)
    assert _rows(recorded) == first


def test_a_recording_of_unchanged_code_rewrites_only_the_rows_that_changed(recorded, cli, edit):
    def run_ids() -> dict[str, set[int]]:
        db = sqlite3.connect(recorded / ".testwatch" / "history.db")
        try:
            found: dict[str, set[int]] = {}
            for nodeid, run_id in db.execute("select nodeid, run_id from test_deps"):
                found.setdefault(nodeid, set()).add(run_id)
            return found
        finally:
            db.close()

    first = run_ids()
    edit(recorded / "calc/core.py", "return -x", "return 0 - x")
    _record(cli, recorded)
    after = run_ids()
    assert after["tests/test_io.py::test_offset"] == first["tests/test_io.py::test_offset"]
    assert len(after["tests/test_core.py::test_negate"]) == 2  # its negate row is the new run's
    assert after["tests/test_core.py::test_double"] == first["tests/test_core.py::test_double"]


def test_the_kept_parses_forget_a_deleted_file(tmp_path):
    # Which files a recording parses through the kept parses depends on how far its parsing
    # thread gets while the tests run: the cache is checked here directly, the way it saves.
    root = tmp_path / "project"
    (root / "calc").mkdir(parents=True)
    for name in ("core", "scratch"):
        (root / "calc" / f"{name}.py").write_text(f"def {name}():\n    return 1\n")
    kept = tmp_path / "file-blocks.json"

    def cached_files() -> set[str]:
        return set(json.loads(kept.read_text())["files"])

    cache = BlocksCache(kept, root)
    for name in ("core", "scratch"):
        cache.file_blocks(f"calc/{name}.py", str(root / "calc" / f"{name}.py"))
    cache.save()
    assert cached_files() == {"calc/core.py", "calc/scratch.py"}
    (root / "calc" / "scratch.py").unlink()
    (root / "calc" / "core.py").write_text("def core():\n    return 2\n")  # something new to keep
    cache = BlocksCache(kept, root)
    cache.file_blocks("calc/core.py", str(root / "calc" / "core.py"))
    cache.save()
    assert cached_files() == {"calc/core.py"}
