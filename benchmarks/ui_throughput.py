"""UI throughput: 10,000 synthetic results streamed into the real app; key-to-render latency meanwhile.

A producer reports RunStarted, TestsCollected and then TestStarted/TestFinished for every test as
fast as the event loop lets it (yielding every 100 events, as the engine does between reads of the
child's socket), then RunFinished. Meanwhile a key is pressed every 50 ms, cycling 2 (memory pane),
1 (tests pane, the 10,000-test tree) and Down (the tree's cursor; Up on its last line, no key while
the tree has no line to move to, as before a real run's collection ends); its latency is the time from
posting the key to the first frame composed (and rendered to segments, as a terminal would get it)
that shows its effect (the new pane, the moved cursor). A whole run can stream in a fraction of a
second, so runs follow each other (as in watch mode) until at least ``--keys`` keys were measured
during the stream. The anchor is the same keys on the idle app, measured in the same rounds. Rounds
alternate idle and streaming; medians per kind of key (pane switch, cursor) are printed, with the
load average (the machine may be shared).

    python benchmarks/ui_throughput.py [--tests 10000] [--rounds 3] [--keys 12]

With ``--generate N`` or ``--project PATH`` it drives a REAL run instead: the app with its real watch
loop on a generated suite of N tests (benchmarks/generate_suite.py) or on a copy of a project (say,
one the real-project proving ground unpacked, with ``--python`` its venv's interpreter), whose first
run is every test in a real pytest child. The same keys are pressed every 50 ms from the start until
``AFTER_END_S`` after the run has ended (collection end and run end included: the end re-sorts the
tree and every pane reads the history); key-to-render p50, p99 and max are printed, and the keys
pressed within a second of the end of collection, and after the end of the run, apart.

    python benchmarks/ui_throughput.py --generate 2000 [--rounds 3]
    python benchmarks/ui_throughput.py --project /path/to/tomlkit-0.13.3 --python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.widgets import Tree

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.measure.latency import percentile
from testwatch.model.events import RunFinished, RunStarted, TestFinished, TestsCollected, TestStarted
from testwatch.model.results import PhaseReport, TestResult
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.app import TestwatchApp

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite

KEY_INTERVAL_S = 0.05
AFTER_END_S = 3.0  # keys go on this long after a real run has ended
KINDS = ("pane switch", "cursor")


class IdleController:
    """A ``Controller`` (testwatch.tui.controller) doing nothing: the benchmark plays the events itself."""

    def __init__(self, config, history, listener) -> None:
        self.listener = listener
        self.paused = False
        self.memray = False

    async def run(self) -> None:
        await asyncio.Event().wait()

    def request(self, kind, nodeids=None) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def cancel_run(self) -> None: ...

    def set_memray(self, on) -> None: ...

    def marker_filter(self) -> str:
        return ""

    def set_marker_filter(self, expression) -> None: ...


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
    phases = {
        "setup": PhaseReport("passed", 0.0001),
        "call": PhaseReport(outcome, 0.001),
        "teardown": PhaseReport("passed", 0.0001),
    }
    longrepr = "E   assert 1 == 2\n" if outcome == "failed" else ""
    return TestResult(
        f"tests/test_{index // 100:03d}.py::test_{index}[case_{index % 7}]",
        outcome,
        phases,
        longrepr=longrepr,
    )


async def produce(app: TimedApp, results: list[TestResult], run_id: int) -> None:
    """Stream a whole run into the app, as fast as the event loop lets the producer go."""
    report = app.controller.listener
    report(RunStarted(run_id, "all", None))
    report(TestsCollected({r.nodeid: [] for r in results}))
    await asyncio.sleep(0)
    for index, result in enumerate(results):
        report(TestStarted(result.nodeid))
        report(TestFinished(result))
        if index % 100 == 99:
            await asyncio.sleep(0)
    report(RunFinished(run_id, {"passed": len(results)}, 1, 1.0))


async def key_latency_s(app: TimedApp, key: str, done: Callable[[], bool]) -> float:
    """Post a key; wait for the first frame composed once ``done()`` says the key took effect."""
    started = time.perf_counter()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    while True:
        app.frame_seen = asyncio.Event()
        await app.frame_seen.wait()
        if done():
            return time.perf_counter() - started


def pane_shown(app: TimedApp, pane: str) -> Callable[[], bool]:
    """The pane is on screen: it has a region in the frame's layout and the other panes have none
    (the active tab changes before the frame that lays it out; a frame composed in between, say for
    news, still shows the old pane)."""
    shown = next(candidate for candidate in app.panes if pane == candidate.NAME)
    others = [candidate for candidate in app.panes if candidate is not shown]
    return lambda: bool(shown.region) and not any(other.region for other in others)


def cursor_moved(app: TimedApp) -> Callable[[], bool]:
    tree = app.query_one("#tests-tree", Tree)
    before = tree.cursor_line
    return lambda: tree.cursor_line != before


def cursor_key(app: TimedApp) -> str | None:
    """Down, or Up on the last line; None while the tree has no line to move to (a key that cannot
    move the cursor would be timed until some news happened to move it)."""
    tree = app.query_one("#tests-tree", Tree)
    if tree.cursor_line < tree.last_line:
        return "down"
    return "up" if tree.cursor_line > 0 else None


def next_key(app: TimedApp, presses: int):
    """The key of press number ``presses``: 2, 1, a cursor key, 2, 1, ... as (kind, its latency), or
    None for a cursor key the tree cannot take yet."""
    step = presses % 3
    if step == 2:
        key = cursor_key(app)
        return None if key is None else ("cursor", key_latency_s(app, key, cursor_moved(app)))
    key, pane = ("2", "memory") if step == 0 else ("1", "tests")
    return "pane switch", key_latency_s(app, key, pane_shown(app, pane))


async def press_keys(app: TimedApp, stop: asyncio.Event, latencies: dict[str, list[float]]) -> None:
    """Every 50 ms: show the memory pane, show the tests pane (the whole tree redraws), move the cursor."""
    presses = 0
    while not stop.is_set():
        pressed = next_key(app, presses)
        presses += 1
        if pressed is not None:
            kind, latency = pressed
            latencies[kind].append(await asyncio.wait_for(latency, 30))
        await asyncio.sleep(KEY_INTERVAL_S)


async def one_round(
    root: Path, count: int, streaming: bool, min_keys: int
) -> tuple[dict[str, list[float]], float, int, int]:
    """One app, idle or with runs streaming; latencies per kind of key, stream time, runs, frames."""
    history = open_history(Path(tempfile.mkdtemp()) / "history.db")
    app = TimedApp(load_config(root), history, IdleController)
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.controller.listener(TestsCollected({synthetic_result(i).nodeid: [] for i in range(200)}))
        await pilot.pause(0.2)
        stop = asyncio.Event()
        presser = asyncio.create_task(press_keys(app, stop, latencies))
        runs, stream_s = 0, 0.0
        if streaming:
            results = [synthetic_result(i) for i in range(count)]
            started = time.perf_counter()
            while runs == 0 or (sum(map(len, latencies.values())) < min_keys and not presser.done()):
                runs += 1
                await produce(app, results, runs)
            stream_s = time.perf_counter() - started
            while app.bridge.pending:
                await asyncio.sleep(0.01)
        else:
            await asyncio.sleep(2.0)
        stop.set()
        await presser
        frames = app.frames
    history.close()
    return latencies, stream_s, runs, frames


async def loop_stalls(stop: asyncio.Event, stalls_s: list[float], tick: Callable[[], None]) -> None:
    """How late a 10 ms sleep on the app's loop wakes, over and over: the loop's stalls; ``tick()``
    after each wake."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        stalls_s.append(time.perf_counter() - started - 0.01)
        tick()


