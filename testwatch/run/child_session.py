"""One pytest process and its event stream: the socket the plugin writes to, the process's start
and exit, and the cleanup after it (processes the tests left behind, the working folder).

``ChildSession`` knows nothing of tests: it hands the engine batches of raw event lines, and the
child's exit code and last output once it is gone. A session started ``held`` (a run's next
session, started while the one before runs its tests) stops before its first test until
``release`` writes the go to its plugin.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

from testwatch.collectors.in_pytest.leftovers import end_leftovers
from testwatch.collectors.in_pytest.protocol import GO
from testwatch.run.child import PytestChild, StartedChild
from testwatch.run.event_lines import EventLines
from testwatch.run.launch import EarlyChild

_WAKE_S = 0.2  # the longest wait for news, so that hung tests are noticed in time
_LATE_CONNECTION_S = 0.05


class CannotStartPython(Exception):
    """The configured interpreter is missing or not executable."""


class ChildSession:
    """A pytest child from start to cleanup: ``async with`` it, then call ``next_batch()``.

    ``notice`` receives what the user should read about the process itself: a broken event stream,
    a process a test left running.
    """

    def __init__(
        self, child: PytestChild, workdir: Path, notice: Callable[[str], None],
        early: EarlyChild | None = None,
    ) -> None:
        self.child = child
        self.workdir = workdir
        self.notice = notice
        self.early = early
        self.tail = ""  # the child's last output lines, once it is gone
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._exit: asyncio.Future[int] | None = None
        self._getter: asyncio.Future | None = None
        self.session_over = False  # set when the plugin reported its session's end
        self._streams: list[EventLines] = []
        self._released = False

    @classmethod
    def adopting(cls, early: EarlyChild, root: Path, notice: Callable[[str], None]) -> ChildSession:
        """A session for a child started before the event loop ran (``testwatch.run.launch``)."""
        early.adopted = True
        return cls(StartedChild(early.process, root, early.env), early.workdir, notice, early)

    @property
    def pid(self) -> int | None:
        return self.child.pid

    async def __aenter__(self) -> ChildSession:
        await self.start()
        return self

    async def start(self) -> None:
        """Listen for the plugin's events and start the child (``close`` undoes both)."""
        where = {"sock": self.early.server} if self.early else {"path": str(self.socket_path)}
        self._server = await asyncio.get_running_loop().create_unix_server(self._stream, **where)
        try:
            await self.child.start()
        except OSError as exc:
            self.close()
            raise CannotStartPython(exc.strerror) from None
        self._exit = asyncio.ensure_future(self.child.wait())

    def release(self) -> None:
        """Let a held child run its tests (now, or as soon as its plugin connects)."""
        self._released = True
        for stream in self._streams:
            stream.send(GO)

    def _stream(self) -> EventLines:
        stream = EventLines(self._queue, self._connected, self._broke)
        self._streams.append(stream)
        if self._released:
            stream.send(GO)  # written once the connection is made
        return stream

    @property
    def socket_path(self) -> Path:
        return self.workdir / "events.sock"

    async def next_batch(self) -> list[bytes] | None:
        """The event lines received since the last batch, within ``_WAKE_S`` (an empty batch
        then); None once the child has exited and every connection is drained."""
        assert self._exit is not None
        if self._exit.done() and self._drained():
            if not self.session_over:
                await asyncio.sleep(_LATE_CONNECTION_S)  # a connection accepted late still drains
            if self._drained():
                return None
        # Wake for the next line or the child's exit, whichever comes first.
        self._getter = self._getter or asyncio.ensure_future(self._queue.get())
        waited = {self._getter} if self._exit.done() else {self._getter, self._exit}
        await asyncio.wait(waited, timeout=_WAKE_S, return_when=asyncio.FIRST_COMPLETED)
        lines: list[bytes | None] = []
        if self._getter.done():
            lines.append(self._getter.result())
            self._getter = None
            while not self._queue.empty():
                lines.append(self._queue.get_nowait())
        return [line for line in lines if line is not None]

    @property
    def exit_code(self) -> int:
        assert self._exit is not None
        return self._exit.result()

    def kill(self) -> None:
        """SIGKILL the child's process group."""
        self.child.kill()

    def _drained(self) -> bool:
        return self._connections == 0 and self._queue.empty()

    def _connected(self, change: int) -> None:
        self._connections += change

    def _broke(self, why: str) -> None:
        self.notice(f"event stream from pytest broke: {why}")

    async def __aexit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Kill the child's process group, end what it left running, stop listening."""
        if self._getter is not None:
            self._getter.cancel()
        if self._exit is not None and not self._exit.done():
            # Closed before its exit was known (a cancelled run): nobody reads it. A forked child's
            # wait reads the warm process's socket, which may close next: its read must go first.
            self._exit.cancel()
        self.child.kill()
        for leftover in end_leftovers(str(self.socket_path), self.child.pid or -1):
            who = f"test {leftover.nodeid}" if leftover.nodeid else "the pytest run"
            self.notice(
                f"{who} left process {leftover.pid} running ({leftover.command[:200]}); testwatch ended it"
            )
        self.child.close_output()  # a process that escaped still holding it must not keep our end
        self.tail = self.child.tail()
        if self._server is not None:
            self._server.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
