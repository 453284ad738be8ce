"""Judge one run of a history twice: with the run's slowdown (``latency.judge_run``, what testwatch
reports) and without it (each test against its own baseline alone, the rule before the slowdown).
Prints the slowdown inferred, how many tests each rule flags "slower than their recent runs", and
the flagged tests. The latency-under-load figures of docs/performance.md come from it.

    python benchmarks/latency_rejudge.py HISTORY.db [--run ID] [--show 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from testwatch.history.store import History, open_history
from testwatch.measure.latency import OWN_CALL_SQL, Baseline, baseline_durations, is_regression, judge_run


def timed_tests(history: History, run_id: int) -> dict[str, tuple[float, Baseline]]:
    """The run's passed tests with a baseline: node id -> (call duration without its CPU wait,
    baseline)."""
    (measuring,) = history.conn.execute("select measuring from runs where id = ?", [run_id]).fetchone()
    rows = history.conn.execute(
        f"select nodeid, {OWN_CALL_SQL} from results r where run_id = ? and outcome = 'passed' "
        "and call_s is not null",
        [run_id],
    ).fetchall()
    timed = {}
    for nodeid, call_s in rows:
        if base := Baseline.of(baseline_durations(history, nodeid, run_id, measuring)):
            timed[nodeid] = (call_s, base)
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("history", type=Path)
    parser.add_argument("--run", type=int, help="run id (default: the newest)")
    parser.add_argument("--show", type=int, default=10, help="flagged tests to list")
    args = parser.parse_args()
    history = open_history(args.history)
    run_id = args.run or history.conn.execute("select max(id) from runs").fetchone()[0]
    timed = timed_tests(history, run_id)
    verdict = judge_run(timed)
    alone = {nodeid for nodeid, (call_s, base) in timed.items() if is_regression(call_s, base)}
    print(f"run {run_id}: {len(timed)} tests with a baseline, run slowdown {verdict.slowdown:.2f}x")
    print(f"flagged: {len(alone)} without the run slowdown, {len(verdict.slower)} with it")
    flagged = sorted(alone | verdict.slower, key=lambda nodeid: timed[nodeid][0], reverse=True)
    for nodeid in flagged[: args.show]:
        call_s, base = timed[nodeid]
        rules = (
            "both"
            if nodeid in verdict.slower and nodeid in alone
            else ("with" if nodeid in verdict.slower else "without")
        )
        print(f"  {call_s * 1000:7.1f} ms, usually {base.median_s * 1000:6.1f} ms  ({rules})  {nodeid}")
    history.close()


if __name__ == "__main__":
    main()
