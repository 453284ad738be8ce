"""Helpers for the fault suite: read a real history file, wait for a condition, find orphans."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest


def query(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` from the history at ``db_path``, opened read-only the way a user would."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def outcomes(db_path: Path, run_id: int | None = None) -> dict[str, str]:
    """nodeid -> outcome of one run (the newest when ``run_id`` is None)."""
    if run_id is None:
        run_id = query(db_path, "select max(id) from runs")[0][0]
    rows = query(db_path, "select nodeid, outcome from results where run_id = ?", (run_id,))
    return dict(rows)


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Live (not zombie) processes whose command line or working folder mentions ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (text in cmdline or text in cwd):
            found.append((int(entry.name), cmdline))
    return found


@pytest.fixture
def history_of():
    """The default history file of a project root."""
    return lambda root: root / ".testwatch" / "history.db"


# The suite runs with --import-mode=importlib, where test modules cannot import this file:
# the helpers reach them as fixtures.


@pytest.fixture(name="query")
def query_fixture():
    return query


@pytest.fixture(name="outcomes")
def outcomes_fixture():
    return outcomes


@pytest.fixture(name="processes_mentioning")
def processes_mentioning_fixture():
    return processes_mentioning
