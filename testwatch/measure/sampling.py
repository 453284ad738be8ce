"""Live memory of a run: samples the pytest child's process tree while the run lasts, tags each
sample with the test running then, publishes it, and stores a downsampled series.

A listener on the engine's bus: ``RunStarted`` starts its sampling task (an asyncio task it owns
and cancels at ``RunEnding``, beside the engine on the same loop); the psutil reading itself
happens in a worker thread so a slow ``/proc`` never stalls the event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable

from testwatch.collectors.in_testwatch.process_sampler import ProcessTreeSampler
from testwatch.history.store import History
from testwatch.model.events import (
    ChildStarted,
    EngineEvent,
    MemorySampled,
    RunEnding,
    RunStarted,
    TestFinished,
    TestStarted,
)

SAMPLES_PER_LEVEL = 1200  # full resolution for the first 1,200 stored samples (5 min at 4 Hz)
_FLUSH_EVERY = 40


class Downsampler:
    """Keeps every sample until ``per_level`` are stored, then one in 2, one in 4...

    Each kept sample is the highest-RSS one of its window, so peaks survive. A run of a day at
    4 Hz stores about 12,000 rows instead of 345,600.
    """

    def __init__(self, per_level: int = SAMPLES_PER_LEVEL) -> None:
        self.per_level = per_level
        self.stride = 1
        self._stored_at_level = 0
        self._window: list[dict] = []

    def add(self, row: dict) -> dict | None:
        """The row to store, when this sample closes a window; else None."""
        self._window.append(row)
        if len(self._window) < self.stride:
            return None
        kept = max(self._window, key=lambda r: r["rss_bytes"])
        self._window = []
        self._stored_at_level += 1
        if self._stored_at_level >= self.per_level:
            self.stride *= 2
            self._stored_at_level = 0
        return kept


class SampleRecorder:
    """Samples one run at a time, from ``RunStarted`` to ``RunEnding``, following each child."""

    def __init__(
        self, history: History, interval_s: float, emit: Callable[[MemorySampled], None]
    ) -> None:
        self.history = history
        self.interval_s = interval_s
        self.emit = emit
        self.run_id: int | None = None
        self._running: dict[str, None] = {}  # tests running now, in start order
        self._sampler = ProcessTreeSampler()
        self._task: asyncio.Task | None = None
        self._started = 0.0
        self._downsampler = Downsampler()
        self._unsaved: list[dict] = []

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            self.start(event.run_id)
        elif isinstance(event, ChildStarted):
            self._sampler.root_pid = event.pid
        elif isinstance(event, TestStarted):
            self._running[event.nodeid] = None
        elif isinstance(event, TestFinished):
            self._running.pop(event.result.nodeid, None)
        elif isinstance(event, RunEnding):
            self.stop()

    def start(self, run_id: int | None) -> None:
        """Begin a run's series; needs a running event loop (the engine's)."""
        self.stop()
        self.run_id = run_id
        self._running.clear()
        self._sampler = ProcessTreeSampler()
        self._started = time.monotonic()
        self._downsampler = Downsampler()
        if self.interval_s > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        """End the series and store what is left."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._save()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            sample = await asyncio.to_thread(self._sampler.sample)
            if sample is None:
                continue
            nodeid = next(reversed(self._running), None)
            event = MemorySampled(
                self.run_id, round(sample.t_s - self._started, 3), sample.rss_bytes,
                sample.cpu_percent, sample.threads, sample.processes, nodeid,
            )
            self.emit(event)
            row = self._downsampler.add(_row(event))
            if row is not None:
                self._unsaved.append(row)
                if len(self._unsaved) >= _FLUSH_EVERY:
                    self._save()

    def _save(self) -> None:
        if not self._unsaved or self.run_id is None:
            self._unsaved.clear()
            return
        # Samples are a nice-to-have: when the history cannot be written (the engine already
        # says so), they are dropped rather than kept growing in memory.
        with contextlib.suppress(sqlite3.Error):
            self.history.insert_rows("samples", self._unsaved)
        self._unsaved.clear()


def _row(event: MemorySampled) -> dict:
    return {
        "run_id": event.run_id, "t_s": event.t_s, "rss_bytes": event.rss_bytes,
        "cpu_percent": event.cpu_percent, "threads": event.threads,
        "processes": event.processes, "nodeid": event.nodeid,
    }
