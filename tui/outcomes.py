"""How a test's status looks: a symbol that reads without colour (NO_COLOR) and a style."""

from __future__ import annotations

from rich.text import Text

# status -> (symbol, style)
LOOKS = {
    "passed": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "error": ("E", "bold red"),
    "crashed": ("☠", "bold red"),
    "timeout": ("⏱", "bold red"),
    "skipped": ("s", "yellow"),
    "xfailed": ("x", "yellow"),
    "xpassed": ("X", "yellow"),
    "running": ("▶", "bold cyan"),
    "queued": ("·", "dim"),
    "cancelled": ("-", "dim"),
    "not run": ("-", "dim"),
}


def status_symbol(status: str) -> Text:
    """The symbol of a status, styled."""
    symbol, style = LOOKS.get(status, ("?", ""))
    return Text(symbol, style=style)


def status_text(status: str) -> Text:
    """Symbol and word, e.g. ``✗ failed``."""
    symbol, style = LOOKS.get(status, ("?", ""))
    return Text(f"{symbol} {status}", style=style)
