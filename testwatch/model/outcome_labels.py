"""How each outcome of a test is named and drawn: one table for the headless lines, the run table of
``testwatch history`` and the app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutcomeLabel:
    """The names and looks of one outcome."""

    word: str  # the headless result line's label, e.g. FAIL
    count: str  # after a count in the run table, e.g. "2 fail"
    symbol: str  # one character that reads without colour (NO_COLOR), e.g. ✗
    style: str  # the app's colour for it (a Rich style), e.g. "bold red"


# Every outcome in ``results.OUTCOMES``, in that order.
OUTCOME_LABELS: dict[str, OutcomeLabel] = {
    "passed": OutcomeLabel("PASS", "pass", "✓", "green"),
    "failed": OutcomeLabel("FAIL", "fail", "✗", "bold red"),
    "error": OutcomeLabel("ERROR", "err", "E", "bold red"),
    "skipped": OutcomeLabel("SKIP", "skip", "s", "yellow"),
    "xfailed": OutcomeLabel("XFAIL", "xfail", "x", "yellow"),
    "xpassed": OutcomeLabel("XPASS", "xpass", "X", "yellow"),
    "crashed": OutcomeLabel("CRASH", "crash", "☠", "bold red"),
    "timeout": OutcomeLabel("TIMEOUT", "t/o", "⏱", "bold red"),
}
