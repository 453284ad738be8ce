"""The real WatchLoop: real watcher, real pytest children, real history, driven as the TUI does."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import (
    ChangesDetected,
    ChildStarted,
    EngineNotice,
    RunFinished,
    RunStarted,
    SelectionMade,
    TestFinished,
    TestStarted,
    WatchStatus,
)
from testwatch.run.watch_loop import WatchLoop

DEADLINE_S = 90

SLOW_TEST = """
    import time
    from pathlib import Path


    def test_slow():
        while (Path(__file__).parent.parent / "gate").exists():
            time.sleep(0.05)
"""


class Recorder:
    """The listener: keeps every event; ``until`` waits for one that matches."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def __call__(self, event: object) -> None:
        self.events.append(event)

    async def until(self, predicate, after: int = 0):
        """The first event from index ``after`` on that matches (waits for it)."""
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            for event in self.events[after:]:
                if predicate(event):
                    return event
            await asyncio.sleep(0.05)
        seen = [type(e).__name__ for e in self.events if type(e).__name__ != "MemorySampled"]
        raise AssertionError(f"no matching event after {after}; got {seen}")

    def finished_tests(self, after: int = 0) -> dict[str, str]:
        return {e.result.nodeid: e.result.outcome for e in self.events[after:] if isinstance(e, TestFinished)}


def _is_run_end(event) -> bool:
    return isinstance(event, RunFinished)


async def _start(root, **overrides):
    config = load_config(root)
    for key, value in overrides.items():
        setattr(config, key, value)
    history = open_history(config.history_path)
    events = Recorder()
    loop = WatchLoop(config, history, events)
    task = asyncio.create_task(loop.run())
    await events.until(_is_run_end)  # the first run: everything (no history yet)
    await events.until(lambda e: isinstance(e, WatchStatus) and e.message == "waiting for changes")
    return loop, task, events, history


async def _stop(task, history) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    history.close()


async def test_first_run_then_an_edit_reruns_only_the_affected_test(sample, edit):
    _loop, task, events, history = await _start(sample)
    try:
        assert set(events.finished_tests()) == {
            "tests/test_core.py::test_double", "tests/test_core.py::test_negate",
            "tests/test_io.py::test_offset",
        }
        mark = len(events.events)
        edit(sample / "calc/core.py", "return -x", "return 0 - x")
        changed = await events.until(lambda e: isinstance(e, ChangesDetected), mark)
        assert changed.paths == ["calc/core.py"]
        selection = await events.until(lambda e: isinstance(e, SelectionMade), mark)
        assert selection.selected == ["tests/test_core.py::test_negate"]
        assert "calc/core.py::negate" in selection.reasons["tests/test_core.py::test_negate"]
        finished = await events.until(_is_run_end, mark)
        assert events.finished_tests(mark) == {"tests/test_core.py::test_negate": "passed"}
        rows = history.results(finished.run_id)
        assert [row["nodeid"] for row in rows] == ["tests/test_core.py::test_negate"]
    finally:
        await _stop(task, history)


async def test_a_test_written_into_a_known_file_runs_on_its_save(sample):
    _loop, task, events, history = await _start(sample)
    try:
        mark = len(events.events)
        test_core = sample / "tests/test_core.py"
        new_test = "\n\ndef test_written_now():\n    assert double(2) == 5\n"
        test_core.write_text(test_core.read_text() + new_test)
        await events.until(_is_run_end, mark)
        assert events.finished_tests(mark)["tests/test_core.py::test_written_now"] == "failed"
        assert "tests/test_io.py::test_offset" not in events.finished_tests(mark)
    finally:
        await _stop(task, history)


# Runs plain once after its file is edited (it finds "first"), then blocks the recording run that
# follows until "second" is removed.
BLOCKS_ITS_RECORDING = """
    import time
    from pathlib import Path

    ROOT = Path(__file__).parent.parent


    def test_slow():
        if (ROOT / "first").exists():
            (ROOT / "first").rename(ROOT / "second")
            return
        while (ROOT / "second").exists():
            time.sleep(0.05)
"""


def _started(trigger: str):
    return lambda event: isinstance(event, RunStarted) and event.trigger == trigger


def _ended(run_id: int):
    return lambda event: isinstance(event, RunFinished) and event.run_id == run_id


async def test_results_first_runs_a_change_plain_then_records_it_while_idle(sample, edit):
    _loop, task, events, history = await _start(sample, results_first=True)
    try:
        mark = len(events.events)
        edit(sample / "calc/core.py", "return -x", "return 0 - x")
        change = await events.until(_started("change"), mark)
        assert change.measuring == "plain" and change.selected_count == 1
        await events.until(_ended(change.run_id), mark)
        recording = await events.until(_started("record"), mark)
        assert recording.measuring == "deps"
        assert list(recording.reasons) == ["tests/test_core.py::test_negate"]
        assert recording.reasons["tests/test_core.py::test_negate"] == "recorded after its results"
        await events.until(_ended(recording.run_id), mark)
        await events.until(lambda e: isinstance(e, WatchStatus) and e.message == "waiting for changes", mark)
        negate = "tests/test_core.py::test_negate"
        assert [row["nodeid"] for row in history.results(change.run_id)] == [negate]
        deps = list(history.rows("select path, kind, run_id from test_deps where nodeid = ?", [negate]))
        assert {"path": "calc/core.py", "kind": "block:negate", "run_id": recording.run_id} in deps, deps
        assert _loop.selector.select().selected == []  # recorded: nothing is stale any more
    finally:
        await _stop(task, history)


