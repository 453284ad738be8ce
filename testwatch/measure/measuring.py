"""What the engine measures beside results: live memory samples, threshold breaches and latency
regressions. Sits between the engine and its listener, so the headless reporter and the TUI
get the same ``MemorySampled`` and ``ThresholdBreached`` events.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.measure.breaches import BreachChecker
from testwatch.measure.latency import baseline_durations, is_regression
from testwatch.measure.sampling import SampleRecorder
from testwatch.model.events import (
    ChildStarted,
    EngineEvent,
    EngineNotice,
    RunFinished,
    RunStarted,
    TestFinished,
    TestMeasured,
    TestsCollected,
    TestStarted,
)
from testwatch.model.results import TestResult

_SHOWN_REGRESSIONS = 5
# A figure that can arrive after its test's result -> the threshold that limits it.
_LATE_FIGURE_KINDS = {"leaked_bytes": "leaked_memory"}


@dataclass(frozen=True)
class _Slower:
    """A test of this run slower than its recent runs (``latency.is_regression``)."""

    nodeid: str
    call_s: float
    usual_s: float  # the baseline's median


class MeasuringListener:
    """Wraps ``listener``: forwards every event and adds samples, breaches and notices."""

    def __init__(self, config: Config, history: History, listener: Callable[[EngineEvent], None]):
        self.listener = listener
        self.checker = BreachChecker(config.thresholds, history)
        self.history = history
        self.recorder = SampleRecorder(history, config.sample_interval, listener)
        self._run_id: int | None = None
        self._measuring = "plain"
        self._markers: dict[str, list[str]] = {}
        self._ran: list[str] = []
        self._slower: list[_Slower] = []

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunFinished):
            self._finish_run()
        self.listener(event)
        if isinstance(event, RunStarted):
            self._run_id = event.run_id
            self._measuring = event.measuring
            self._markers = {}
            self._ran = []
            self._slower = []
            self.recorder.start(event.run_id)
        elif isinstance(event, ChildStarted):
            self.recorder.child_started(event.pid)
        elif isinstance(event, TestsCollected):
            self._markers = event.markers
        elif isinstance(event, TestStarted):
            self.recorder.running[event.nodeid] = None
        elif isinstance(event, TestFinished):
            self._test_finished(event)
        elif isinstance(event, TestMeasured):
            self._test_measured(event)

    def _test_finished(self, event: TestFinished) -> None:
        nodeid = event.result.nodeid
        self.recorder.running.pop(nodeid, None)
        self._ran.append(nodeid)
        self._emit(self.checker.check_test(self._run_id, event.result, self._markers.get(nodeid, [])))
        self._compare_latency(event.result)

    def _compare_latency(self, result: TestResult) -> None:
        # Test by test while pytest runs (one index seek each), so the end of a run does not
        # wait for a query per test before it can report.
        call_s = result.phase_duration_s("call")
        if self._run_id is None or result.outcome != "passed" or call_s is None:
            return
        try:
            baseline = baseline_durations(self.history, result.nodeid, self._run_id, self._measuring)
        except sqlite3.Error:
            return  # the engine already says when the history cannot be used
        if is_regression(call_s, baseline):
            self._slower.append(_Slower(result.nodeid, call_s, statistics.median(baseline)))

    def _test_measured(self, event: TestMeasured) -> None:
        kinds = {_LATE_FIGURE_KINDS[name] for name in event.figures if name in _LATE_FIGURE_KINDS}
        if kinds:
            markers = self._markers.get(event.result.nodeid, [])
            breaches = self.checker.check_test(self._run_id, event.result, markers)
            self._emit([breach for breach in breaches if breach.kind in kinds])

    def _finish_run(self) -> None:
        self.recorder.stop()
        ran = {nodeid: self._markers.get(nodeid, []) for nodeid in self._ran}
        self._emit(self.checker.check_p95(self._run_id, ran))
        breaches, note = self.checker.check_coverage(self._run_id)
        self._emit(breaches)
        if note:
            self.listener(EngineNotice(note, "info"))
        self._notice_regressions()

    def _notice_regressions(self) -> None:
        if not self._slower:
            return
        slower = sorted(self._slower, key=lambda test: test.call_s / test.usual_s, reverse=True)
        shown = ", ".join(
            f"{test.nodeid} ({test.call_s * 1000:.0f} ms, usually {test.usual_s * 1000:.0f} ms)"
            for test in slower[:_SHOWN_REGRESSIONS]
        )
        more = f" and {len(slower) - _SHOWN_REGRESSIONS} more" if len(slower) > _SHOWN_REGRESSIONS else ""
        self.listener(EngineNotice(f"slower than their recent runs: {shown}{more}", "info"))

    def _emit(self, breaches: list) -> None:
        if breaches:
            self.checker.record(breaches)
            for breach in breaches:
                self.listener(breach)
