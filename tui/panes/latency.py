"""The latency pane: slowest tests, median and p95 call time per test over the history, regressions
flagged (``testwatch.measure.latency`` decides what a regression is)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from testwatch.config.units import format_duration
from testwatch.measure.latency import RECENT_RUNS, Latency, recent_latencies
from testwatch.model.wording import counted
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.fitted_table import Column, FittedTable
from testwatch.tui.text import literal

SHOWN_TESTS = 200
NAMED_SLOWER = 3  # the summary names this many of the tests slower than usual
# p95 and the regression mark outlast the run count at 80 columns; the name takes the room left.
COLUMNS = [
    Column("test", flex=1, min_width=20), Column("last", 7), Column("p50", 7), Column("p95", 7),
    Column("runs", 4, drop=1), Column("", 6),
]


class LatencyPane(Pane):
    """Per-test call durations over the recent runs, slowest newest first."""

    NAME = "latency"
    READS_HISTORY = True
    TITLE = "Latency"

    def compose(self) -> ComposeResult:
        yield Static(id="latency-summary", markup=False)
        yield FittedTable(COLUMNS, id="latency-table", cursor_type="row", zebra_stripes=True)

    def reload(self) -> None:
        self.stale = False
        nodeids = list(self.state.tests)  # taken here: the worker thread must not walk the live rows
        self.read_then(lambda history: recent_latencies(history, nodeids), self.show)

    def show(self, data: dict[str, Latency]) -> None:
        latencies = sorted(data.values(), key=lambda lat: lat.newest_s, reverse=True)
        tests = counted(len(latencies), "test")
        summary = Text(f"{tests}, call time over their last {RECENT_RUNS} passing runs")
        slower = [lat.nodeid for lat in latencies if lat.regressed]
        if slower:
            summary.append(f"\n{len(slower)} slower than usual: ", style="bold red")
            summary.append_text(literal(", ".join(slower[:NAMED_SLOWER])))
            if len(slower) > NAMED_SLOWER:
                summary.append(f" and {len(slower) - NAMED_SLOWER} more (marked below)", style="dim")
        self.query_one("#latency-summary", Static).update(summary)
        shown = latencies[:SHOWN_TESTS]
        rows = [
            (
                literal(lat.nodeid), format_duration(lat.newest_s), format_duration(lat.median_s),
                format_duration(lat.p95_s), len(lat.durations_s),
                Text("slower", style="bold red") if lat.regressed else "",
            )
            for lat in shown
        ]
        self.query_one(FittedTable).show_rows(rows, [lat.nodeid for lat in shown])
