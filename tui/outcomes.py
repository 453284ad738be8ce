"""How a test's status looks: a symbol that reads without colour (NO_COLOR) and a style."""

from __future__ import annotations

from rich.text import Text

from testwatch.model.outcome_labels import OUTCOME_LABELS

# status -> (symbol, style): the outcomes' own, then the states a test has only in the app.
LOOKS = {outcome: (label.symbol, label.style) for outcome, label in OUTCOME_LABELS.items()} | {
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
