"""The controller on an event loop of its own, in a thread of its own: selection (parses, SQLite),
pytest's event stream, history writes, git and interpreter probes never hold up the app's loop,
which only applies the news they post (the bridge is thread-safe) and draws.

The controller is built in its thread, on a history connection of its own (SQLite connections stay
on the thread that opened them; WAL lets both read and write the file). The app's calls
(``request``, ``pause``...) are handed to that loop; calls made before it is ready wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from testwatch.config.settings import Config
from testwatch.history.store import History, open_history
from testwatch.tui.controller import Controller, ControllerFactory

# The controller's methods the app calls through its loop; the rest are plain reads and writes.
_LOOP_CALLS = ("request", "cancel_run", "pause", "resume")


class ControllerThread:
    """Runs ``factory(config, history, listener)`` in a thread; ``await run()`` until it stops."""

    def __init__(
        self, factory: ControllerFactory, config: Config, history_path, listener: Callable[[object], None]
    ) -> None:
        self._factory = factory
        self._config = config
        self._history_path = history_path
        self._listener = listener
        self.controller: Controller | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._early: list[tuple[str, tuple]] = []  # calls made before the loop was ready
        self._lock = threading.Lock()
        self._stopping = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="testwatch-controller", daemon=True)

    async def run(self) -> None:
        """Start the thread; return when the controller has stopped (raise what stopped it)."""
        self._thread.start()
        try:
            await asyncio.to_thread(self._thread.join)
        except asyncio.CancelledError:
            self.stop()
            with contextlib.suppress(Exception):
                await asyncio.shield(asyncio.to_thread(self._thread.join))
            raise
        if self._error is not None:
            raise self._error

    def call(self, method: str, *args) -> None:
        """Call the controller's ``method``: on its own loop (soon, never blocking the caller) for
        those that touch the loop's state, else now; once it is ready, in the order called."""
        with self._lock:
            if self._loop is None:
                self._early.append((method, args))
                return
            loop = self._loop
        if method not in _LOOP_CALLS:
            getattr(self.controller, method)(*args)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the controller is gone
            loop.call_soon_threadsafe(lambda: getattr(self.controller, method)(*args))

    def stop(self) -> None:
        """Cancel the controller's run (it cancels the run in progress and stops watching)."""
        with self._lock:
            self._stopping = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # handed to the app's worker, which reports it
            self._error = exc

    async def _serve(self) -> None:
        history = open_history(self._history_path)
        try:
            self.controller = self._factory(self._config, history, self._listener)
            with self._lock:
                self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
                early, self._early = self._early, []
                if self._stopping:
                    return
            for method, args in early:
                getattr(self.controller, method)(*args)
            await self.controller.run()
        finally:
            history.close()


class ControllerInLoop:
    """The controller on the app's own loop: for a history in memory, which only the app's
    connection sees. The same interface as ``ControllerThread``."""

    def __init__(self, factory: ControllerFactory, config: Config, history: History, listener) -> None:
        self.controller: Controller | None = factory(config, history, listener)

    async def run(self) -> None:
        await self.controller.run()

    def call(self, method: str, *args) -> None:
        getattr(self.controller, method)(*args)

    def stop(self) -> None:
        """Nothing to do: cancelling ``run`` stops the controller."""


def host_controller(
    factory: ControllerFactory, config: Config, history: History, listener: Callable[[object], None]
) -> ControllerThread | ControllerInLoop:
    """A thread of its own for the controller when its history is a file a second connection can
    open; else the app's loop."""
    if history.path is None:
        return ControllerInLoop(factory, config, history, listener)
    return ControllerThread(factory, config, history.path, listener)
