"""A memory graph with a scale: RSS over time as bars, its top and bottom in MB on the axis, a limit
drawn as a dashed line across it (through whole bars too: red on them), bars over the limit in red."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from testwatch.config.units import format_size

BARS = " ▁▂▃▄▅▆▇█"
LIMIT_MARK = "╌"
AXIS = " ┤"


@dataclass(frozen=True)
class GraphData:
    """What a graph shows: samples in bytes (oldest first) and a limit."""

    values: tuple[int, ...] = ()
    limit_bytes: int | None = None
    floor_bytes: int | None = None  # the scale's bottom at most this (0 for growth); else the lowest value


def graph_lines(data: GraphData, width: int, height: int) -> list[Text]:
    """The graph as ``height`` lines of ``width`` cells: axis labels, then the bars."""
    if not data.values or height < 1:
        return [Text("no samples", style="dim")] + [Text()] * max(height - 1, 0)
    bounds = [*data.values, *(b for b in (data.limit_bytes, data.floor_bytes) if b is not None)]
    low, high = min(bounds), max(bounds)
    labels = {0: format_size(high), height - 1: format_size(low)}
    limit_row = None
    if data.limit_bytes is not None:
        limit_row = _row_of(data.limit_bytes, low, high, height)
        labels.setdefault(limit_row, format_size(data.limit_bytes))  # the top and bottom keep theirs
    label_width = max(len(label) for label in labels.values())
    plot_width = max(width - label_width - len(AXIS), 1)
    columns = _columns(data, plot_width)
    span = max(high - low, 1)
    lines = []
    for row in range(height):
        label_style = "red" if row == limit_row and row not in (0, height - 1) else "dim"
        line = Text(labels.get(row, "").rjust(label_width), style=label_style)
        line.append(AXIS, style="dim")
        floor_eighths = (height - 1 - row) * 8
        for value in columns:
            eighths = max(1, round((value - low) / span * height * 8))  # the lowest shows as ▁
            cell = BARS[min(max(eighths - floor_eighths, 0), 8)]
            over = data.limit_bytes is not None and value > data.limit_bytes
            if row == limit_row and cell in (" ", BARS[-1]):  # the line crosses gaps and whole bars
                line.append(LIMIT_MARK, style="red" if cell == " " else "red reverse")
            else:
                line.append(cell, style="red" if over else "")
        lines.append(line)
    return lines


def _row_of(value: int, low: int, high: int, height: int) -> int:
    """The line (0 at the top) a value's bar ends on."""
    eighths = max(1, round((value - low) / max(high - low, 1) * height * 8))
    return height - 1 - min((eighths - 1) // 8, height - 1)


def _columns(data: GraphData, plot_width: int) -> list[int]:
    """One value per plot column: the peak of the samples that fall in it (a short series is
    stretched, a long one bucketed)."""
    count = len(data.values)
    columns = []
    for column in range(plot_width):
        start = column * count // plot_width
        end = max(start + 1, (column + 1) * count // plot_width)
        columns.append(max(data.values[start:end]))
    return columns


class MemoryGraph(Widget):
    """Draws a ``GraphData`` to the widget's size; ``show`` gives it new data."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data = GraphData()

    def show(self, data: GraphData) -> None:
        if data != self.data:
            self.data = data
            self.refresh()

    def render(self) -> Text:
        return Text("\n").join(graph_lines(self.data, self.size.width, self.size.height))
