"""The thresholds pane: breaches of the configured limits, newest first; Enter jumps to the test."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from testwatch.history.store import History
from testwatch.measure.breaches import format_figure
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.fitted_table import Column, FittedTable
from testwatch.tui.text import literal

SHOWN_BREACHES = 200
# The value and its limit outlast the time at 80 columns; the name takes the room left.
COLUMNS = [
    Column("test or file", flex=1, min_width=20), Column("kind", 15), Column("value", 9),
    Column("limit", 9), Column("when", 19, drop=1),
]


class ThresholdsPane(Pane):
    """The breaches table of the history, newest first."""

    NAME = "thresholds"
    READS_HISTORY = True
    TITLE = "Thresholds"

    class ShowTest(Message):
        """The user chose a breach: show its test."""

        def __init__(self, nodeid: str) -> None:
            super().__init__()
            self.nodeid = nodeid

    def compose(self) -> ComposeResult:
        yield Static(id="thresholds-summary", markup=False)
        yield FittedTable(COLUMNS, id="thresholds-table", cursor_type="row", zebra_stripes=True)

    def read(self, history: History) -> list[dict]:
        """The newest breaches, newest first."""
        return list(history.rows("select * from breaches order by id desc limit ?", [SHOWN_BREACHES]))

    def show(self, breaches: list[dict]) -> None:
        count = len(breaches)
        summary = f"{count} {'breach' if count == 1 else 'breaches'}, newest first" if count else "none"
        self.query_one("#thresholds-summary", Static).update(summary)
        rows = [
            (
                literal(b.get("nodeid") or b.get("path") or ""), b["kind"] or "",
                _figure(b["kind"], b["value"]), _figure(b["kind"], b["limit_value"]),
                (b.get("created_at") or "")[:19].replace("T", " "),
            )
            for b in breaches
        ]
        keys = [f"{index}:{b.get('nodeid') or ''}" for index, b in enumerate(breaches)]
        self.query_one(FittedTable).show_rows(rows, keys)

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        nodeid = str(event.row_key.value).split(":", 1)[1]
        if nodeid:
            self.post_message(self.ShowTest(nodeid))


def _figure(kind: str | None, value: float | None) -> str:
    return "" if value is None or kind is None else format_figure(kind, value)
