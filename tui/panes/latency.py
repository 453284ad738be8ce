"""The latency pane: slowest tests, median and p95 call time per test over the history, regressions
flagged (``testwatch.measure.latency`` decides what a regression is)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from testwatch.config.units import format_duration
from testwatch.measure.latency import RECENT_RUNS, recent_latencies
from testwatch.tui.panes.base import Pane, fixed_table, reset_table
from testwatch.tui.text import literal

SHOWN_TESTS = 200


class LatencyPane(Pane):
    """Per-test call durations over the recent runs, slowest newest first."""

    NAME = "latency"
    TITLE = "Latency"

    def compose(self) -> ComposeResult:
        yield Static(id="latency-summary", markup=False)
        table = fixed_table(
            "latency-table", ("test", 44), ("last", 8), ("p50", 8), ("p95", 8), ("runs", 5), ("", 7)
        )
        yield table

    def reload(self) -> None:
        super().reload()
        latencies = sorted(
            recent_latencies(self.history, self.state.tests).values(), key=lambda lat: lat.newest_s,
            reverse=True,
        )
        regressions = sum(lat.regressed for lat in latencies)
        summary = Text(f"{len(latencies)} tests, call time over their last {RECENT_RUNS} passing runs")
        if regressions:
            summary.append(f"  {regressions} slower than usual", style="bold red")
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
        reset_table(self.query_one(DataTable), rows, [lat.nodeid for lat in shown])
