"""Per-test latency over recent runs: median, p95, and a regression flag that noise does not raise.

The figure is the call phase of passed tests (``results.call_s``), less the time it waited for a
CPU, where the kernel tells it, and spent in full garbage collections (``call_wait_s``:
``collectors/in_pytest/cpu_wait.py``): setup and teardown include shared fixtures, which land on
whichever test happens to run first, and a test preempted by another process, or interrupted to
sweep the whole session's objects, did not get slower. The newest run is a regression when it is
slower than the baseline (the runs before it) both by a robust statistic, more than
``REGRESSION_MADS`` scaled median absolute deviations above the baseline median, and by more
than ``REGRESSION_RATIO`` and ``REGRESSION_FLOOR_S``; and, unless it is more than ``SURE_RATIO``
times the usual (and the floor), its previous run was slower than usual too. One sample cannot
tell a regression from the machine: on a shared 2-core VM the same test's CPU time (not its wait,
not a garbage collection) swings 1.3-1.8x from run to run in bursts of a few seconds (starlette
1.10.0's form-parser and test-client tests: 17 then 29 ms, 64 then 102 ms), so a moderate
slowdown is reported from its second run, a large one at once.

A busy machine also slows what the wait does not show (a CPU shared with a sibling thread, a
test's threads and subprocesses), and it slows a whole run, not one test: when a run holds at
least ``MIN_RUN_TESTS`` tests with a baseline, its slowdown is the median of their newest/usual
ratios weighted by their usual durations (``run_slowdown``), and each test is judged against its
baseline (median, spread and floor) times that slowdown. A run with fewer such tests (a rerun of
a few tests) is judged as is. ``judge_run`` is the one place a run's tests are judged: the
end-of-run notice and the latency pane both call it.

Durations are compared like with like: each run stores its measuring mode (``runs.measuring``:
memray tracking, dependency recording, branch coverage, or none), and a test's recent durations
are those of runs under the mode of its newest run; turning memray on slows every test, and must
not make them look slower than usual. For the same reason they are those of one machine
(``runs.machine``): a history can hold runs imported from a CI box and a laptop.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

from testwatch.history.store import History
from testwatch.model.results import TestResult

RECENT_RUNS = 20
MIN_BASELINE = 5
REGRESSION_MADS = 4.0
REGRESSION_RATIO = 1.25
# One wall-clock sample cannot tell a slower test from a preempted one below the scheduler's time
# slice (Linux CFS: a few ms idle, tens of ms on a loaded box): a 0 ms test seen at 3 ms on a quiet
# machine, and at 13-56 ms at load 20, were the machine (benchmarks/real, the control runs).
REGRESSION_FLOOR_S = 0.010
# Beyond this many times its usual (times the run's slowdown), and as many times the floor above
# it, one run is enough to flag a test; the machine's own swings stayed under 1.8x on the proving
# ground, or within 20 ms (a 6 ms test seen at 17 ms).
SURE_RATIO = 2.0
# Tests with a baseline a run needs before its own slowdown is inferred: a median of fewer would
# follow the tests a change slowed, not the machine.
MIN_RUN_TESTS = 20
_MAD_TO_SIGMA = 1.4826  # makes the MAD comparable to a standard deviation for normal noise
# A result's call duration without its wait for a CPU (``own_call_s`` in SQL); the two clocks may
# disagree by a microsecond, never below 0.
OWN_CALL_SQL = "max(r.call_s - coalesce(r.call_wait_s, 0), 0)"


@dataclass(frozen=True)
class Baseline:
    """A test's usual call duration: the median of its earlier runs and their spread, and the
    newest of those runs (which confirms a moderate slowdown)."""

    median_s: float
    spread_s: float  # the scaled median absolute deviation
    previous_s: float = 0.0

    @classmethod
    def of(cls, durations_s: Sequence[float]) -> Baseline | None:
        """The baseline of ``durations_s`` (oldest first), or None when they are too few to judge by."""
        if len(durations_s) < MIN_BASELINE:
            return None
        median = statistics.median(durations_s)
        spread = statistics.median(abs(d - median) for d in durations_s) * _MAD_TO_SIGMA
        return cls(median, spread, durations_s[-1])


@dataclass(frozen=True)
class RunVerdict:
    """One run's tests judged against their baselines."""

    slowdown: float  # how much slower than usual the run as a whole was; 1.0 when not inferred
    slower: frozenset[str]  # the node ids slower than usual beyond that


@dataclass(frozen=True)
class Latency:
    """One test's call-phase durations over its recent runs (oldest first)."""

    nodeid: str
    durations_s: tuple[float, ...]
    regressed: bool  # the newest is slower than usual (``judge_run`` over the newest run's tests)

    @property
    def newest_s(self) -> float:
        return self.durations_s[-1]

    @property
    def median_s(self) -> float:
        return statistics.median(self.durations_s)

    @property
    def p95_s(self) -> float:
        return percentile(self.durations_s, 95)

    @property
    def baseline_median_s(self) -> float | None:
        baseline = self.durations_s[:-1]
        return statistics.median(baseline) if baseline else None


def own_call_s(result: TestResult) -> float | None:
    """The call phase's duration without the time it waited for a CPU (``call_wait_s``, measured
    where the kernel tells it): what the test itself took, however busy the machine."""
    call_s = result.phase_duration_s("call")
    return None if call_s is None else max(call_s - result.extra.get("call_wait_s", 0.0), 0.0)


