"""One line that names a test: figures first, kept whole, then the name cut in the middle to the width
left (redrawn at every size, so a resize never wraps the name mid-token)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from testwatch.tui.shorten import shorten_middle

MIN_NAME = 12  # a name never gets fewer cells than this (the line crops instead)


class NameLine(Widget):
    """A one-line widget: ``show(lead, name)``; ``text`` is what it holds, the name whole."""

    DEFAULT_CSS = "NameLine { height: 1; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lead = Text()
        self.name_text = Text()

    @property
    def text(self) -> Text:
        return self.lead + self.name_text

    def show(self, lead: Text, name: Text) -> None:
        self.lead, self.name_text = lead, name
        self.refresh()

    def render(self) -> Text:
        room = max(self.content_size.width - self.lead.cell_len, MIN_NAME)
        line = self.lead + shorten_middle(self.name_text, room)
        line.no_wrap = True
        return line
