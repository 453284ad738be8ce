"""One memray tracker for a stretch of tests, and each test's heap figures read back from it.

Starting and stopping a memray ``Tracker`` costs 10-50 ms in a pytest process (memray patches
every loaded library both times), more than most tests take. ``SharedCapture`` keeps one tracker
running (memray's ALL_ALLOCATIONS format) and marks where each test's call phase opens and closes
with a small allocation from a function of its own (``open_window``/``close_window``). About once
a second, between tests, it stops, reads the file once and hands each test's figures to
``deliver``, then starts again on the next tracked test.

``read_windows`` gives each window what a tracker of its own would have measured: the heap peak
(the most bytes allocated in the window and alive at once), the bytes still alive at its end
(leaked) and the allocating locations at the peak. An allocation made before a window and freed
inside it does not count, as with a tracker started when the window opened.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

OPEN_BYTES = 7919  # odd sizes; bytearray(n) mallocs n + 1 bytes
CLOSE_BYTES = 7933
BATCH_S = 1.0  # how long a tracker runs before its tests' figures are read and delivered
TOP_ALLOCATIONS = 5
_FREE, _MMAP, _MUNMAP = 5, 14, 15  # memray's AllocatorType values
_MARKERS = {OPEN_BYTES + 1: "open_window", CLOSE_BYTES + 1: "close_window"}


def open_window() -> None:
    """Mark, in the running capture, that a test's call phase starts now."""
    bytearray(OPEN_BYTES)


def close_window() -> None:
    """Mark, in the running capture, that the test's call phase has ended."""
    bytearray(CLOSE_BYTES)


@dataclass
class Location:
    """Bytes alive at a window's peak from one stack and allocator, like memray's own records."""

    record: object  # a memray AllocationRecord from this location, for its stack
    size: int = 0
    n_allocations: int = 0

    def stack_trace(self, max_stacks: int | None = None) -> list:
        return self.record.stack_trace(max_stacks=max_stacks)


@dataclass
class WindowFigures:
    """One test's call phase as memray saw it; ``top_allocations`` as ``biggest_locations`` gives."""

    heap_peak_bytes: int = 0
    leaked_bytes: int = 0
    top_allocations: list[dict] = field(default_factory=list)


def biggest_locations(records, limit: int = TOP_ALLOCATIONS) -> list[dict]:
    """The biggest allocating locations among memray records: bytes, count, innermost frame."""
    biggest = sorted(records, key=lambda record: record.size, reverse=True)[:limit]
    locations = []
    for record in biggest:
        frames = record.stack_trace(max_stacks=1)
        function, file, line = frames[0] if frames else ("???", "???", 0)
        locations.append({
            "bytes": record.size, "allocations": record.n_allocations,
            "location": f"{function} {file}:{line}",
        })
    return locations


def read_windows(path: str) -> list[WindowFigures]:
    """The figures of every closed window in a capture file, in the order the windows opened."""
    from memray import FileReader

    windows: list[WindowFigures] = []
    marker_stacks: dict[int, str] = {}  # stack id -> the marker function allocating there, or ""
    records: list | None = None  # the open window's records
    with FileReader(path) as reader:
        for record in reader.get_allocation_records():
            marker = _MARKERS.get(record.size)
            if marker and (record.allocator == _FREE or _marker(record, marker_stacks) != marker):
                marker = None  # an allocation of the same size elsewhere
            if marker == "open_window":
                records = []
            elif marker == "close_window" and records is not None:
                windows.append(_figures(records))
                records = None
            elif records is not None:
                records.append(record)
    return windows


def _marker(record, marker_stacks: dict[int, str]) -> str:
    if record.stack_id not in marker_stacks:
        frames = record.stack_trace(max_stacks=1)
        ours = frames and frames[0][1] == __file__  # not a test's own function of that name
        marker_stacks[record.stack_id] = frames[0][0] if ours else ""
    return marker_stacks[record.stack_id]


def _figures(records: list) -> WindowFigures:
    live, peak_bytes, peak_at = _replay(records)
    figures = WindowFigures(peak_bytes, sum(record.size for record in live.values()))
    if peak_bytes:
        at_peak, _, _ = _replay(records[: peak_at + 1])
        figures.top_allocations = biggest_locations(_locations(at_peak.values()))
    return figures


def _replay(records: list) -> tuple[dict, int, int]:
    """Allocations alive after ``records`` (by address), the highest total and where it was."""
    live: dict[int, object] = {}
    current = peak_bytes = peak_at = 0
    for index, record in enumerate(records):
        if record.allocator == _FREE:
            freed = live.pop(record.address, None)
            current -= freed.size if freed is not None else 0
        elif record.allocator == _MUNMAP:
            current -= _unmap(live, record.address, record.size)
        else:
            live[record.address] = record
            current += record.size
            if current > peak_bytes:
                peak_bytes, peak_at = current, index
    return live, peak_bytes, peak_at


def _unmap(live: dict, start: int, size: int) -> int:
    """Drop the window's mappings inside [start, start + size); a partly unmapped one counts as freed."""
    gone = [address for address, record in live.items()
            if record.allocator == _MMAP and start <= address < start + size]
    return sum(live.pop(address).size for address in gone)


def _locations(alive) -> list[Location]:
    by_key: dict[tuple[int, int], Location] = {}
    for record in alive:
        location = by_key.setdefault((record.stack_id, record.allocator), Location(record))
        location.size += record.size
        location.n_allocations += 1
    return list(by_key.values())


class SharedCapture:
    """One tracker over many tests; ``deliver(nodeid, figures)`` gets each test's figures later."""

    def __init__(self, folder: str, deliver: Callable[[str, WindowFigures], None]) -> None:
        self._path = os.path.join(folder, "shared.bin")
        self._deliver = deliver
        self._tracker = None
        self._started_s = 0.0
        self._nodeids: list[str] = []  # the tests whose windows the running capture holds

    @contextlib.contextmanager
    def window(self, nodeid: str) -> Iterator[None]:
        """Track one test's call phase in the shared capture (started here when not running)."""
        if self._tracker is None:
            self._start()
        self._nodeids.append(nodeid)
        open_window()
        try:
            yield
        finally:
            close_window()

    def flush_if_due(self) -> None:
        """Between tests: deliver the figures once the capture has run for ``BATCH_S``."""
        if self._tracker is not None and time.monotonic() - self._started_s >= BATCH_S:
            self.flush()

    def flush(self) -> None:
        """Stop the capture and deliver the figures of every test it holds."""
        if self._tracker is None:
            return
        self._tracker.__exit__(None, None, None)
        self._tracker = None
        nodeids, self._nodeids = self._nodeids, []
        for nodeid, figures in zip(nodeids, read_windows(self._path), strict=False):
            self._deliver(nodeid, figures)
        os.unlink(self._path)

    def _start(self) -> None:
        from memray import FileFormat, Tracker

        self._tracker = Tracker(self._path, file_format=FileFormat.ALL_ALLOCATIONS)
        self._tracker.__enter__()
        self._started_s = time.monotonic()
