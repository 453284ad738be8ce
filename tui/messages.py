"""News kinds: one type per kind of news from the run engine, the watch loop and the collectors.

Engine events are plain dataclasses (``testwatch.model.events``); ``news_for`` wraps each in its news type.
Events this version does not know are ignored, so the app works whichever producers exist. News is
never posted one by one: the bridge buffers it and posts one ``NewsArrived`` (a Textual message) per
batch, so a news item is a slim object (one per test event, ten thousand per big run), not a message.
"""

from __future__ import annotations

from textual.message import Message


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


class ChildSpawned(News):
    """A pytest child process started (ChildStarted)."""


class SampleTaken(News):
    """A memory sample of the test process tree (MemorySampled); only the newest matters (the bridge
    replaces one not yet drawn)."""


class BreachFound(News):
    """A test or file went over a threshold (ThresholdBreached)."""


class NewsArrived(Message):
    """News is waiting in the bridge; the app takes the whole batch at once."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, NewsArrived)


# Engine event class name -> message type. Matched by name so events still being written elsewhere
# (the watch loop's, the collectors') need no import here.
NEWS_TYPES: dict[str, type[News]] = {
    "RunStarted": RunBegan,
    "TestsCollected": TestsListed,
    "TestStarted": TestBegan,
    "TestFinished": ResultReceived,
    "CollectionError": CollectionFailed,
    "ChildRestarted": ChildRestarted,
    "EngineNotice": NoticeReceived,
    "RunFinished": RunEnded,
    "ChangesDetected": ChangesSeen,
    "SelectionMade": SelectionChosen,
    "WatchStatus": WatchStatusChanged,
    "ChildStarted": ChildSpawned,
    "MemorySampled": SampleTaken,
    "ThresholdBreached": BreachFound,
}


def news_for(event: object) -> News | None:
    """The message for an engine event, or None for an event this version does not know."""
    news_type = NEWS_TYPES.get(type(event).__name__)
    return news_type(event) if news_type else None
