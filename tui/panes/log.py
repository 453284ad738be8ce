"""The log pane: every notice from the engine, the watcher and the collectors, oldest first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Log

from testwatch.model.terminal_text import safe
from testwatch.tui.panes.base import Pane
from testwatch.tui.state import SessionState


class LogPane(Pane):
    """Plain text lines, never markup; the view follows the newest line."""

    NAME = "log"
    TITLE = "Log"

    def __init__(self, history, state) -> None:
        super().__init__(history, state)
        self._written = 0

    def compose(self) -> ComposeResult:
        yield Log(id="log", max_lines=5000)

    def on_mount(self) -> None:
        self.refresh_from(self.state)

    def refresh_from(self, state: SessionState) -> None:
        log = self.query_one(Log)
        for severity, message in state.notices[self._written :]:
            log.write_line(f"{severity}: {safe(message)}")
        self._written = len(state.notices)

    def export_table(self) -> tuple[list[str], list[list[object]]]:
        return ["severity", "message"], [list(notice) for notice in self.state.notices]
