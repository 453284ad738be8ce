"""Helpers for the measurement tests: read a project's history file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

MIB = 1024 * 1024


def history_rows(root: Path, sql: str, params: tuple = ()) -> list[dict]:
    """Rows of a query on the project's default history file, as dicts."""
    conn = sqlite3.connect(root / ".testwatch" / "history.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


@pytest.fixture
def rows():
    return history_rows
