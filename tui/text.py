"""Text that came from the user's tests, made safe to draw: never markup, never raw escapes."""

from __future__ import annotations

from rich.text import Text

from testwatch.model.terminal_text import safe


def literal(value: object, style: str = "") -> Text:
    """A rich ``Text`` that shows ``value`` exactly as written (``[red]`` stays ``[red]``)."""
    return Text(safe(value), style=style, no_wrap=False)
