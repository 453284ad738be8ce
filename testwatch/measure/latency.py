"""Per-test latency over recent runs: median, p95, and a regression flag that noise does not raise.

The figure is the call phase (``results.call_s``) of passed tests: setup and teardown include
shared fixtures, which land on whichever test happens to run first. The newest run is a
regression when it is slower than the baseline (the runs before it) both by a robust statistic,
more than ``REGRESSION_MADS`` scaled median absolute deviations above the baseline median, and
by more than ``REGRESSION_RATIO`` and ``REGRESSION_FLOOR_S``.

Durations are compared like with like: each run stores its measuring mode (``runs.measuring``:
memray tracking, dependency recording, branch coverage, or none), and a test's recent durations
are those of runs under the mode of its newest run; turning memray on slows every test, and must
not make them look slower than usual. For the same reason they are those of one machine
(``runs.machine``): a history can hold runs imported from a CI box and a laptop.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from testwatch.history.store import History

RECENT_RUNS = 20
MIN_BASELINE = 5
REGRESSION_MADS = 4.0
REGRESSION_RATIO = 1.25
# One wall-clock sample cannot tell a slower test from a preempted one below the scheduler's time
# slice (Linux CFS: a few ms idle, tens of ms on a loaded box): a 0 ms test seen at 3 ms on a quiet
# machine, and at 13-56 ms at load 20, were the machine (benchmarks/real, the control runs).
REGRESSION_FLOOR_S = 0.010
_MAD_TO_SIGMA = 1.4826  # makes the MAD comparable to a standard deviation for normal noise


@dataclass(frozen=True)
class Latency:
    """One test's call-phase durations over its recent runs (oldest first)."""

    nodeid: str
    durations_s: tuple[float, ...]

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

    @property
    def regressed(self) -> bool:
        return is_regression(self.newest_s, self.durations_s[:-1])


def percentile(values: Iterable[float], pct: float) -> float:
    """Linear-interpolated percentile (as numpy's default) of a non-empty sequence."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def is_regression(newest_s: float, baseline_s: tuple[float, ...] | list[float]) -> bool:
    """Slower than the baseline by the robust test and by the percentage (and the floor)."""
    if len(baseline_s) < MIN_BASELINE:
        return False
    median = statistics.median(baseline_s)
    mad = statistics.median(abs(d - median) for d in baseline_s) * _MAD_TO_SIGMA
    robust = newest_s > median + REGRESSION_MADS * mad
    relative = newest_s > median * REGRESSION_RATIO and newest_s - median > REGRESSION_FLOOR_S
    return robust and relative


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
        "select r.call_s from results r join runs u on u.id = r.run_id where r.nodeid = ? "
        "and r.outcome = 'passed' and r.call_s is not null and r.run_id < ? and u.measuring is ? "
        "and u.machine is (select machine from runs where id = ?) order by r.run_id desc limit ?"
    )
    params = [nodeid, before_run_id, measuring, before_run_id, runs]
    return [row[0] for row in history.conn.execute(sql, params)][::-1]


def recent_latencies(
    history: History, nodeids: Iterable[str], runs: int = RECENT_RUNS
) -> dict[str, Latency]:
    """Each test's passed call durations in its last ``runs`` runs under the measuring mode and on
    the machine of its newest one, newest last."""
    # One index seek per test (the covering index of schema v3) rather than one window over
    # every result of the chosen tests: a long history stays as fast as a short one.
    passed = (
        "from results r join runs u on u.id = r.run_id where r.nodeid = ? and r.outcome = 'passed' "
        "and r.call_s is not null"
    )
    sql = (
        f"select r.call_s {passed} and (u.measuring, u.machine) is "
        f"(select u.measuring, u.machine {passed} order by r.run_id desc limit 1) "
        "order by r.run_id desc limit ?"
    )
    durations: dict[str, list[float]] = {}
    for nodeid in dict.fromkeys(nodeids):
        newest_first = [row[0] for row in history.conn.execute(sql, [nodeid, nodeid, runs])]
        if newest_first:
            durations[nodeid] = newest_first[::-1]
    return {nodeid: Latency(nodeid, tuple(values)) for nodeid, values in durations.items()}
