"""Long names made to fit a width: cut in the middle (a test's file and its name's end both stay) or at
the end, with ``…`` where the cut is; styles and literal text are kept."""

from __future__ import annotations

from rich.text import Text

ELLIPSIS = "…"


def shorten_middle(text: Text, width: int) -> Text:
    """``text`` if it fits in ``width`` cells, else its start and its end joined by ``…``."""
    if text.cell_len <= width:
        return text
    if width < 2:
        return Text(ELLIPSIS[:width])
    head = width // 2
    tail = width - 1 - head
    while True:
        cut = text[:head] + Text(ELLIPSIS, style="dim") + (text[len(text) - tail :] if tail else Text())
        if cut.cell_len <= width or head + tail == 0:
            return cut
        head, tail = (head - 1, tail) if head > tail else (head, tail - 1)  # wide characters


def shorten_end(text: Text, width: int) -> Text:
    """``text`` if it fits in ``width`` cells, else its start followed by ``…``."""
    if text.cell_len <= width:
        return text
    if width < 2:
        return Text(ELLIPSIS[:width])
    keep = width - 1
    while keep > 0 and text[:keep].cell_len > width - 1:
        keep -= 1
    return text[:keep] + Text(ELLIPSIS, style="dim")
