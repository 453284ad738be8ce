"""What a run measures beside results: threshold breaches and latency regressions, as listeners.

``measuring_listeners`` gives the listeners a caller adds to the engine's bus (after its own
sink): the memory sampler and ``MeasuringListener``. They publish what they find
(``MemorySampled``, ``ThresholdBreached``, notices) on that bus, so the headless reporter and the
TUI get the same events and the history writer stores the breaches; they write nothing themselves
but the memory samples' series.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.measure.breaches import BreachChecker
from testwatch.measure.latency import Baseline, baseline_durations, judge_run, own_call_s
from testwatch.measure.sampling import SampleRecorder
from testwatch.model.events import (
    CoverageStored,
    EngineEvent,
    EngineNotice,
    RunEnding,
    RunStarted,
    TestFinished,
    TestMeasured,
    TestsCollected,
)
from testwatch.model.results import TestResult

_SHOWN_REGRESSIONS = 5
# A figure that can arrive after its test's result -> the threshold that limits it.
_LATE_FIGURE_KINDS = {"leaked_bytes": "leaked_memory"}


def measuring_listeners(
    config: Config, history: History, publish: Callable[[EngineEvent], None]
) -> list[Callable[[EngineEvent], None]]:
    """The listeners that measure a run, publishing what they find with ``publish``."""
    return [
        SampleRecorder(history, config.sample_interval, publish),
        MeasuringListener(config, history, publish),
    ]


class MeasuringListener:
    """Checks each result and the run as a whole against the thresholds and recent runs."""

    def __init__(self, config: Config, history: History, publish: Callable[[EngineEvent], None]):
        self.publish = publish
        self.checker = BreachChecker(config.thresholds, history)
        self.history = history
        self._run_id: int | None = None
        self._measuring = "plain"
        self._markers: dict[str, list[str]] = {}
        self._ran: list[str] = []
        self._timed: dict[str, tuple[float, Baseline]] = {}  # node id -> call duration, baseline

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            self._run_id = event.run_id
            self._measuring = event.measuring
            self._markers = {}
            self._ran = []
            self._timed = {}
        elif isinstance(event, TestsCollected):
            self._markers.update(event.markers)
        elif isinstance(event, TestFinished):
            self._test_finished(event)
        elif isinstance(event, TestMeasured):
            self._test_measured(event)
        elif isinstance(event, RunEnding):
            self._finish_run()
        elif isinstance(event, CoverageStored):
            self._coverage_stored(event)

    def _test_finished(self, event: TestFinished) -> None:
        nodeid = event.result.nodeid
        self._ran.append(nodeid)
        self._emit(self.checker.check_test(self._run_id, event.result, self._markers.get(nodeid, [])))
        self._compare_latency(event.result)

    def _compare_latency(self, result: TestResult) -> None:
        # Each baseline is read while pytest runs (one index seek each), so the end of a run does
        # not wait for a query per test before it can report; the run is judged as a whole there.
        call_s = own_call_s(result)
        if self._run_id is None or result.outcome != "passed" or call_s is None:
            return
        try:
            baseline = baseline_durations(self.history, result.nodeid, self._run_id, self._measuring)
        except sqlite3.Error:
            return  # the engine already says when the history cannot be used
        if base := Baseline.of(baseline):
            self._timed[result.nodeid] = (call_s, base)

    def _test_measured(self, event: TestMeasured) -> None:
        kinds = {_LATE_FIGURE_KINDS[name] for name in event.figures if name in _LATE_FIGURE_KINDS}
        if kinds:
            markers = self._markers.get(event.result.nodeid, [])
            breaches = self.checker.check_test(self._run_id, event.result, markers)
            self._emit([breach for breach in breaches if breach.kind in kinds])

    def _finish_run(self) -> None:
        ran = {nodeid: self._markers.get(nodeid, []) for nodeid in self._ran}
        self._emit(self.checker.check_p95(self._run_id, ran))
        if "deps" not in self._measuring.split("+"):  # a recording run's coverage comes later
            self._check_coverage(self._run_id)
        self._notice_regressions()

    def _coverage_stored(self, event: CoverageStored) -> None:
        if event.whole_suite:
            self._check_coverage(event.run_id)
        elif self.checker.thresholds.on_coverage:
            self.publish(EngineNotice(
                f"run {event.run_id} ran a selection of the tests, so the coverage thresholds were "
                "not checked (they judge runs of every test)", "info",
            ))

    def _check_coverage(self, run_id: int | None) -> None:
        breaches, note = self.checker.check_coverage(run_id)
        self._emit(breaches)
        if note:
            self.publish(EngineNotice(note, "info"))

    def _notice_regressions(self) -> None:
        verdict = judge_run(self._timed)
        if not verdict.slower:
            return
        slower = [(nodeid, *self._timed[nodeid]) for nodeid in verdict.slower]
        slower.sort(key=lambda test: test[1] / max(test[2].median_s, 1e-9), reverse=True)
        shown = ", ".join(
            f"{nodeid} ({call_s * 1000:.0f} ms, usually {base.median_s * 1000:.0f} ms)"
            for nodeid, call_s, base in slower[:_SHOWN_REGRESSIONS]
        )
        more = f" and {len(slower) - _SHOWN_REGRESSIONS} more" if len(slower) > _SHOWN_REGRESSIONS else ""
        allowed = (
            f"; allowing for this run's {verdict.slowdown:.1f}x overall slowdown"
            if verdict.slowdown > 1
            else ""
        )
        self.publish(EngineNotice(f"slower than their recent runs: {shown}{more}{allowed}", "info"))

    def _emit(self, breaches: list) -> None:
        for breach in breaches:
            self.publish(breach)
