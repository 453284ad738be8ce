"""The listener given to the engine: buffers news and hands it to the app in one batch per frame.

Producers may call it from the app's own event loop or from any thread; it only appends to a
locked buffer and posts one ``NewsArrived`` (``post_message`` is thread-safe), so ten thousand
results cost the app a few batches, not ten thousand messages queued ahead of the user's keys.
The buffer holds the producers' own events; they are wrapped as news when drained, so a stream adds
no objects that outlive a frame (which would make the garbage collector walk the whole heap sooner).
News that a newer event makes invisible is dropped: a memory sample not yet drawn gives way to the
next one, and a test's start not yet drawn gives way to its result (a test that starts and finishes
between two frames is never seen running), which halves what a fast stream costs the app.
"""

from __future__ import annotations

import threading

from textual.message_pump import MessagePump

from testwatch.tui.messages import (
    News,
    NewsArrived,
    ResultReceived,
    SampleTaken,
    TestBegan,
    news_for,
    news_type_of,
)


class NewsBridge:
    """Callable listener: ``bridge(event)``; the app calls ``drain()`` when told news arrived."""

    def __init__(self, target: MessagePump) -> None:
        self.target = target
        self._pending: list[object] = []  # events whose news type is known
        self._lock = threading.Lock()
        self._posted = False

    def __call__(self, event: object) -> None:
        news_type = news_type_of(event)
        if news_type is None:
            return
        with self._lock:
            if news_type is SampleTaken and self._pending and _is_sample(self._pending[-1]):
                self._pending[-1] = event  # a newer sample replaces one not yet drawn
            elif news_type is ResultReceived and self._pending and _is_start_of(self._pending[-1], event):
                self._pending[-1] = event  # the result replaces its test's start, not yet drawn
            else:
                self._pending.append(event)
            if self._posted:
                return
            self._posted = True
        self.target.post_message(NewsArrived())

    @property
    def pending(self) -> bool:
        """Whether news is waiting to be drawn."""
        with self._lock:
            return bool(self._pending)

    def drain(self) -> list[News]:
        """Everything reported since the last drain, oldest first."""
        with self._lock:
            events, self._pending = self._pending, []
            self._posted = False
        return [news_for(event) for event in events]


def _is_sample(event: object) -> bool:
    return news_type_of(event) is SampleTaken


def _is_start_of(event: object, finished: object) -> bool:
    """Whether ``event`` is the start (TestStarted) of the test whose result is ``finished``."""
    return news_type_of(event) is TestBegan and event.nodeid == finished.result.nodeid
