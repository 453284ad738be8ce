"""Helpers for the spine suite: read a real history file, wait for a condition with a deadline."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import wait_for

DEADLINE_S = 90.0


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = DEADLINE_S) -> object:
    """Poll ``condition`` until it is truthy; fail naming ``what`` after a generous deadline."""
    return wait_for(condition, timeout_s, what)


def query(db_path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Rows of ``sql`` from a history file, opened read-only the way a user's script would."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def history_db(root: Path) -> Path:
    """Where ``testwatch run`` keeps a project's history by default."""
    return root / ".testwatch" / "history.db"


def newest_results(root: Path) -> dict[str, sqlite3.Row]:
    """nodeid -> results row of the newest run of the project at ``root``."""
    db = history_db(root)
    rows = query(db, "select * from results where run_id = (select max(id) from runs) order by id")
    return {row["nodeid"]: row for row in rows}


@pytest.fixture
def tw() -> SimpleNamespace:
    """The helpers above, for test modules (importlib mode cannot import this conftest)."""
    return SimpleNamespace(
        wait_until=wait_until, query=query, history_db=history_db, newest_results=newest_results
    )
