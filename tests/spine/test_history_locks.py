"""A process that opens its history twice keeps SQLite's locks on the file.

The app holds the history open on its main thread, and its controller thread opens it again.
Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's too: the
second open's check of the file's header did that, so the next testwatch that closed its own
connection (``testwatch affected`` in another terminal) found itself the last user of the file,
checkpointed it and deleted the write-ahead log under the app, whose writes then failed ("file is
not a database") and whose exit wrote stale pages over the history.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testwatch.history.errors import HistoryError
from testwatch.history.store import open_history

READ_AND_CLOSE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("select max(id) from runs").fetchone()[0])
conn.close()
"""


def _read_elsewhere(path: Path) -> str:
    """The newest run's id as another process reads it, closing its connection after."""
    done = subprocess.run([sys.executable, "-c", READ_AND_CLOSE, str(path)], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_a_second_open_keeps_the_first_connections_locks(tmp_path):
    path = tmp_path / ".testwatch" / "history.db"
    first = open_history(path)
    second = open_history(path)  # as the app's controller thread does
    try:
        first.start_run("manual", None, [])
        assert _read_elsewhere(path) == "1"
        assert Path(f"{path}-wal").exists()  # the other process did not take itself for the last user
        run_id = first.start_run("manual", None, [])
        assert _read_elsewhere(path) == str(run_id)  # the next write reached the file others read
        assert second.conn.execute("pragma quick_check").fetchone()[0] == "ok"
    finally:
        second.close()
        first.close()
    assert _read_elsewhere(path) == str(run_id)


def test_a_file_no_history_holds_open_is_checked_again(tmp_path):
    # The check is skipped only while this process holds the file open: once closed, whatever
    # takes the path (here a user's notes, after the history was removed) is checked anew.
    path = tmp_path / "history.db"
    open_history(path).close()
    path.unlink()
    path.write_text("my notes\n")
    with pytest.raises(HistoryError, match="is not a SQLite database"):
        open_history(path)
    assert path.read_text() == "my notes\n"
