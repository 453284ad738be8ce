"""The engine's end of the plugin's event socket: complete lines into a queue, read in batches
(``testwatch.run.resting_reader``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from testwatch.run.resting_reader import RestingReader

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
        self._pieces: list[bytes] = []  # the line being received, joined once it is complete
        self._pending_bytes = 0
        self._unsent = b""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.connections(1)
        if self._unsent:
            transport.write(self._unsent)

    def send(self, data: bytes) -> None:
        """Write ``data`` to the plugin (the go of a held child), now or once connected."""
        if self._transport is None:
            self._unsent += data
        else:
            self._transport.write(data)

    def data_received(self, data: bytes) -> None:
        if b"\n" in data:
            head, *complete, tail = data.split(b"\n")
            self.lines.put_nowait(b"".join([*self._pieces, head]))
            for line in complete:
                self.lines.put_nowait(line)
            self._pieces, self._pending_bytes = [tail], len(tail)
        else:  # a long line arrives in many reads: joining each one would be quadratic
            self._pieces.append(data)
            self._pending_bytes += len(data)
        if self._pending_bytes > LINE_LIMIT_BYTES:
            self.broke(f"an event line is longer than {LINE_LIMIT_BYTES} bytes")
            self._pieces, self._pending_bytes = [], 0
            self._transport.close()
            return
        self.rest(len(data))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if exc is not None:
            self.broke(str(exc))
        if self._pending_bytes:  # a last line without its newline (the plugin died mid-write)
            self.lines.put_nowait(b"".join(self._pieces))
        self.connections(-1)
        self.lines.put_nowait(None)
