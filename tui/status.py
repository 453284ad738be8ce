"""The status line: watching or paused, what changed, what was selected and why, save-to-result time."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from testwatch.config.units import format_duration
from testwatch.tui.state import SessionState
from testwatch.tui.text import literal

SHOWN_CHANGES = 2


def status_line(state: SessionState) -> Text:
    """One line of text describing the session now, derived from the state the tree is drawn from:
    the verdict counts the tree's failing tests, what ran is the current run's own scope."""
    text = Text("❚❚ paused", style="yellow") if state.paused else Text("● watching", style="green")
    if state.watch_message and not (state.paused and state.watch_message.startswith("paused")):
        text.append("  ")
        text.append_text(literal(state.watch_message))
    run = state.run
    # Results first: the change's results are in, and the same tests rerun to record their
    # dependencies. That progress comes after the verdict and the changed files: at 80 columns it
    # pushed the file just saved off the line.
    recording = state.running and run.trigger == "record"
    if state.running and not recording:
        text.append(f"  running {_progress(run)}", style="cyan")
    elif run is not None and run.finished is not None and run.finished.cancelled:
        text.append("  cancelled", style="yellow")
    failing = state.failing
    if failing:
        text.append(f"  red: {failing} failing", style="bold red")
    elif (not state.running or run.trigger == "record") and state.green is not None:
        # A recording reruns the tests whose results are in: their verdict stands meanwhile.
        text.append("  green" if state.green else "  red", style="green" if state.green else "bold red")
    if state.last_changes:
        names = ", ".join(path.rsplit("/", 1)[-1] for path in state.last_changes[:SHOWN_CHANGES])
        more = len(state.last_changes) - SHOWN_CHANGES
        text.append("  changed: ", style="dim")
        text.append_text(literal(names + (f" +{more}" if more > 0 else "")))
    if recording:
        text.append(f"  recording {_progress(run)}", style="cyan")
    if run is not None:
        text.append("  selected " if state.running else "  ran ", style="dim")
        text.append_text(literal(run.scope()))
    if state.save_to_result_s is not None:
        text.append(f"  save→result {format_duration(state.save_to_result_s)}", style="dim")
    return text


def _progress(run) -> str:
    return f"{run.done}/{run.total if run.total is not None else '?'}"


class StatusLine(Static):
    """A one-line Static redrawn from the session state."""

    def show(self, state: SessionState) -> None:
        self.update(status_line(state), layout=False)  # one line, fixed in app.tcss: no relayout