async def real_round(
    root: Path, python: str | None
) -> tuple[list[tuple[float, float]], float | None, float, float]:
    """The app and its real watch loop on ``root`` until ``AFTER_END_S`` after its first run (every
    test) has ended; keys pressed all along. Returns (seconds since start, latency) per key, when
    collection ended, when the run ended and the app loop's longest stall."""
    config = load_config(root, {"python": python} if python else {})
    history = open_history(root / ".testwatch" / "history.db")
    app = TimedApp(config, history, WatchLoop)
    timed: list[tuple[float, float]] = []
    started = time.perf_counter()
    seen: dict[str, float] = {}  # "collected", "ended": seconds since start, seen within 10 ms

    def note_milestones() -> None:
        run, now_s = app.state.run, time.perf_counter() - started
        if run is not None and run.total and "collected" not in seen:
            seen["collected"] = now_s
        if run is not None and run.finished is not None and "ended" not in seen:
            seen["ended"] = now_s

    stalls_s: list[float] = []
    stop = asyncio.Event()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        watching = asyncio.create_task(loop_stalls(stop, stalls_s, note_milestones))
        presses = 0
        while "ended" not in seen or time.perf_counter() - started < seen["ended"] + AFTER_END_S:
            pressed = next_key(app, presses)
            presses += 1
            if pressed is not None:
                pressed_at = time.perf_counter() - started
                timed.append((pressed_at, await asyncio.wait_for(pressed[1], 60)))
            await asyncio.sleep(KEY_INTERVAL_S)
        stop.set()
        await watching
        await app.action_quit()
    history.close()
    return timed, seen.get("collected"), seen["ended"], max(stalls_s)


