"""Checks a run against ``[tool.testwatch.thresholds]`` (the history writer records the breaches).

Per test: peak_memory, retained_memory, leaked_memory (memray), call_duration, with marker
overrides, and p95_duration over the test's recent runs. Per run: total coverage and coverage
of the files matching each ``paths`` glob, from the run's ``coverage`` rows. Nothing is checked
that is not configured.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from testwatch.config.thresholds import Thresholds
from testwatch.config.units import format_duration, format_size
from testwatch.history.store import History
from testwatch.measure.latency import recent_latencies
from testwatch.model.events import ThresholdBreached
from testwatch.model.results import TestResult

# threshold key -> the figure of a finished test it limits
TEST_FIGURES: dict[str, Callable[[TestResult], float | None]] = {
    "peak_memory": lambda result: result.extra.get("peak_growth_bytes"),
    "retained_memory": lambda result: result.extra.get("retained_bytes"),
    "leaked_memory": lambda result: result.extra.get("leaked_bytes"),
    "call_duration": lambda result: result.phase_duration_s("call"),
}


class BreachChecker:
    """Evaluates one project's thresholds against results and the history's recent runs."""

    def __init__(self, thresholds: Thresholds, history: History) -> None:
        self.thresholds = thresholds
        self.history = history

    def check_test(
        self, run_id: int | None, result: TestResult, markers: list[str]
    ) -> list[ThresholdBreached]:
        """The limits a finished test exceeded."""
        limits = self.thresholds.for_markers(markers)
        breaches = []
        for kind, figure in TEST_FIGURES.items():
            if kind not in limits:
                continue
            value = figure(result)
            if value is not None and value > limits[kind]:
                breaches.append(ThresholdBreached(run_id, kind, value, limits[kind], result.nodeid))
        return breaches

    def check_p95(self, run_id: int | None, markers: dict[str, list[str]]) -> list[ThresholdBreached]:
        """Tests of this run whose p95 call duration over recent runs exceeds ``p95_duration``."""
        limited = {
            nodeid: limit
            for nodeid, names in markers.items()
            if (limit := self.thresholds.for_markers(names).get("p95_duration")) is not None
        }
        if not limited:
            return []
        latencies = recent_latencies(self.history, limited)
        return [
            ThresholdBreached(run_id, "p95_duration", latency.p95_s, limited[nodeid], nodeid)
            for nodeid, latency in latencies.items()
            if latency.p95_s > limited[nodeid]
        ]

    def check_coverage(self, run_id: int | None) -> tuple[list[ThresholdBreached], str]:
        """Total and per-glob coverage breaches, and a note when they could not be checked."""
        if not self.thresholds.on_coverage or run_id is None:
            return [], ""
        rows = list(self.history.rows("select * from coverage where run_id = ?", [run_id]))
        if not rows:
            return [], f"run {run_id} has no coverage data, so the coverage thresholds were not checked"
        breaches = []
        limit = self.thresholds.limits.get("coverage")
        if limit is not None and (total := coverage_percent(rows)) < limit:
            breaches.append(ThresholdBreached(run_id, "coverage", total, limit, path="(total)"))
        notes = []
        for glob, limit in self.thresholds.paths.items():
            matching = [row for row in rows if fnmatch.fnmatch(row["file"], glob)]
            if not matching:
                notes.append(f"no measured file matches the coverage glob {glob!r}")
            elif (percent := coverage_percent(matching)) < limit:
                breaches.append(ThresholdBreached(run_id, "coverage", percent, limit, path=glob))
        return breaches, "; ".join(notes)


def coverage_percent(rows: list[dict]) -> float:
    """coverage.py's own total: covered lines and branches over all lines and branches."""
    covered = sum((row["covered"] or 0) + (row["covered_branches"] or 0) for row in rows)
    total = sum((row["statements"] or 0) + (row["branches"] or 0) for row in rows)
    return 100.0 if total == 0 else 100.0 * covered / total


def format_figure(kind: str, value: float) -> str:
    """A breach's value or limit in its unit: ``"212.0 MB"``, ``"640 ms"``, ``"72.5%"``."""
    if kind == "coverage":
        return f"{value:.1f}%"
    if kind.endswith("_duration"):
        return format_duration(value)
    return format_size(value)


def describe_breach(breach: ThresholdBreached) -> str:
    """One line: ``peak_memory 212.0 MB > 150.0 MB  tests/test_a.py::test_big``."""
    where = breach.nodeid or breach.path or ""
    comparison = "<" if breach.kind == "coverage" else ">"
    return (
        f"{breach.kind} {format_figure(breach.kind, breach.value)} {comparison} "
        f"{format_figure(breach.kind, breach.limit)}  {where}"
    )
