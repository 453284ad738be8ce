"""``testwatch history import`` refuses what is not a whole testwatch history (a text file, a damaged
or foreign SQLite file, one from a newer testwatch, no file at all) with one line and exit 4, and
writes nothing: not to this history, not to the other file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli, sql_dump, write_files

PAGE_BYTES = 4096


@pytest.fixture(scope="module")
def real_history(tmp_path_factory) -> Path:
    """The history of one real ``testwatch run`` (with enough results to fill several pages)."""
    root = tmp_path_factory.mktemp("source") / "project"
    body = "\n".join(f"def test_{i}():\n    print('{'x' * 200}')\n    assert {i} % 7\n" for i in range(60))
    write_files(root, {"tests/test_many.py": body})
    run_cli("run", str(root), env={"TESTWATCH_MACHINE": "elsewhere"})
    db = root / ".testwatch" / "history.db"
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(truncate)")  # every page in the main file, to damage one
    conn.close()
    return db


@pytest.fixture
def here(tmp_path) -> Path:
    """This project's history, with one run of its own."""
    root = tmp_path / "here"
    write_files(root, {"tests/test_one.py": "def test_one():\n    pass\n"})
    assert run_cli("run", str(root)).returncode == 0
    return root / ".testwatch" / "history.db"



def refused(here: Path, source: Path) -> str:
    """Import ``source``; check it was refused in one line with nothing written; return the line."""
    before = sql_dump(here)
    source_before = source.read_bytes() if source.is_file() else None
    result = run_cli("history", "import", str(source), "--db", str(here))
    assert result.returncode == 4
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"testwatch: {source} ") and lines[0].endswith("; nothing was imported")
    assert sql_dump(here) == before
    if source_before is not None:
        assert source.read_bytes() == source_before
    return lines[0]


def test_a_text_file_is_refused(here, tmp_path):
    source = tmp_path / "notes.db"
    source.write_text("these are my notes, not a history\n")
    assert "is not a SQLite database" in refused(here, source)


def test_a_missing_file_or_a_folder_is_refused(here, tmp_path):
    assert "does not exist" in refused(here, tmp_path / "nowhere.db")
    assert "is not a file" in refused(here, tmp_path)


def test_a_damaged_history_is_refused(here, real_history, tmp_path):
    source = tmp_path / "damaged.db"
    data = bytearray(real_history.read_bytes())
    assert len(data) > 4 * PAGE_BYTES
    data[2 * PAGE_BYTES : 3 * PAGE_BYTES] = b"\xa5" * PAGE_BYTES  # a page of garbage inside the file
    source.write_bytes(bytes(data))
    line = refused(here, source)
    assert "is damaged" in line or "cannot be read as a history" in line


def test_a_truncated_history_is_refused(here, real_history, tmp_path):
    source = tmp_path / "truncated.db"
    source.write_bytes(real_history.read_bytes()[: 3 * PAGE_BYTES])
    line = refused(here, source)
    assert "is damaged" in line or "cannot be read as a history" in line


def test_a_foreign_sqlite_file_is_refused(here, tmp_path):
    source = tmp_path / "shop.db"
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("create table orders (id integer primary key, total real)")
        conn.execute("insert into orders (total) values (9.5)")
        conn.execute("pragma user_version = 3")  # a version number of its own
    conn.close()
    assert "is a SQLite database but not a testwatch history" in refused(here, source)


def test_a_history_from_a_newer_testwatch_is_refused(here, real_history, tmp_path):
    source = tmp_path / "newer.db"
    source.write_bytes(real_history.read_bytes())
    conn = sqlite3.connect(source)
    conn.execute("pragma user_version = 99")
    conn.close()
    assert "was written by a newer testwatch (schema 99" in refused(here, source)


def test_the_real_history_is_then_imported(here, real_history):
    # The refusals above are the file's fault: the same history, whole, goes in.
    result = run_cli("history", "import", str(real_history), "--db", str(here))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"imported 1 run from {real_history} (60 results")


def test_a_failure_part_way_leaves_nothing_imported(here, real_history):
    # The samples come after the runs and results: a write failing there (a full disk, here a
    # trigger that aborts) must take the runs and results already added with it.
    conn = sqlite3.connect(here)
    with conn:
        conn.execute(
            "create trigger no_room before insert on samples begin select raise(abort, 'disk full'); end"
        )
    conn.close()
    before = sql_dump(here)
    result = run_cli("history", "import", str(real_history), "--db", str(here))
    assert result.returncode == 4
    assert result.stderr.strip() == (
        f"testwatch: {real_history} could not be merged into {here} (disk full); nothing was imported"
    )
    assert sql_dump(here) == before
