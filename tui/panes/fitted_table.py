"""A table whose columns fit its width by priority: the figures that matter keep their width, names take
the room left (shortened in the middle), and the least important columns go first when the window is
narrow. The table keeps every row's whole values, for export and for a wider window."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from testwatch.tui.shorten import shorten_end, shorten_middle

CELL_PADDING = 1  # DataTable's default, each side of a cell


@dataclass(frozen=True)
class Column:
    """A table column: fixed ``width`` cells, or ``flex`` > 0 for a share of the room left over."""

    label: str
    width: int = 0
    flex: int = 0
    min_width: int = 12  # a flexible column never gets less (the table scrolls sideways instead)
    drop: int = 0  # 0: always shown; else dropped when the room is short, the highest number first
    cut: str = "middle"  # how a flexible column's values are shortened: "middle" or "end"


def fit_columns(columns: list[Column], room: int, padding: int = CELL_PADDING) -> list[int | None]:
    """Each column's width in cells (``None``: dropped) for a table ``room`` cells wide.

    Fixed columns keep their width; flexible ones share what is left by their ``flex`` weights.
    While that share is under the flexible columns' minimum, the droppable column with the highest
    ``drop`` goes, then the next.
    """
    shown = list(range(len(columns)))
    while True:
        fixed = sum(columns[i].width for i in shown if not columns[i].flex)
        left = room - fixed - 2 * padding * len(shown)
        flexible = [i for i in shown if columns[i].flex]
        needed = sum(columns[i].min_width for i in flexible)
        droppable = [i for i in shown if columns[i].drop]
        if left >= needed or not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    widths: list[int | None] = [None] * len(columns)
    weights = sum(columns[i].flex for i in flexible)
    given = 0
    for position, i in enumerate(flexible):
        share = left - given if position == len(flexible) - 1 else left * columns[i].flex // weights
        widths[i] = max(columns[i].min_width, share)
        given += share
    for i in shown:
        if not columns[i].flex:
            widths[i] = columns[i].width
    return widths


class FittedTable(DataTable):
    """A DataTable of ``Column`` specs; ``show_rows`` gives it whole rows, drawn to fit its width."""

    def __init__(self, columns: list[Column], **kwargs) -> None:
        super().__init__(cell_padding=CELL_PADDING, **kwargs)
        self.columns_spec = columns
        self.whole_rows: list[tuple] = []
        self.row_keys: list[str] | None = None
        self._widths: list[int | None] | None = None  # None until the table has a width

    def show_rows(self, rows: list[tuple], keys: list[str] | None = None) -> None:
        """Replace the rows (whole values), keeping the cursor on the same row index where it can."""
        self.whole_rows, self.row_keys = list(rows), keys
        if self._widths is not None:
            self._draw_rows()

    def contents(self) -> tuple[list[str], list[list[object]]]:
        """Headers and whole plain values of every column, dropped ones included (for export)."""
        headers = [column.label for column in self.columns_spec]
        return headers, [[_plain(cell) for cell in row] for row in self.whole_rows]

    def on_resize(self, _: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """Size the columns to the table's width; rebuild them only when that changes the widths."""
        room = self.size.width - self.styles.scrollbar_size_vertical
        if room <= 0:
            return
        widths = fit_columns(self.columns_spec, room)
        if widths == self._widths:
            return
        self._widths = widths
        self.clear(columns=True)
        for column, width in zip(self.columns_spec, widths, strict=True):
            if width is not None:
                self.add_column(column.label, width=width)
        self._draw_rows()

    def _draw_rows(self) -> None:
        cursor_row = self.cursor_row
        self.clear()
        for index, row in enumerate(self.whole_rows):
            cells = [
                _fit_cell(cell, column, width)
                for cell, column, width in zip(row, self.columns_spec, self._widths, strict=True)
                if width is not None
            ]
            self.add_row(*cells, key=self.row_keys[index] if self.row_keys else None)
        if self.whole_rows:
            self.move_cursor(row=min(cursor_row, len(self.whole_rows) - 1))


def _fit_cell(cell: object, column: Column, width: int) -> object:
    if not column.flex or not isinstance(cell, Text):
        return cell
    return (shorten_end if column.cut == "end" else shorten_middle)(cell, width)


def _plain(cell: object) -> object:
    return cell.plain if isinstance(cell, Text) else cell
