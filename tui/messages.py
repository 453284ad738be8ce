"""News kinds: one type per kind of news from the run engine, the watch loop and the collectors.

Engine events are plain dataclasses (``testwatch.model.events``); ``news_for`` wraps each in its news
type, found by the event's type in ``NEWS_TYPES``. Events the app does not show are ignored. News is
never posted one by one: the bridge buffers it and posts one ``NewsArrived`` (a Textual message) per
batch, so a news item is a slim object (one per test event, ten thousand per big run), not a message.
"""

from __future__ import annotations

from textual.message import Message

from testwatch.model import events


class News:
    """Something a producer reported; ``event`` is its plain dataclass."""

    __slots__ = ("event",)

    def __init__(self, event: object) -> None:
        self.event = event


class RunBegan(News):
    """A run started (RunStarted)."""


class TestsListed(News):
    """pytest collected the run's tests (TestsCollected)."""

    __test__ = False


class TestBegan(News):
    """A test started (TestStarted)."""

    __test__ = False


class ResultReceived(News):
    """A test finished (TestFinished)."""


class CollectionFailed(News):
    """A file could not be collected (CollectionError)."""


class ChildRestarted(News):
    """The pytest child died and was started again (ChildRestarted)."""


class NoticeReceived(News):
    """Something to read that is not a result (EngineNotice)."""


class RunEnded(News):
    """A run finished or was cancelled (RunFinished)."""


class ChangesSeen(News):
    """Files changed (ChangesDetected)."""


class SelectionChosen(News):
    """The watch loop chose the tests to run and why (SelectionMade)."""


class WatchStatusChanged(News):
    """The watch loop's own state (WatchStatus)."""


class SampleTaken(News):
    """A memory sample of the test process tree (MemorySampled); only the newest matters (the bridge
    replaces one not yet drawn)."""


class BreachFound(News):
    """A test or file went over a threshold (ThresholdBreached)."""


class CoverageSaved(News):
    """A recorded run's coverage is in the history, after the run ended (CoverageStored)."""


class NewsArrived(Message):
    """News is waiting in the bridge; the app takes the whole batch at once."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, NewsArrived)


# Engine event type -> news type; an event of any other type is not news to the app.
NEWS_TYPES: dict[type, type[News]] = {
    events.RunStarted: RunBegan,
    events.TestsCollected: TestsListed,
    events.TestStarted: TestBegan,
    events.TestFinished: ResultReceived,
    events.CollectionError: CollectionFailed,
    events.ChildRestarted: ChildRestarted,
    events.EngineNotice: NoticeReceived,
    events.RunFinished: RunEnded,
    events.ChangesDetected: ChangesSeen,
    events.SelectionMade: SelectionChosen,
    events.WatchStatus: WatchStatusChanged,
    events.MemorySampled: SampleTaken,
    events.ThresholdBreached: BreachFound,
    events.CoverageStored: CoverageSaved,
}


def news_type_of(event: object) -> type[News] | None:
    """The news type of an engine event, or None for an event the app does not show."""
    return NEWS_TYPES.get(type(event))


def news_for(event: object) -> News | None:
    """The news for an engine event, or None for an event the app does not show."""
    news_type = news_type_of(event)
    return news_type(event) if news_type else None
