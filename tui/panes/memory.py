"""The memory pane: the test process tree's RSS over this run (and the last one, faint), the test
running now, and the tests whose peak rose most above their start, with the process's peak RSS
during each (``~`` where it is not the kernel's exact mark), what each retained and its top
allocator."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Label, Sparkline, Static

from testwatch.config.units import format_size
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.fitted_table import Column, FittedTable
from testwatch.tui.state import SessionState
from testwatch.tui.text import literal

TOP_TESTS = 50
# Growth and peak outlast what was retained and who allocated it at 80 columns.
COLUMNS = [
    Column("test", flex=3, min_width=20), Column("growth", 9), Column("peak RSS", 10),
    Column("retained", 9, drop=1), Column("top allocator", flex=2, min_width=16, drop=2),
]


class MemoryPane(Pane):
    """Live RSS graph plus the heaviest tests of the newest run."""

    NAME = "memory"
    TITLE = "Memory"

    def compose(self) -> ComposeResult:
        yield Static(id="memory-now", markup=False)
        yield Label("this run", classes="graph-label")
        yield Sparkline([], id="rss-graph")
        yield Label("previous run", classes="graph-label faint")
        yield Sparkline([], id="rss-previous", classes="faint")
        yield FittedTable(COLUMNS, id="memory-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.refresh_from(self.state)

    def refresh_from(self, state: SessionState) -> None:
        if state.run is not None and state.run.finished is not None:
            self.stale = True  # the run's per-test figures are in the history now
        self.query_one("#rss-graph", Sparkline).data = [rss for _, rss in state.samples]
        self.query_one("#rss-previous", Sparkline).data = [rss for _, rss in state.previous_samples]
        now = Text()
        if state.samples:
            latest = state.samples[-1][1]
            peak = max(rss for _, rss in state.samples)
            now.append(f"RSS {format_size(latest)}  peak {format_size(peak)}")
        else:
            now.append("no memory samples yet", style="dim")
        if state.running_now:
            now.append("\nrunning: ", style="dim")
            now.append_text(literal(state.running_now))
        self.query_one("#memory-now", Static).update(now, layout=False)  # fixed height in app.tcss

    def reload(self) -> None:
        super().reload()
        rows, keys = [], []
        sql = (
            "select nodeid, peak_growth_bytes, peak_rss_bytes, memory_precision, retained_bytes, "
            "top_allocations from results "
            "where run_id = (select max(run_id) from results where peak_growth_bytes is not null) "
            "and peak_growth_bytes is not null order by peak_growth_bytes desc limit ?"
        )
        for row in self.history.rows(sql, [TOP_TESTS]):
            rows.append((
                literal(row["nodeid"]), format_size(row["peak_growth_bytes"]),
                _peak(row["peak_rss_bytes"], row["memory_precision"]),
                format_size(row["retained_bytes"]), literal(_top_allocator(row["top_allocations"])),
            ))
            keys.append(row["nodeid"])
        self.query_one(FittedTable).show_rows(rows, keys)


def _peak(peak_rss_bytes: int | None, precision: str | None) -> str:
    """The peak RSS, marked ``~`` unless it is the kernel's exact mark (a sample is at most the
    true peak, a process's lifetime peak at least)."""
    if peak_rss_bytes is None:
        return ""
    return format_size(peak_rss_bytes) + ("" if precision == "exact" else " ~")


def _top_allocator(raw: str | None) -> str:
    """The first of memray's top allocations (``collectors/memray_windows.biggest_locations``), as
    ``function file:line size``, or empty."""
    if not raw:
        return ""
    try:
        top = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(top, list) or not top or not isinstance(top[0], dict):
        return ""
    first = top[0]
    where = str(first.get("location") or "?")
    size = first.get("bytes")
    return f"{where} {format_size(size)}" if isinstance(size, int) else where
