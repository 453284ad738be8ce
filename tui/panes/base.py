"""The base of every pane: draws from the session state and can hand its table over for export."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import DataTable

from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.tui.state import SessionState


class Pane(Vertical):
    """One tab of the app. Data comes down through ``refresh_from``; events go up as messages."""

    NAME = ""
    TITLE = ""

    def __init__(self, history: History, state: SessionState) -> None:
        super().__init__(id=f"pane-{self.NAME}", classes="pane")
        self.history = history
        self.state = state
        self.stale = True  # history-backed panes reload when next shown

    @classmethod
    def for_session(cls, history: History, state: SessionState, config: Config) -> Pane:
        """The pane for this session (panes that need a setting of ``config`` override this)."""
        return cls(history, state)

    def refresh_from(self, state: SessionState) -> None:
        """Draw the news in ``state``; called at most once per frame with a batch applied.

        Panes that show the history only note that they must read it again when next shown.
        """
        self.stale = True

    @property
    def shown(self) -> bool:
        """Whether this pane's tab is the one on screen."""
        return self.parent is not None and bool(self.parent.display)

    def catch_up(self) -> None:
        """Draw what ``refresh_from`` held back while the pane was hidden (panes that defer override)."""

    def reload(self) -> None:
        """Read what the pane shows from the history again (panes that show history override)."""
        self.stale = False

    def focus_main(self) -> None:
        """Focus the pane's main widget (its first table, tree or log)."""
        main = self.query("Tree, DataTable, Log").first()
        main.focus()

    def export_table(self) -> tuple[list[str], list[list[object]]]:
        """The table this pane shows (the focused one when it has several), as headers and rows."""
        tables = list(self.query(DataTable))
        if not tables:
            return [], []
        table = next((t for t in tables if t.has_focus), tables[0])
        return table_contents(table)


def table_contents(table: DataTable) -> tuple[list[str], list[list[object]]]:
    """Headers and plain cell values of a DataTable, in display order."""
    headers = [str(column.label) for column in table.ordered_columns]
    rows = []
    for row_key in (row.key for row in table.ordered_rows):
        rows.append([cell.plain if isinstance(cell, Text) else cell for cell in table.get_row(row_key)])
    return headers, rows


def fixed_table(table_id: str, *columns: tuple[str, int], zebra_stripes: bool = True) -> DataTable:
    """A table with a row cursor and columns of fixed widths (cells), so streaming rows never make it
    jump sideways."""
    table = DataTable(id=table_id, cursor_type="row", zebra_stripes=zebra_stripes)
    for label, width in columns:
        table.add_column(label, width=width)
    return table


def reset_table(table: DataTable, rows: list[tuple], keys: list[str] | None = None) -> None:
    """Replace a DataTable's rows, keeping the cursor on the same row index where possible."""
    cursor_row = table.cursor_row
    table.clear()
    for index, row in enumerate(rows):
        table.add_row(*row, key=keys[index] if keys else None)
    if rows:
        table.move_cursor(row=min(cursor_row, len(rows) - 1))