async def test_a_change_cancels_the_recording_and_its_tests_stay_selected(sample, edit):
    (sample / "tests/test_slow.py").write_text(BLOCKS_ITS_RECORDING.replace("\n    ", "\n").lstrip())
    _loop, task, events, history = await _start(sample, results_first=True)
    try:
        mark = len(events.events)
        (sample / "first").write_text("")
        edit(sample / "tests/test_slow.py", "time.sleep(0.05)", "time.sleep(0.04)")
        recording = await events.until(_started("record"), mark)
        await events.until(lambda e: isinstance(e, TestStarted) and e.nodeid.endswith("test_slow"),
                           events.events.index(recording))
        edit(sample / "calc/core.py", "return -x", "return 0 - x")
        cancelled = await events.until(_ended(recording.run_id), mark)
        (sample / "second").unlink()
        assert cancelled.cancelled
        after = events.events.index(cancelled)
        selection = await events.until(lambda e: isinstance(e, SelectionMade), after)
        # Its recorded fingerprints are from before its edit: still selected, with the edited test.
        assert set(selection.selected) == {"tests/test_slow.py::test_slow", "tests/test_core.py::test_negate"}
        again = await events.until(_started("record"), after)
        assert set(again.reasons) == set(selection.selected)
        assert not (await events.until(_ended(again.run_id), after)).cancelled
        await events.until(lambda e: isinstance(e, WatchStatus) and e.message == "waiting for changes", after)
        assert _loop.selector.select().selected == []
    finally:
        await _stop(task, history)


async def _block_in_slow_test(sample, events, edit) -> int:
    """Make tests/test_slow.py's rerun hang on the gate file; return the event mark before it."""
    (sample / "gate").write_text("closed")
    mark = len(events.events)
    edit(sample / "tests/test_slow.py", "time.sleep(0.05)", "time.sleep(0.04)")
    await events.until(lambda e: isinstance(e, TestStarted) and e.nodeid.endswith("test_slow"), mark)
    return mark


async def test_change_during_a_run_restarts_it_and_loses_nothing(sample, edit):
    (sample / "tests/test_slow.py").write_text(SLOW_TEST.replace("\n    ", "\n").lstrip())
    _loop, task, events, history = await _start(sample)
    try:
        mark = await _block_in_slow_test(sample, events, edit)
        edit(sample / "calc/core.py", "return -x", "return 0 - x")
        cancelled = await events.until(lambda e: _is_run_end(e) and e.cancelled, mark)
        assert history.run(cancelled.run_id)["status"] == "cancelled"
        restart = events.events.index(cancelled) + 1
        selection = await events.until(lambda e: isinstance(e, SelectionMade), restart)
        assert {"tests/test_core.py::test_negate", "tests/test_slow.py::test_slow"} <= set(selection.selected)
        (sample / "gate").unlink()
        await events.until(lambda e: _is_run_end(e) and not e.cancelled, restart)
        outcomes = events.finished_tests(restart)
        assert outcomes["tests/test_core.py::test_negate"] == "passed"
        assert outcomes["tests/test_slow.py::test_slow"] == "passed"
    finally:
        await _stop(task, history)


async def test_on_change_wait_finishes_the_run_then_runs_the_change(sample, edit):
    (sample / "tests/test_slow.py").write_text(SLOW_TEST.replace("\n    ", "\n").lstrip())
    _loop, task, events, history = await _start(sample, on_change="wait")
    try:
        mark = await _block_in_slow_test(sample, events, edit)
        edit(sample / "calc/core.py", "return -x", "return 0 - x")
        await events.until(lambda e: isinstance(e, ChangesDetected) and "calc/core.py" in e.paths, mark)
        (sample / "gate").unlink()
        first = await events.until(_is_run_end, mark)
        assert not first.cancelled
        later = events.events.index(first) + 1
        await events.until(_is_run_end, later)
        assert "tests/test_core.py::test_negate" in events.finished_tests(later)
    finally:
        await _stop(task, history)


