"""The status line: watching or paused, what changed, what was selected and why, save-to-result time."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from testwatch.config.units import format_duration
from testwatch.tui.state import SessionState
from testwatch.tui.text import literal

SHOWN_CHANGES = 2


def status_line(state: SessionState) -> Text:
    """One line of text describing the session now."""
    text = Text("❚❚ paused", style="yellow") if state.paused else Text("● watching", style="green")
    if state.watch_message:
        text.append("  ")
        text.append_text(literal(state.watch_message))
    if state.running:
        run = state.run
        text.append(f"  running {run.done}/{run.total if run.total is not None else '?'}", style="cyan")
    elif state.green is not None:
        text.append("  green" if state.green else "  red", style="green" if state.green else "bold red")
    if state.last_changes:
        names = ", ".join(path.rsplit("/", 1)[-1] for path in state.last_changes[:SHOWN_CHANGES])
        more = len(state.last_changes) - SHOWN_CHANGES
        text.append("  changed: ", style="dim")
        text.append_text(literal(names + (f" +{more}" if more > 0 else "")))
    if state.selection:
        text.append("  ran ", style="dim")
        text.append_text(literal(state.selection))
    if state.save_to_result_s is not None:
        text.append(f"  save→result {format_duration(state.save_to_result_s)}", style="dim")
    return text


class StatusLine(Static):
    """A one-line Static redrawn from the session state."""

    def show(self, state: SessionState) -> None:
        self.update(status_line(state), layout=False)  # one line, fixed in app.tcss: no relayout
