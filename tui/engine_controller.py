"""A controller that runs tests on request with the run engine, without watching files.

It has the watch loop's interface (``run``, ``request``, ``pause``/``resume``, ``cancel_run``,
``pytest_args``) so the app drives either; the CLI uses it where ``testwatch.watch_loop`` is absent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from testwatch.config import Config
from testwatch.engine import RunEngine, RunRequest
from testwatch.history import History
from testwatch.results import BAD_OUTCOMES


class EngineController:
    """Runs one request at a time; a new request cancels the run in progress."""

    watches_files = False

    def __init__(self, config: Config, history: History, listener: Callable[[object], None]) -> None:
        self.history = history
        self.engine = RunEngine(config, history, listener)
        self.pytest_args: list[str] = []
        self.paused = False
        self._requests: asyncio.Queue[RunRequest] = asyncio.Queue()
        self._current: asyncio.Task | None = None

    async def run(self) -> None:
        """Run every request in turn until cancelled; a cancel stops the pytest child too."""
        try:
            while True:
                request = await self._requests.get()
                self._current = asyncio.ensure_future(self.engine.run(request))
                with contextlib.suppress(asyncio.CancelledError):
                    await self._current
                if self._current.cancelled() and asyncio.current_task().cancelling():
                    raise asyncio.CancelledError
        finally:
            if self._current is not None and not self._current.done():
                self._current.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._current

    def request(self, kind: str, nodeids: list[str] | None = None) -> None:
        """Queue a run: "affected" (everything, without a watcher), "all", "failed" or "tests"."""
        select, reasons = None, {}
        if kind == "failed":
            select = [n for n, o in self.history.last_outcomes().items() if o in BAD_OUTCOMES]
            reasons = dict.fromkeys(select, "failed last time")
        elif kind == "tests":
            select = list(nodeids or [])
            reasons = dict.fromkeys(select, "chosen")
        self.cancel_run()
        self._requests.put_nowait(
            RunRequest(trigger=kind, select=select, pytest_args=list(self.pytest_args), reasons=reasons)
        )

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def cancel_run(self) -> None:
        if self._current is not None and not self._current.done():
            self._current.cancel()