async def test_pause_keeps_changes_and_requests_still_run(sample, edit):
    loop, task, events, history = await _start(sample)
    try:
        loop.pause()
        assert loop.paused
        mark = len(events.events)
        edit(sample / "calc/core.py", "return -x", "return 0 - x")
        await events.until(lambda e: isinstance(e, ChangesDetected), mark)
        loop.request("tests", ["tests/test_io.py::test_offset"])
        await events.until(_is_run_end, mark)
        assert events.finished_tests(mark) == {"tests/test_io.py::test_offset": "passed"}
        resumed = len(events.events)  # nothing runs while paused, so nothing is missed here
        loop.resume()
        await events.until(_is_run_end, resumed)
        assert events.finished_tests(resumed) == {"tests/test_core.py::test_negate": "passed"}
    finally:
        await _stop(task, history)


async def test_cancel_run_keeps_finished_results(sample, edit):
    (sample / "tests/test_slow.py").write_text(SLOW_TEST.replace("\n    ", "\n").lstrip())
    loop, task, events, history = await _start(sample)
    try:
        (sample / "gate").write_text("closed")
        mark = len(events.events)
        loop.request("all")
        await events.until(lambda e: isinstance(e, TestStarted) and e.nodeid.endswith("test_slow"), mark)
        loop.cancel_run()
        finished = await events.until(_is_run_end, mark)
        assert finished.cancelled
        kept = {row["nodeid"] for row in history.results(finished.run_id)}
        assert set(events.finished_tests(mark)) == kept
    finally:
        (sample / "gate").unlink(missing_ok=True)
        await _stop(task, history)


async def test_marker_filter_narrows_the_runs_until_cleared(sample):
    marked = "import pytest\n\n\n@pytest.mark.slow\ndef test_marked():\n    pass\n"
    (sample / "tests/test_marked.py").write_text(marked)
    loop, task, events, history = await _start(sample)
    try:
        loop.set_marker_filter("slow")
        assert loop.marker_filter() == "slow"
        mark = len(events.events)
        loop.request("all")
        await events.until(_is_run_end, mark)
        assert events.finished_tests(mark) == {"tests/test_marked.py::test_marked": "passed"}
        loop.set_marker_filter("")
        mark = len(events.events)
        loop.request("all")
        await events.until(_is_run_end, mark)
        assert len(events.finished_tests(mark)) > 1
    finally:
        await _stop(task, history)


async def test_going_idle_frees_the_runs_reference_cycles(sample):
    """Issue 14's soak: the coverage.py objects of each run's recording hold in-memory SQLite
    databases in reference cycles, which only a full collection frees; at idle they were still
    there, and the soak's samples saw a few MB more or less. The loop collects them before it waits."""
    import coverage

    _loop, task, _events, history = await _start(sample)
    try:
        assert [o for o in gc.get_objects() if isinstance(o, coverage.Coverage)] == []
    finally:
        await _stop(task, history)


async def test_with_cold_starts_the_next_pytest_waits_started_between_runs(sample, edit):
    # Warm start off (or unusable): the pytest of the next run is started as the loop goes idle
    # and waits for its arguments; the run after the edit is given to it.
    loop, task, events, history = await _start(sample, warm=False)
    try:
        await events.until(lambda e: isinstance(e, WatchStatus) and e.message == "waiting for changes")
        ready = loop.engine._ready
        assert ready is not None and ready.waiting and ready.process.poll() is None
        mark = len(events.events)
        edit(sample / "calc/core.py", "return -x", "return x")
        started = await events.until(lambda e: isinstance(e, ChildStarted), mark)
        assert started.pid == ready.process.pid
        await events.until(_is_run_end, mark)
        assert events.finished_tests(mark) == {"tests/test_core.py::test_negate": "failed"}
        await events.until(lambda e: isinstance(e, WatchStatus) and e.message == "waiting for changes", mark)
        following = loop.engine._ready
        assert following is not None and following is not ready  # one for the run after
        loop.set_memray(True)  # a child started without memray cannot serve a memray run
        mark = len(events.events)
        edit(sample / "calc/core.py", "return x", "return -x")
        started = await events.until(lambda e: isinstance(e, ChildStarted), mark)
        assert started.pid != following.process.pid
        assert following.process.wait(timeout=30) is not None  # discarded, not left waiting
        await events.until(_is_run_end, mark)
    finally:
        await _stop(task, history)
    assert loop.engine._ready is None or loop.engine._ready.process.poll() is not None


async def test_a_test_that_ends_otherwise_while_recorded_is_named(sample, edit):
    # Line tracing is visible to the test here (branch coverage records with coverage.py's tracer).
    (sample / "tests/test_traced.py").write_text(
        "import sys\n\n\ndef test_untraced():\n    assert sys.gettrace() is None\n")
    _loop, task, events, history = await _start(sample, results_first=True, branch=True)
    try:
        mark = len(events.events)
        edit(sample / "calc/core.py", "return -x", "return 0 - x")  # the traced failure runs again
        recording = await events.until(_started("record"), mark)
        assert "tests/test_traced.py::test_untraced" in recording.reasons
        notice = await events.until(lambda e: isinstance(e, EngineNotice) and "otherwise" in e.message, mark)
        assert "tests/test_traced.py::test_untraced (passed, then failed)" in notice.message, notice.message
    finally:
        await _stop(task, history)
