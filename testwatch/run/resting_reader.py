"""A read side that wakes up in batches: after each read the transport rests for a few
milliseconds while the kernel buffers what comes next.

pytest writes to testwatch once or twice per test, on the event socket and on its output pipe.
Waking testwatch for every write would cost both processes more than the writes are worth on a
suite of fast tests (the writer pays for waking a reader, the reader for a loop turn each time);
while testwatch rests, a write just lands in the kernel's buffer. The rest delays what is read
by at most ``REST_S``; the TUI draws at most ten times a second anyway.
"""

from __future__ import annotations

import asyncio

REST_S = 0.01
BUSY_READ_BYTES = 32 * 1024  # a read this big means the writer writes fast: no rest


class RestingReader(asyncio.Protocol):
    """Call ``rest()`` at the end of ``data_received``; the rest ends by itself (and is skipped
    after a read of ``BUSY_READ_BYTES`` or more: a long line or a flood is read at full speed)."""

    _transport: asyncio.ReadTransport | None = None
    _resting: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self._transport = transport

    def rest(self, read_bytes: int = 0) -> None:
        if read_bytes >= BUSY_READ_BYTES:
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
            self._resting = None
