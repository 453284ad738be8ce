"""The engine's end of the plugin's event socket: complete lines into a queue, read in batches.

The plugin writes once or twice per test. Waking the engine for every write would cost it more
CPU than the events are worth on a suite of fast tests, so after each read the connection rests
for a few milliseconds while the kernel buffers what comes next (the socket buffer holds far more
than arrives meanwhile, so pytest never waits on it). The rest delays a result by at most
``REST_S``; the TUI draws at most ten times a second anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

REST_S = 0.01
LINE_LIMIT_BYTES = 64 * 1024 * 1024


class EventLines(asyncio.Protocol):
    """One connection from the plugin; ``None`` goes into ``lines`` when it closes."""

    def __init__(
        self,
        lines: asyncio.Queue[bytes | None],
        connections: Callable[[int], None],
        broke: Callable[[str], None],
    ) -> None:
        self.lines = lines
        self.connections = connections  # told +1 when the plugin connects, -1 when it is gone
        self.broke = broke
        self._partial = b""
        self._transport: asyncio.Transport | None = None
        self._resting: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self._transport = transport
        self.connections(1)

    def data_received(self, data: bytes) -> None:
        *complete, self._partial = (self._partial + data).split(b"\n")
        for line in complete:
            self.lines.put_nowait(line)
        if len(self._partial) > LINE_LIMIT_BYTES:
            self.broke(f"an event line is longer than {LINE_LIMIT_BYTES} bytes")
            self._partial = b""
            self._transport.close()
            return
        self._transport.pause_reading()
        self._resting = asyncio.get_running_loop().call_later(REST_S, self._resume)

    def _resume(self) -> None:
        self._resting = None
        if not self._transport.is_closing():
            self._transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._resting is not None:
            self._resting.cancel()
        if exc is not None:
            self.broke(str(exc))
        if self._partial:  # a last line without its newline (the plugin died mid-write)
            self.lines.put_nowait(self._partial)
        self.connections(-1)
        self.lines.put_nowait(None)