def real_runs(args: argparse.Namespace) -> None:
    """``--generate`` / ``--project``: key-to-render latency through whole real runs."""
    every: list[float] = []
    near_collection: list[float] = []
    after_end: list[float] = []
    stalls: list[float] = []
    for number in range(1, args.rounds + 1):
        root = Path(tempfile.mkdtemp(prefix="tw-ui-real-")) / "project"
        if args.project:
            shutil.copytree(args.project, root, ignore=shutil.ignore_patterns(".testwatch", "*.venv", ".git"))
        else:
            generate_suite(root, args.generate, max(1, args.generate // 50))
        timed, collected_s, run_s, stall_s = asyncio.run(real_round(root, args.python))
        stalls.append(stall_s)
        latencies = [latency for _, latency in timed]
        near = [latency for at, latency in timed if collected_s is not None and abs(at - collected_s) < 1.0]
        ending = [latency for at, latency in timed if at + latency > run_s]  # answered after the end
        every += latencies
        near_collection += near
        after_end += ending
        print(
            f"round {number}: run of {run_s:.1f} s, collection ended at "
            f"{collected_s if collected_s is None else round(collected_s, 2)} s; {len(latencies)} keys: "
            f"p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}, "
            f"max {ms(max(latencies))}; within 1 s of collection end: "
            f"max {ms(max(near)) if near else '-'} ({len(near)} keys); answered after the run's end: "
            f"max {ms(max(ending)) if ending else '-'} ({len(ending)} keys); longest stall of the app's "
            f"loop {ms(stall_s)}"
        )
        shutil.rmtree(root.parent, ignore_errors=True)
    what = args.project or f"a generated suite of {args.generate} tests"
    print(
        f"key->render latency through whole real runs of {what}: p50 {ms(percentile(every, 50))}, "
        f"p99 {ms(percentile(every, 99))}, max {ms(max(every))} over {len(every)} keys; "
        f"within 1 s of collection end max {ms(max(near_collection)) if near_collection else '-'}; "
        f"after the run's end max {ms(max(after_end)) if after_end else '-'}; "
        f"longest stall of the app's loop {ms(max(stalls))}"
    )
    print(f"load average {os.getloadavg()[0]:.1f}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keys", type=int, default=12, help="keys measured during the stream, per round")
    parser.add_argument("--generate", type=int, help="a real run of a generated suite of this many tests")
    parser.add_argument("--project", help="a real run of (a copy of) this project")
    parser.add_argument("--python", help="the interpreter of the project's tests (with --project)")
    args = parser.parse_args()
    if args.generate or args.project:
        real_runs(args)
        return
    root = Path(tempfile.mkdtemp(prefix="tw-ui-"))
    idle: dict[str, list[float]] = {kind: [] for kind in KINDS}
    streaming: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for number in range(1, args.rounds + 1):
        lat_idle, _, _, _ = asyncio.run(one_round(root, args.tests, False, args.keys))
        lat_stream, stream_s, runs, frames = asyncio.run(one_round(root, args.tests, True, args.keys))
        figures = []
        for kind in KINDS:
            idle[kind] += lat_idle[kind]
            streaming[kind] += lat_stream[kind]
            figures.append(
                f"{kind} median idle {ms(statistics.median(lat_idle[kind]))}, during stream "
                f"{ms(statistics.median(lat_stream[kind]))} ({len(lat_stream[kind])} keys)"
            )
        print(
            f"round {number}: {runs} runs of {args.tests} results streamed in {stream_s:.2f} s "
            f"({runs * args.tests / stream_s:.0f} results/s), {frames} frames; " + "; ".join(figures)
        )
    for kind in KINDS:
        during, anchor = streaming[kind], statistics.median(idle[kind])
        print(
            f"{kind} key->render latency while runs of {args.tests} results stream: median "
            f"{ms(statistics.median(during))}, p95 {ms(percentile(during, 95))}, max {ms(max(during))} "
            f"over {len(during)} keys; idle app (anchor, same rounds) median {ms(anchor)}; "
            f"ratio streaming/idle {statistics.median(during) / anchor:.2f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
