"""Reads of the history for the app, off its loop: each in a worker thread on a read-only connection
of its own (``tui/reading.py``), its result handed back to the loop; only the newest read of each kind
is shown, and a failed read is reported, never fatal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import partial

from textual.app import App
from textual.css.query import NoMatches

from testwatch.history.store import History
from testwatch.tui.panes.base import Pane
from testwatch.tui.reading import reading


class HistoryReads:
    """The app's reads of its history; ``report`` says a failure in the app (a notice and a log line)."""

    def __init__(self, app: App, history: History, report: Callable[[str], None]) -> None:
        self.app = app
        self.history = history
        self.report = report
        self._generations: dict[str, int] = {}  # kind of read -> its newest generation

    def start(self, kind: str, pane: Pane, read: Callable[[History], object], show: Callable) -> None:
        """``show(read(history))`` for ``pane`` (its ``reads_pending`` counts the read meanwhile). A
        history in memory is read here: no other connection sees it."""
        if self.history.path is None:
            show(read(self.history))
            return
        generation = self._generations[kind] = self._generations.get(kind, 0) + 1
        pane.reads_pending += 1
        path = self.history.path

        def work() -> None:
            try:
                with reading(path) as history:
                    data = read(history)
            except Exception as exc:  # a bad row or a locked file: said in the app, never fatal
                outcome = partial(self._failed, pane, exc)
            else:
                outcome = partial(self._done, pane, kind, generation, show, data)
            with contextlib.suppress(RuntimeError):  # the app has closed meanwhile
                self.app.call_from_thread(outcome)

        self.app.run_worker(
            work,
            thread=True,
            group="history-reads",
            exit_on_error=False,
            description=f"reading the history for the {pane.TITLE} pane",
        )

    def reload_if_stale(self, pane: Pane) -> None:
        """Read the pane's data from the history again if it is stale."""
        if not pane.stale:
            return
        try:
            pane.reload()
        except Exception as exc:  # a history in memory is read here: a bad row must not end the session
            pane.stale = False
            self.report(f"the {pane.TITLE} pane could not read the history: {exc!r}")

    def _done(self, pane: Pane, kind: str, generation: int, show: Callable, data: object) -> None:
        pane.reads_pending -= 1
        if generation == self._generations[kind]:  # else a newer read of the same kind is coming
            with contextlib.suppress(NoMatches):  # the app is closing
                show(data)

    def _failed(self, pane: Pane, exc: Exception) -> None:
        pane.reads_pending -= 1
        self.report(f"the {pane.TITLE} pane could not read the history: {exc!r}")
