"""A fixed session for snapshots: a history of runs with memory, latency (one test slower than usual in
the newest), coverage and breaches, then a live run with a failure. A long test name shows how names
are cut to fit. Every time and figure is fixed so screenshots are the same on every run."""

from __future__ import annotations

import json

from testwatch.history.store import History, result_row
from testwatch.model.events import (
    ChangesDetected,
    EngineNotice,
    MemorySampled,
    RunFinished,
    RunStarted,
    SelectionMade,
    TestFinished,
    TestsCollected,
    TestStarted,
)

from .conftest import result

TESTS = {
    "tests/test_cart.py::test_add_item": [],
    "tests/test_cart.py::test_total[case_a]": [],
    "tests/test_cart.py::test_total[[red]]": [],
    "tests/test_pricing.py::test_discount": ["slow"],
    "tests/test_pricing.py::test_rates": [],
    "tests/test_pricing.py::test_loyalty_discount_rounds_down_to_the_nearest_cent_for_members": [],
}
RUNS = 6  # five make a baseline for the latency regression check; the sixth is the newest
SLOWER = "tests/test_pricing.py::test_rates"  # three times its usual call time in the newest run
FAILURE = (
    "    def test_discount():\n>       assert discount(100, 0.1) == 90\n"
    "E       assert 90.00000000000001 == 90\n\ntests/test_pricing.py:7: AssertionError"
)


def _outcome(nodeid: str, run: int) -> str:
    return "failed" if nodeid.endswith("discount") and run in (2, RUNS) else "passed"


def seed_history(history: History) -> None:
    """Finished runs with fixed timestamps, per-test memory, coverage and one breach."""
    for run in range(1, RUNS + 1):
        started = f"2026-03-0{run}T10:00:00.000+00:00"
        results = [
            result(nodeid, _outcome(nodeid, run), FAILURE if _outcome(nodeid, run) == "failed" else "",
                   duration_s=0.01 * (index + 1) * (3 if run == RUNS and nodeid == SLOWER else 1),
                   extra={"peak_growth_bytes": index * 9_000_000,
                          "peak_rss_bytes": 40_000_000 + index * 9_000_000, "memory_precision": "exact",
                          "retained_bytes": index * 100_000})
            for index, nodeid in enumerate(TESTS)
        ]
        failed = sum(r.is_bad for r in results)
        run_id = history.db["runs"].insert({
            "started_at": started, "finished_at": started, "trigger": "change" if run > 1 else "all",
            "status": "finished", "exit_status": 1 if failed else 0, "duration_s": 0.8 + run / 10,
            "passed": len(results) - failed, "failed": failed, "error": 0, "crashed": 0, "timeout": 0,
            "git_revision": "abc1234", "machine": "laptop",
        }).last_pk
        rows = [{**result_row(run_id, r), "finished_at": started} for r in results]
        history.db["results"].insert_all(rows)
    history.db["coverage"].insert_all([
        {"run_id": RUNS, "file": "shop/cart.py", "statements": 40, "covered": 38, "percent": 95.0,
         "missing_lines": json.dumps([12, 13])},
        {"run_id": RUNS, "file": "shop/pricing.py", "statements": 30, "covered": 21, "percent": 70.0,
         "missing_lines": json.dumps([5, 6, 7, 20, 22])},
    ])
    history.db["breaches"].insert({
        "run_id": RUNS, "nodeid": SLOWER, "kind": "call_duration",
        "value": 0.15, "limit_value": 0.1, "created_at": "2026-03-04T10:00:01",
    })


def live_run() -> list:
    """A change, its selection, and a run with one failure, as the watch loop reports them."""
    selected = list(TESTS)
    run_id = RUNS + 1
    events: list = [
        ChangesDetected(["shop/pricing.py"]),
        SelectionMade(selected, dict.fromkeys(selected, "imports shop/pricing.py"), len(TESTS), 0.004),
        RunStarted(run_id, "change", len(selected), dict.fromkeys(selected, "imports shop/pricing.py")),
        TestsCollected(TESTS),
    ]
    for index, nodeid in enumerate(selected):
        outcome = "failed" if nodeid.endswith("discount") else "passed"
        events += [
            TestStarted(nodeid),
            MemorySampled(run_id, index * 0.25, 45_000_000 + index * 4_000_000, 90.0, 1, 1, nodeid),
            TestFinished(result(nodeid, outcome, FAILURE if outcome == "failed" else "", 0.01 * (index + 1),
                                stdout="rate table loaded [ok]\n" if outcome == "failed" else "")),
        ]
    events += [
        RunFinished(run_id, {"passed": len(selected) - 1, "failed": 1}, 1, 0.9),
        EngineNotice("coverage data for shop/legacy.py could not be read", "warning"),
    ]
    return events
