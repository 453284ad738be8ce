"""The log pane: every notice (errors, warnings, threshold breaches, tests slower than usual, the
watcher's own news), oldest first, wrapped to the pane's width."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.widgets import RichLog

from testwatch.tui.panes.base import Pane
from testwatch.tui.state import SessionState
from testwatch.tui.text import literal

MAX_LINES = 5000
# severity -> how its label looks
SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "breach": "bold red", "info": "dim"}


class LogPane(Pane):
    """Plain text, never markup; each notice wraps to the width; the view follows the newest."""

    NAME = "log"
    TITLE = "Log"

    def __init__(self, history, state) -> None:
        super().__init__(history, state)
        self._written = 0
        self._width = 0  # the width the notices were wrapped to

    def compose(self) -> ComposeResult:
        yield RichLog(id="log", max_lines=MAX_LINES, wrap=True, markup=False, highlight=False)

    def on_mount(self) -> None:
        self.refresh_from(self.state)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:  # wrap every notice again, once the log has its new width
            self._width = event.size.width
            self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        self.query_one(RichLog).clear()
        self._written = 0
        self.refresh_from(self.state)

    def refresh_from(self, state: SessionState) -> None:
        log = self.query_one(RichLog)
        width = log.scrollable_content_region.width or None  # None: not laid out yet, the log defers it
        for severity, message in state.notices[self._written :][-MAX_LINES:]:
            log.write(notice_text(severity, message), width=width)
        self._written = len(state.notices)

    def export_table(self) -> tuple[list[str], list[list[object]]]:
        return ["severity", "message"], [list(notice) for notice in self.state.notices]


def notice_text(severity: str, message: str) -> Text:
    """``severity: message``, the label styled, the message literal (never markup)."""
    text = Text(f"{severity}: ", style=SEVERITY_STYLES.get(severity, ""))
    text.append_text(literal(message))
    return text
