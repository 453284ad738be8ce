"""Keeps the runs in the history: a run's row, its results (buffered, written a batch at a time),
figures that arrive after a result, and threshold breaches.

A listener on the engine's bus (results, late figures, breaches) that the engine also asks to
open and close the run's row and to flush. A history that cannot be written is said once; results
are then kept in memory and written at the next flush that succeeds.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

from testwatch.history.store import History, now_iso
from testwatch.model.events import EngineNotice, TestFinished, TestMeasured, TestsCollected, ThresholdBreached
from testwatch.model.results import TestResult
from testwatch.run.git_state import head_revision, local_changes
from testwatch.run.listeners import Listener

FLUSH_INTERVAL_S = 0.1


class HistoryWriter:
    """Writes one run at a time into ``history``; says what it cannot write through ``publish``."""

    def __init__(self, history: History, publish: Listener) -> None:
        self.history = history
        self.publish = publish
        self.run_id: int | None = None
        self._unsaved: list[TestResult] = []
        self._remeasured: dict[str, TestResult] = {}  # saved, then got figures
        self._last_flush = 0.0
        self._warned = False
        self._error = ""  # the newest reason a write failed
        self._revision: str | None = None  # the run's commit
        self._changes: _LocalChanges | None = None  # the uncommitted changes, read beside the run

    def start_run(
        self, trigger: str, selected: int | None, args: list[str], measuring: str, python: str, root: Path
    ) -> int | None:
        """The new run's id, or None when the history cannot be written."""
        self._unsaved.clear()
        self._remeasured.clear()
        self._revision = head_revision(root)
        # Reading the working tree's changes costs git a stat of every file: off the run's start.
        self._changes = _LocalChanges(root) if self._revision else None
        try:
            self.run_id = self.history.start_run(
                trigger, selected, args, measuring=measuring, python=python, git_revision=self._revision,
            )
        except sqlite3.Error as exc:
            self._warn(exc)
            self.run_id = None
        return self.run_id

    def __call__(self, event) -> None:
        if isinstance(event, TestFinished):
            self._unsaved.append(event.result)
        elif isinstance(event, TestMeasured):
            result = event.result  # its figures were added in place: an unsaved one is saved with them
            if not any(unsaved is result for unsaved in self._unsaved):
                self._remeasured[result.nodeid] = result
        elif isinstance(event, ThresholdBreached):
            self._record_breach(event)
        elif isinstance(event, TestsCollected) and event.clean_files:
            try:
                self.history.forget_file_outcomes(event.clean_files)
            except sqlite3.Error as exc:
                self._warn(exc)

    def flush(self, force: bool = False) -> None:
        """Write what is buffered, unless the last write was less than ``FLUSH_INTERVAL_S`` ago."""
        now = time.monotonic()
        pending = self._unsaved or self._remeasured
        if not pending or (not force and now - self._last_flush < FLUSH_INTERVAL_S):
            return
        self._last_flush = now
        if self.run_id is None:
            self._unsaved.clear()
            self._remeasured.clear()
            return
        try:
            self.history.add_results(self.run_id, self._unsaved)
            self._unsaved.clear()
            self.history.update_figures(self.run_id, self._remeasured.values())
            self._remeasured.clear()
        except sqlite3.Error as exc:
            self._warn(exc)  # kept in memory and retried at the next flush

    def finish_run(self, history_path: Path, **fields) -> None:
        """Write the rest and close the run's row with ``fields`` (``runs`` columns)."""
        self.flush(force=True)
        if self._unsaved:
            self.publish(EngineNotice(
                f"{len(self._unsaved)} results of this run could not be written to the history "
                f"{history_path} ({self._error}); they were reported, not saved",
                "error",
            ))
        changes = self._changes.result() if self._changes is not None else ""
        if changes:
            fields["git_revision"] = f"{self._revision}{changes}"
        if self.run_id is not None:
            with contextlib.suppress(sqlite3.Error):
                self.history.finish_run(self.run_id, **fields)

    def _record_breach(self, breach: ThresholdBreached) -> None:
        """A history that cannot be written loses breaches (flushes say so)."""
        if breach.run_id is None:
            return
        row = {
            "run_id": breach.run_id, "nodeid": breach.nodeid, "path": breach.path, "kind": breach.kind,
            "value": breach.value, "limit_value": breach.limit, "created_at": now_iso(),
        }
        with contextlib.suppress(sqlite3.Error):
            self.history.insert_rows("breaches", [row])

    def _warn(self, exc: Exception) -> None:
        self._error = str(exc)
        if not self._warned:
            self._warned = True
            self.publish(EngineNotice(f"cannot write the history ({exc}); results are kept in memory"))


class _LocalChanges:
    """``git_state.local_changes`` of a folder, read in a thread of its own."""

    def __init__(self, root: Path) -> None:
        self._found = ""
        self._thread = threading.Thread(target=self._read, args=(root,), name="testwatch-git", daemon=True)
        self._thread.start()

    def _read(self, root: Path) -> None:
        self._found = local_changes(root)

    def result(self) -> str:
        """The digest ("" for none, or when git took too long to say)."""
        self._thread.join(timeout=10)
        return self._found