def percentile(values: Iterable[float], pct: float) -> float:
    """Linear-interpolated percentile (as numpy's default) of a non-empty sequence."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def is_regression(newest_s: float, baseline: Baseline, slowdown: float = 1.0) -> bool:
    """Slower than the baseline, scaled by the run's ``slowdown``, by the robust test and by the
    percentage (and the floor)."""
    usual_s = baseline.median_s * slowdown
    robust = newest_s > usual_s + REGRESSION_MADS * baseline.spread_s * slowdown
    relative = newest_s > usual_s * REGRESSION_RATIO and newest_s - usual_s > REGRESSION_FLOOR_S * slowdown
    return robust and relative


def is_confirmed(newest_s: float, baseline: Baseline, slowdown: float = 1.0) -> bool:
    """A regression one run can show: far slower than usual (``SURE_RATIO`` times, and as many
    floors above it), or slower than usual in the run before as well."""
    usual_s = baseline.median_s * slowdown
    far = newest_s > usual_s * SURE_RATIO and newest_s - usual_s > REGRESSION_FLOOR_S * SURE_RATIO * slowdown
    return far or is_regression(baseline.previous_s, baseline)


def run_slowdown(timed: Iterable[tuple[float, Baseline]]) -> float:
    """How much slower than usual a run's tests (newest duration, baseline) ran as a whole: the
    median of newest/usual weighted by usual, so that the tests long enough for the scheduler to
    preempt set it and a few slowed tests do not; at least 1.0, and 1.0 below ``MIN_RUN_TESTS``."""
    ratios = sorted(
        (newest_s / base.median_s, base.median_s) for newest_s, base in timed if base.median_s > 0
    )
    if len(ratios) < MIN_RUN_TESTS:
        return 1.0
    weight_so_far = list(accumulate(weight for _, weight in ratios))
    return max(1.0, ratios[bisect_left(weight_so_far, weight_so_far[-1] / 2)][0])


def judge_run(timed: Mapping[str, tuple[float, Baseline]]) -> RunVerdict:
    """The tests of one run (node id -> newest duration, baseline) slower than usual, each judged
    against its baseline times the run's slowdown, and confirmed (``is_confirmed``)."""
    slowdown = run_slowdown(timed.values())
    slower = frozenset(
        nodeid
        for nodeid, (newest_s, base) in timed.items()
        if is_regression(newest_s, base, slowdown) and is_confirmed(newest_s, base, slowdown)
    )
    return RunVerdict(slowdown, slower)


def measuring_mode(memray: bool, pytest_args: list[str]) -> str:
    """What a run measures that slows tests down: ``plain``, or ``+``-joined ``deps`` (dependency
    recording and coverage), ``branch`` (branch coverage), ``memray`` (every test tracked)."""
    parts = []
    if any(arg.startswith("--testwatch-deps") for arg in pytest_args):
        parts.append("deps")
        if "--testwatch-branch" in pytest_args:
            parts.append("branch")
    if memray:
        parts.append("memray")
    return "+".join(parts) or "plain"


def baseline_durations(
    history: History, nodeid: str, before_run_id: int, measuring: str | None,
    runs: int = RECENT_RUNS - 1,
) -> list[float]:
    """A test's passed call durations in its last ``runs`` runs before ``before_run_id`` that
    measured as ``measuring`` did, on the machine of run ``before_run_id``, oldest first."""
    sql = (
        f"select {OWN_CALL_SQL} from results r join runs u on u.id = r.run_id where r.nodeid = ? "
        "and r.outcome = 'passed' and r.call_s is not null and r.run_id < ? and u.measuring is ? "
        "and u.machine is (select machine from runs where id = ?) order by r.run_id desc limit ?"
    )
    params = [nodeid, before_run_id, measuring, before_run_id, runs]
    return [row[0] for row in history.conn.execute(sql, params)][::-1]


def recent_latencies(
    history: History, nodeids: Iterable[str], runs: int = RECENT_RUNS
) -> dict[str, Latency]:
    """Each test's passed call durations in its last ``runs`` runs under the measuring mode and on
    the machine of its newest one, newest last, flagged by ``judge_run`` over the tests whose
    newest run is the same."""
    # One index seek per test (the covering index of schema v3) rather than one window over
    # every result of the chosen tests: a long history stays as fast as a short one.
    passed = (
        "from results r join runs u on u.id = r.run_id where r.nodeid = ? and r.outcome = 'passed' "
        "and r.call_s is not null"
    )
    sql = (
        f"select {OWN_CALL_SQL}, r.run_id {passed} and (u.measuring, u.machine) is "
        f"(select u.measuring, u.machine {passed} order by r.run_id desc limit 1) "
        "order by r.run_id desc limit ?"
    )
    durations: dict[str, tuple[float, ...]] = {}
    timed_by_run: dict[int, dict[str, tuple[float, Baseline]]] = {}
    for nodeid in dict.fromkeys(nodeids):
        newest_first = history.conn.execute(sql, [nodeid, nodeid, runs]).fetchall()
        if not newest_first:
            continue
        durations[nodeid] = tuple(call_s for call_s, _ in reversed(newest_first))
        if base := Baseline.of(durations[nodeid][:-1]):
            newest_s, newest_run_id = newest_first[0]
            timed_by_run.setdefault(newest_run_id, {})[nodeid] = (newest_s, base)
    slower = set().union(*(judge_run(timed).slower for timed in timed_by_run.values()))
    return {nodeid: Latency(nodeid, values, nodeid in slower) for nodeid, values in durations.items()}
