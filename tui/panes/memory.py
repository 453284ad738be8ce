"""The memory pane: the test process tree's RSS over this run (and the last one, faint), the test
running now, and the tests whose peak rose most above their start, with the process's peak RSS
during each (``~`` where it is not the kernel's exact mark), what each retained and its top
allocator. The graphs have a scale in MB; the test chosen in the table has its own graph, its peak
growth over its recent runs, with its ``peak_memory`` limit (the threshold on that growth) as a line."""

from __future__ import annotations

import json
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from testwatch.config.settings import Config
from testwatch.config.thresholds import Thresholds
from testwatch.config.units import format_size
from testwatch.history.store import History
from testwatch.model.wording import counted
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.fitted_table import Column, FittedTable
from testwatch.tui.panes.memory_graph import LIMIT_MARK, GraphData, MemoryGraph
from testwatch.tui.panes.name_line import NameLine
from testwatch.tui.state import SessionState
from testwatch.tui.text import literal

TOP_TESTS = 50
TREND_RUNS = 30  # a chosen test's graph covers this many of its runs
# Growth and peak outlast what was retained and who allocated it at 80 columns.
COLUMNS = [
    Column("test", flex=3, min_width=30), Column("growth", 9), Column("peak RSS", 10),
    Column("retained", 9, drop=1), Column("top allocator", flex=2, min_width=16, drop=2),
]


class MemoryPane(Pane):
    """Live RSS graph plus the heaviest tests of the newest run."""

    NAME = "memory"
    TITLE = "Memory"
    READS_HISTORY = True

    def __init__(self, history: History, state: SessionState, thresholds: Thresholds | None = None) -> None:
        super().__init__(history, state)
        self.thresholds = thresholds or Thresholds()

    @classmethod
    def for_session(cls, history: History, state: SessionState, config: Config) -> MemoryPane:
        return cls(history, state, config.thresholds)

    def compose(self) -> ComposeResult:
        yield Static(id="memory-now", markup=False)
        yield Label("this run", classes="graph-label")
        yield MemoryGraph(id="rss-graph")
        yield Label("previous run", classes="graph-label faint")
        yield MemoryGraph(id="rss-previous", classes="faint")
        yield NameLine(id="test-memory-title", classes="graph-label")
        yield MemoryGraph(id="test-memory")
        yield FittedTable(COLUMNS, id="memory-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.refresh_from(self.state)
        self.show_test(None)

    def refresh_from(self, state: SessionState) -> None:
        if state.run is not None and state.run.finished is not None:
            self.stale = True  # the run's per-test figures are in the history now
        self.query_one("#rss-graph", MemoryGraph).show(GraphData(tuple(rss for _, rss in state.samples)))
        previous = GraphData(tuple(rss for _, rss in state.previous_samples))
        self.query_one("#rss-previous", MemoryGraph).show(previous)
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

    def read(self, history: History) -> list[dict]:
        """The heaviest tests of the newest run that measured memory."""
        sql = (
            "select nodeid, peak_growth_bytes, peak_rss_bytes, memory_precision, retained_bytes, "
            "top_allocations from results "
            "where run_id = (select max(run_id) from results where peak_growth_bytes is not null) "
            "and peak_growth_bytes is not null order by peak_growth_bytes desc limit ?"
        )
        return list(history.rows(sql, [TOP_TESTS]))

    def show(self, data: list[dict]) -> None:
        rows = [
            (
                literal(row["nodeid"]), format_size(row["peak_growth_bytes"]),
                _peak(row["peak_rss_bytes"], row["memory_precision"]),
                format_size(row["retained_bytes"]), literal(_top_allocator(row["top_allocations"])),
            )
            for row in data
        ]
        keys = [row["nodeid"] for row in data]
        self.query_one(FittedTable).show_rows(rows, keys)
        self.show_test(keys[0] if keys else None)

    def show_test(self, nodeid: str | None) -> None:
        """Graph one test's peak growth over its recent runs, with its ``peak_memory`` limit as a line."""
        if nodeid is None:
            title = Text("choose a test in the table: its memory over its runs", style="dim")
            self.query_one("#test-memory-title", NameLine).show(title, Text())
            self.query_one("#test-memory", MemoryGraph).show(GraphData())
            return
        self.read_then(partial(_growth, nodeid=nodeid), partial(self._show_growth, nodeid), kind="test")

    def _show_growth(self, nodeid: str, growth: tuple[int, ...]) -> None:
        row = self.state.tests.get(nodeid)
        limit = self.thresholds.for_markers(row.markers if row else []).get("peak_memory")
        lead = Text(f"peak growth, last {counted(len(growth), 'run')}", style="dim")
        if limit is not None:
            lead.append(f"  {LIMIT_MARK} limit {format_size(limit)}", style="red")
        lead.append("  ")
        title = self.query_one("#test-memory-title", NameLine)
        title.show(lead, literal(nodeid, style="bold"))  # the name last: cut in the middle to fit
        graph = self.query_one("#test-memory", MemoryGraph)
        graph.show(GraphData(growth, int(limit) if limit is not None else None, floor_bytes=0))

    @on(DataTable.RowHighlighted, "#memory-table")
    def _test_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show_test(event.row_key.value)


def _growth(history: History, nodeid: str) -> tuple[int, ...]:
    """One test's peak growth in its recent runs, oldest first."""
    sql = (
        "select peak_growth_bytes from results where nodeid = ? and peak_growth_bytes is not null "
        "order by id desc limit ?"
    )
    return tuple(row["peak_growth_bytes"] for row in history.rows(sql, [nodeid, TREND_RUNS]))[::-1]


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
