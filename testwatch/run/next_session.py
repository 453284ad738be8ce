"""A run's next pytest session, started while the session before it runs its tests.

A second session (``run_phases``) costs a pytest start, its recorder's start and its collection.
Started only when the session before it ends, all of that adds to the run; started as soon as the
one before has collected, it overlaps that session's tests on another core. The early child is
held (``ENV_HOLD``) after its collection, before its first test, until ``ChildSession.release``:
the two sessions never run the user's tests at once, so a suite not written for parallel runs
sees no difference. The user's configure and session-start hooks and the imports of the next
session's test files do run beside the first session's tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from testwatch.run.child_session import ChildSession


class NextSession:
    """One session to start early: ``start`` it, then ``take`` it (started and released) or
    ``discard`` it."""

    def __init__(self, make: Callable[[], ChildSession]) -> None:
        self._make = make
        self._starting: asyncio.Task[ChildSession] | None = None

    def start(self) -> None:
        """Start the child now (once), held before its first test."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())

    async def _start(self) -> ChildSession:
        session = self._make()
        await session.start()
        return session

    async def take(self) -> ChildSession:
        """The started session, released to run its tests (started now if it was not yet); the
        caller closes it. Raises ``CannotStartPython`` as ``ChildSession.start`` does."""
        self.start()
        assert self._starting is not None
        starting, self._starting = self._starting, None
        try:
            session = await asyncio.shield(starting)
        except asyncio.CancelledError:
            starting.add_done_callback(_close_started)
            raise
        session.release()
        return session

    def discard(self) -> None:
        """Close the session if one was started and not taken (once its start is over)."""
        starting, self._starting = self._starting, None
        if starting is not None:
            starting.add_done_callback(_close_started)


def _close_started(starting: asyncio.Task[ChildSession]) -> None:
    if not starting.cancelled() and starting.exception() is None:
        starting.result().close()
