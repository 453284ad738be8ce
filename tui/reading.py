"""Reading the history off the app's loop: a read-only connection of the worker thread's own
(SQLite connections stay on the thread that opened them), closed when the read is done."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testwatch.history.store import History, read_only_uri


@contextmanager
def reading(path: Path) -> Iterator[History]:
    """The history at ``path``, read-only, for this thread."""
    conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=30)
    try:
        yield History(conn, path)
    finally:
        conn.close()
