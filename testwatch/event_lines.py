"""The engine's end of the plugin's event socket: complete lines into a queue, read in batches
(``testwatch.resting_reader``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from testwatch.resting_reader import RestingReader

LINE_LIMIT_BYTES = 64 * 1024 * 1024


class EventLines(RestingReader):
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

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
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
        self.rest()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if exc is not None:
            self.broke(str(exc))
        if self._partial:  # a last line without its newline (the plugin died mid-write)
            self.lines.put_nowait(self._partial)
        self.connections(-1)
        self.lines.put_nowait(None)
