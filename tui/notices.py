"""The news the user is also told about in a notification (an error, a file pytest cannot collect, a
limit gone over), with the notification's text and severity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.notifications import SeverityLevel

from testwatch.measure.breaches import describe_breach
from testwatch.model.events import CollectionError, EngineNotice, ThresholdBreached
from testwatch.model.terminal_text import safe
from testwatch.tui import messages
from testwatch.tui.panes.registry import pane_spec

Notice = tuple[str, SeverityLevel]  # a notification's text and severity


def _error_notice(event: EngineNotice) -> Notice | None:
    return (safe(event.message), "error") if event.severity == "error" else None


def _collection_notice(event: CollectionError) -> Notice:
    return f"cannot collect {safe(event.path)}; see the log ({pane_spec('log').key})", "error"


def _breach_notice(event: ThresholdBreached) -> Notice:
    return f"over a limit: {safe(describe_breach(event))}", "warning"


# News type -> the notification its event makes (None: none for this one).
_NOTICES: dict[type[messages.News], Callable[[Any], Notice | None]] = {
    messages.NoticeReceived: _error_notice,
    messages.CollectionFailed: _collection_notice,
    messages.BreachFound: _breach_notice,
}


def notice_for(news: messages.News) -> Notice | None:
    """The notification ``news`` makes, or None for news the panes alone show."""
    notice = _NOTICES.get(type(news))
    return notice(news.event) if notice is not None else None
