"""The history pane: recent runs; a chosen run's results; a chosen test's trend across runs (duration
and memory); and flaky tests, whose outcome flipped between runs of the same code (one git revision
with the same uncommitted changes). ``h`` shows one machine's runs and flaky tests, then the next
machine's, then every machine's again."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static

from testwatch.config.units import format_duration, format_size
from testwatch.history.queries import FLAKY_SQL
from testwatch.history.store import History
from testwatch.model.wording import counted
from testwatch.tui.outcomes import status_text
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.fitted_table import Column, FittedTable
from testwatch.tui.panes.name_line import NameLine
from testwatch.tui.panes.tests import NARROW_COLUMNS
from testwatch.tui.text import literal

SHOWN_RUNS = 100
TREND_RUNS = 50
# The status outlasts the other outcomes and the machine at 80 columns; names take the room left.
RUN_COLUMNS = [
    Column("run", 4), Column("when", 19), Column("machine", 10, drop=2), Column("trigger", 8),
    Column("passed", 6), Column("failed", 6), Column("other", 5, drop=1), Column("duration", 8),
    Column("status", 9),
]
RESULT_COLUMNS = [
    Column("test", flex=1, min_width=16), Column("outcome", 9), Column("duration", 8),
    Column("peak RSS", 9, drop=1),
]
FLAKY_COLUMNS = [Column("flaky test", flex=1, min_width=12), Column("runs", 4), Column("failures", 8)]


class HistoryPane(Pane):
    """Runs, then the chosen run's results, then the chosen test's trend; flaky tests beside."""

    NAME = "history"
    READS_HISTORY = True
    TITLE = "History"
    BINDINGS = [Binding("h", "next_machine", "Machine", show=False)]

    machine: str | None = None  # the machine whose runs are shown; None: every machine's

    def compose(self) -> ComposeResult:
        yield FittedTable(RUN_COLUMNS, id="runs-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="history-lower"):
            yield FittedTable(RESULT_COLUMNS, id="run-results-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="history-side"):
                yield NameLine(id="trend-title")
                yield Static(id="trend-figures", markup=False)
                yield Sparkline([], id="trend-duration")
                yield Sparkline([], id="trend-memory")
                yield Static("no flaky tests", id="no-flaky", classes="hidden")
                yield FittedTable(FLAKY_COLUMNS, id="flaky-table", cursor_type="row")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_COLUMNS, "-narrow")  # the trend goes under the results

    def read(self, history: History) -> tuple[list[dict], list[dict]]:
        """The recent runs, and the flaky tests."""
        return (
            history.recent_runs(SHOWN_RUNS, self.machine),
            list(history.rows(FLAKY_SQL, {"machine": self.machine or ""})),
        )

    def show(self, data: tuple[list[dict], list[dict]]) -> None:
        runs, flaky_rows = data
        rows, keys = [], []
        for run in runs:
            other = sum(run.get(k) or 0 for k in ("error", "crashed", "timeout"))
            rows.append((
                run["id"], (run["started_at"] or "")[:19].replace("T", " "), literal(run["machine"] or ""),
                literal(run["trigger"] or ""),
                run["passed"] or 0, Text(str(run["failed"] or 0), style="red" if run["failed"] else ""),
                other, format_duration(run["duration_s"]), run["status"] or "",
            ))
            keys.append(str(run["id"]))
        self.query_one("#runs-table", FittedTable).show_rows(rows, keys)
        flaky = [(literal(row["nodeid"]), row["runs"], row["failures"]) for row in flaky_rows]
        self.query_one("#flaky-table", FittedTable).show_rows(flaky)
        self.query_one("#flaky-table").set_class(not flaky, "hidden")  # no heading over an empty table
        self.query_one("#no-flaky").set_class(bool(flaky), "hidden")
        if keys:
            self.show_run(int(keys[self.query_one("#runs-table", DataTable).cursor_row]))

    def show_run(self, run_id: int) -> None:
        """Fill the results table with one run's results, failures first."""
        self.read_then(lambda history: history.results(run_id), self._show_results, kind="run")

    def _show_results(self, results: list[dict]) -> None:
        rows, keys = [], []
        for result in sorted(results, key=lambda r: r["outcome"] == "passed"):
            rows.append((
                literal(result["nodeid"]), status_text(result["outcome"]),
                format_duration(result["duration_s"]), format_size(result["peak_rss_bytes"]),
            ))
            keys.append(result["nodeid"])
        self.query_one("#run-results-table", FittedTable).show_rows(rows, keys)
        if keys:
            self.show_trend(keys[self.query_one("#run-results-table", DataTable).cursor_row])

    def show_trend(self, nodeid: str) -> None:
        """Duration and peak memory of one test over its recent runs."""
        sql = "select duration_s, peak_rss_bytes from results where nodeid = ? order by id desc limit ?"
        self.read_then(
            lambda history: list(history.rows(sql, [nodeid, TREND_RUNS]))[::-1],
            partial(self._show_trend, nodeid), kind="trend",
        )

    def _show_trend(self, nodeid: str, points: list[dict]) -> None:
        durations = [p["duration_s"] or 0.0 for p in points]
        memory = [p["peak_rss_bytes"] for p in points if p["peak_rss_bytes"] is not None]
        self.query_one("#trend-title", NameLine).show(Text(), literal(nodeid, style="bold"))
        last_s = durations[-1] if durations else None
        figures = f"{counted(len(points), 'run')}; duration last {format_duration(last_s)}"
        if memory:
            figures += f", peak RSS last {format_size(memory[-1])}"
        self.query_one("#trend-figures", Static).update(figures)
        self.query_one("#trend-duration", Sparkline).data = durations
        self.query_one("#trend-memory", Sparkline).data = memory

    def action_next_machine(self) -> None:
        """Show the next machine's runs (in name order), then every machine's again."""
        self.read_then(History.machines, self._show_next_machine, kind="machines")

    def _show_next_machine(self, names: list[str]) -> None:
        machines = [None, *names]
        at = machines.index(self.machine) if self.machine in machines else 0
        self.machine = machines[(at + 1) % len(machines)]
        self.reload()
        shown = f"runs of {self.machine}" if self.machine else "every machine"
        self.notify(f"history: {shown}", markup=False)

    @on(DataTable.RowHighlighted, "#runs-table")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show_run(int(event.row_key.value))

    @on(DataTable.RowHighlighted, "#run-results-table")
    def _result_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show_trend(event.row_key.value)
