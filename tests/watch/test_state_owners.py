"""Shared state has one owner: a history connection serves only its own thread, and file states
cross threads frozen, adopted by the selection's side."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading

import pytest

from testwatch.history.store import open_history
from testwatch.select.file_states import FileState, FileStates


def test_the_history_connection_refuses_another_thread(tmp_path):
    history = open_history(tmp_path / "history.db")
    failures: list[Exception] = []

    def use() -> None:
        try:
            history.conn.execute("select count(*) from runs").fetchone()
        except sqlite3.ProgrammingError as exc:
            failures.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(failures) == 1 and "thread" in str(failures[0])
    assert history.conn.execute("select count(*) from runs").fetchone() == (0,)
    history.close()


def test_recorded_states_are_frozen_and_adopted_over_the_stored_ones(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    history = open_history(tmp_path / ".testwatch" / "history.db")
    states = FileStates(tmp_path, history)
    assert states.stored() == {}
    recorded = FileState("abc", '{"<module>": "m"}', (10, 20))
    with pytest.raises(dataclasses.FrozenInstanceError):
        recorded.sha = "changed"  # type: ignore[misc]
    states.adopt({"a.py": recorded})
    assert states.stored()["a.py"].hashes == {"<module>": "m"}
    now = states.get("a.py")  # the stat differs from the adopted one: hashed again
    assert now is not None and now.sha != "abc" and now.blocks is not None
    history.close()
