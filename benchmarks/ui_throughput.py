"""UI throughput: 10,000 synthetic results streamed into the real app; key-to-render latency meanwhile.

A producer reports RunStarted, TestsCollected and then TestStarted/TestFinished for every test as
fast as the event loop lets it (yielding every 100 events, as the engine does between reads of the
child's socket). Meanwhile a key is pressed every 50 ms, alternating 2 (memory pane) and 1 (tests
pane, the 10,000-test tree); its latency is the time from posting the key to the first frame
composed (and rendered to segments, as a terminal would get it) that shows the new pane. The
anchor is the same key on the idle app, measured in the same rounds. Rounds alternate idle and
streaming; medians are printed, with the load average (the machine may be shared).

    python benchmarks/ui_throughput.py [--tests 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from textual import events

from testwatch.config import load_config
from testwatch.events import RunFinished, RunStarted, TestFinished, TestsCollected, TestStarted
from testwatch.history import open_history
from testwatch.latency import percentile
from testwatch.results import PhaseReport, TestResult
from testwatch.tui.app import TestwatchApp

KEY_INTERVAL_S = 0.05


class IdleController:
    """The watch loop's interface, doing nothing: the benchmark plays the events itself."""

    def __init__(self, config, history, listener) -> None:
        self.listener = listener
        self.pytest_args: list[str] = []
        self.paused = False

    async def run(self) -> None:
        await asyncio.Event().wait()

    def request(self, kind, nodeids=None) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def cancel_run(self) -> None: ...


class TimedApp(TestwatchApp):
    """The app, noting when each frame is composed and rendered."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.frame_seen: asyncio.Event | None = None
        self.frames = 0

    def _display(self, screen, renderable) -> None:  # the one place every frame passes through
        if renderable is not None:
            renderable.render_segments(self.console)
            self.frames += 1
            if self.frame_seen is not None:
                self.frame_seen.set()
        super()._display(screen, renderable)


def synthetic_result(index: int) -> TestResult:
    outcome = "failed" if index % 97 == 0 else "passed"
    phases = {"setup": PhaseReport("passed", 0.0001), "call": PhaseReport(outcome, 0.001),
              "teardown": PhaseReport("passed", 0.0001)}
    longrepr = "E   assert 1 == 2\n" if outcome == "failed" else ""
    return TestResult(f"tests/test_{index // 100:03d}.py::test_{index}[case_{index % 7}]", outcome, phases,
                      longrepr=longrepr)


async def produce(app: TimedApp, count: int) -> float:
    """Stream a whole run into the app; returns how long the stream took."""
    results = [synthetic_result(i) for i in range(count)]
    started = time.perf_counter()
    report = app.controller.listener
    report(RunStarted(1, "all", None))
    report(TestsCollected({r.nodeid: [] for r in results}))
    await asyncio.sleep(0)
    for index, result in enumerate(results):
        report(TestStarted(result.nodeid))
        report(TestFinished(result))
        if index % 100 == 99:
            await asyncio.sleep(0)
    report(RunFinished(1, {"passed": count}, 1, 1.0))
    return time.perf_counter() - started


async def key_latency_s(app: TimedApp, key: str, pane: str) -> float:
    """Post a pane key; wait for the first frame composed after that pane became the visible one."""
    started = time.perf_counter()
    app.post_message(events.Key(key, key))
    while True:
        app.frame_seen = asyncio.Event()
        await app.frame_seen.wait()
        if pane == app.active_pane.NAME:
            return time.perf_counter() - started


async def press_keys(app: TimedApp, stop: asyncio.Event, latencies: list[float]) -> None:
    """Switch between the memory and the tests pane (which redraws the whole tree) every 50 ms."""
    keys = [("2", "memory"), ("1", "tests")]
    while not stop.is_set():
        key, pane = keys[len(latencies) % 2]
        latencies.append(await asyncio.wait_for(key_latency_s(app, key, pane), 30))
        await asyncio.sleep(KEY_INTERVAL_S)


async def one_round(root: Path, count: int, streaming: bool) -> tuple[list[float], float, int]:
    history = open_history(Path(tempfile.mkdtemp()) / "history.db")
    app = TimedApp(load_config(root), history, IdleController)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.controller.listener(TestsCollected({synthetic_result(i).nodeid: [] for i in range(200)}))
        await pilot.pause(0.2)
        stop = asyncio.Event()
        presser = asyncio.create_task(press_keys(app, stop, latencies))
        if streaming:
            stream_s = await produce(app, count)
            while app.bridge.pending:
                await asyncio.sleep(0.01)
        else:
            stream_s = 0.0
            await asyncio.sleep(2.0)
        stop.set()
        await presser
        frames = app.frames
    history.close()
    return latencies, stream_s, frames


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tw-ui-"))
    idle: list[float] = []
    streaming: list[float] = []
    for number in range(1, args.rounds + 1):
        lat_idle, _, _ = asyncio.run(one_round(root, args.tests, streaming=False))
        lat_stream, stream_s, frames = asyncio.run(one_round(root, args.tests, streaming=True))
        idle += lat_idle
        streaming += lat_stream
        print(f"round {number}: {args.tests} results streamed in {stream_s:.2f} s, {frames} frames; "
              f"key->render median idle {statistics.median(lat_idle) * 1000:.1f} ms, "
              f"during stream {statistics.median(lat_stream) * 1000:.1f} ms "
              f"(max {max(lat_stream) * 1000:.1f} ms, {len(lat_stream)} keys)")
    median_idle = statistics.median(idle)
    median_stream = statistics.median(streaming)
    p95_stream = percentile(streaming, 95)
    print(f"key->render latency during a {args.tests}-result stream: median {median_stream * 1000:.1f} ms, "
          f"p95 {p95_stream * 1000:.1f} ms, max {max(streaming) * 1000:.1f} ms over {len(streaming)} keys")
    print(f"anchor (idle app, same rounds): median {median_idle * 1000:.1f} ms; "
          f"ratio streaming/idle {median_stream / median_idle:.2f}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
