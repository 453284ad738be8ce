"""The base of every pane: draws from the session state and can hand its table over for export."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.containers import Vertical
from textual.widget import Widget

from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.tui.panes.fitted_table import FittedTable
from testwatch.tui.state import SessionState

T = TypeVar("T")


class Pane(Vertical):
    """One tab of the app. Data comes down through ``refresh_from``; events go up as messages."""

    NAME = ""
    TITLE = ""
    READS_HISTORY = False  # whether it shows what ``read`` reads from the history

    def __init__(self, history: History, state: SessionState) -> None:
        super().__init__(id=f"pane-{self.NAME}", classes="pane")
        self.history = history
        self.state = state
        self.stale = True  # history-backed panes reload when next shown
        self.reads_pending = 0  # reads of the history under way in worker threads

    @classmethod
    def for_session(cls, history: History, state: SessionState, config: Config) -> Pane:
        """The pane for this session (panes that need a setting of ``config`` override this)."""
        return cls(history, state)

    def refresh_from(self, state: SessionState) -> None:
        """Draw the news in ``state``; called at most once per frame with a batch applied.

        Panes that show the history only note that they must read it again when next shown.
        """
        self.stale = True

    @property
    def shown(self) -> bool:
        """Whether this pane's tab is the one on screen."""
        return self.parent is not None and bool(self.parent.display)

    def catch_up(self) -> None:
        """Draw what ``refresh_from`` held back while the pane was hidden (panes that defer override)."""

    def reload(self) -> None:
        """Read what the pane shows from the history again, off the app's loop, then draw it."""
        self.stale = False
        if self.READS_HISTORY:
            self.read_then(self.read, self.show)

    def read(self, history: History) -> object:
        """What the pane shows, read from ``history``; runs in a worker thread (no widgets here)."""
        return None

    def show(self, data: object) -> None:
        """Draw what ``read`` returned; on the app's loop."""

    def read_then(self, read: Callable[[History], T], show: Callable[[T], None], kind: str = "pane") -> None:
        """Run ``read(history)`` in a worker thread on a connection of its own, then ``show`` what it
        returned here; a newer read of the same ``kind`` makes an older one's result void."""
        self.app.read_history(f"{self.NAME}.{kind}", self, read, show)

    @property
    def main_widget(self) -> Widget:
        """The pane's main widget (its first table, tree or log): the one that has the focus when it shows."""
        return self.query("Tree, DataTable, RichLog").first()

    def export_table(self) -> tuple[list[str], list[list[object]]]:
        """The table this pane shows (the focused one when it has several), as headers and whole rows."""
        tables = list(self.query(FittedTable))
        if not tables:
            return [], []
        return next((t for t in tables if t.has_focus), tables[0]).contents()
