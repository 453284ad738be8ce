"""Who hears about a run: an ordered list of listeners, each a plain callable that takes one event.

Listeners are sinks: they read an event and keep or show what they need of it, and never change
another object's state. One that derives news of its own (a threshold breach, a memory sample)
publishes it on the same bus; it reaches every listener at once, before the event that caused it
goes on to the listeners after the publisher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from testwatch.model.events import EngineEvent

Listener = Callable[[EngineEvent], None]


class EventBus:
    """Delivers each published event to every listener, in the order they were added."""

    def __init__(self, listeners: Iterable[Listener] = ()) -> None:
        self._listeners: list[Listener] = list(listeners)

    def add(self, *listeners: Listener) -> None:
        """Listeners that hear every event published from now on, after the ones added before."""
        self._listeners.extend(listeners)

    def publish(self, event: EngineEvent) -> None:
        for listener in tuple(self._listeners):
            listener(event)

    __call__ = publish
