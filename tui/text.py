"""Text that came from the user's tests, made safe to draw: never markup, never raw escapes."""

from __future__ import annotations

import re

from rich.text import Text

# C0/C1 control characters other than newline and tab; ESC starts ANSI sequences.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """``value`` as printable text: lone surrogates (invalid UTF-8) and control bytes escaped."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def literal(value: object, style: str = "") -> Text:
    """A rich ``Text`` that shows ``value`` exactly as written (``[red]`` stays ``[red]``)."""
    return Text(clean(value), style=style, no_wrap=False)
