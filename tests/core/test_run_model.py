"""The run model without a process: blame for deaths and hangs, what was never run, exit status."""

from __future__ import annotations

import pytest

from testwatch.model.events import (
    CollectionError,
    EngineNotice,
    TestFinished,
    TestMeasured,
    TestsCollected,
    TestStarted,
    ThresholdBreached,
)
from testwatch.run.listeners import EventBus
from testwatch.run.run_model import RunModel


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def collected(*nodeids: str) -> dict:
    return {"event": "collected", "items": [[nodeid, []] for nodeid in nodeids]}


def started(nodeid: str) -> dict:
    return {"event": "start", "nodeid": nodeid, "location": ["t.py", 4, nodeid]}


def passed(nodeid: str, when_failed: str | None = None) -> dict:
    phases = [
        {"when": when, "outcome": "failed" if when == when_failed else "passed", "duration": 0.01}
        for when in ("setup", "call", "teardown")
    ]
    return {"event": "test", "nodeid": nodeid, "phases": phases}


def outcomes(events) -> dict[str, str]:
    return {e.result.nodeid: e.result.outcome for e in events if isinstance(e, TestFinished)}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def model(clock):
    model = RunModel(clock)
    model.begin_attempt()
    return model


def test_events_become_engine_events_in_order(model):
    assert model.apply(collected("t.py::a", "t.py::b")) == [TestsCollected({"t.py::a": [], "t.py::b": []})]
    assert model.apply(started("t.py::a")) == [TestStarted("t.py::a", 5)]
    assert outcomes(model.apply(passed("t.py::a"))) == {"t.py::a": "passed"}
    assert model.running == {} and model.remaining() == ["t.py::b"]
    assert model.apply(collected("t.py::b")) == []  # a restart's collection: the first order stands
    assert model.order == ["t.py::a", "t.py::b"]


def test_a_second_session_adds_its_tests_to_the_run(model):
    """A run in two pytest sessions (``run_phases``): the second collection joins the first."""
    model.apply(collected("a.py::x"))
    model.apply(passed("a.py::x", when_failed="call"))
    model.begin_attempt()
    assert not model.collected_now
    assert model.apply(collected("b.py::y", "b.py::z")) == [TestsCollected({"b.py::y": [], "b.py::z": []})]
    assert model.collected_now and model.order == ["a.py::x", "b.py::y", "b.py::z"]
    model.apply(passed("b.py::y"))
    assert model.remaining() == ["b.py::z"]
    model.apply(passed("b.py::z"))
    assert model.counts()["failed"] == 1 and model.exit_status() == 1


def test_a_later_session_with_no_tests_leaves_the_status_to_the_results(model):
    model.apply(collected("a.py::x"))
    model.apply(passed("a.py::x"))
    model.begin_attempt()
    assert model.early_exit(5, "no tests ran in 0.01s", "python3") == []
    assert model.exit_status() == 0


def test_a_crash_blames_the_running_test_with_the_last_output(model, clock):
    model.apply(collected("t.py::a", "t.py::b", "t.py::c"))
    model.apply(started("t.py::a"))
    model.apply(passed("t.py::a"))
    model.apply(started("t.py::b"))
    clock.now_s += 2.5
    events = model.child_died(-11, "Fatal Python error: Segmentation fault", limit_s=0)
    assert outcomes(events) == {"t.py::b": "crashed"}
    crashed = events[0].result
    assert "killed by SIGSEGV" in crashed.longrepr and "Segmentation fault" in crashed.longrepr
    assert crashed.duration_s == pytest.approx(2.5)
    assert model.remaining() == ["t.py::c"]  # the bystander is run again


def test_a_timeout_blames_only_the_late_test_and_requeues_the_others(model, clock):
    model.apply(collected("t.py::slow", "t.py::quick"))
    model.apply(started("t.py::slow"))
    clock.now_s += 4.0
    model.apply(started("t.py::quick"))  # xdist: two tests run at once
    assert not model.overdue(limit_s=0)  # no limit set
    assert not model.overdue(limit_s=5.0)
    clock.now_s += 2.0
    assert model.overdue(limit_s=5.0)
    assert not model.overdue(limit_s=5.0)  # killed once
    events = model.child_died(-9, "", limit_s=5.0)
    assert outcomes(events) == {"t.py::slow": "timeout"}
    assert "timed out after 5 s" in events[0].result.longrepr
    assert model.running == {} and model.remaining() == ["t.py::quick"]


def test_an_xdist_worker_crash_report_crashes_its_test(model):
    model.apply(collected("t.py::a"))
    events = model.apply({"event": "test", "nodeid": "t.py::a", "phases": [
        {"when": "???", "outcome": "failed", "duration": 0, "longrepr": "worker 'gw0' crashed"}]})
    assert outcomes(events) == {"t.py::a": "crashed"}
    assert model.exit_status() == 1


def test_a_stopped_session_blames_the_running_test_and_fails_the_run(model):
    model.apply(collected("t.py::a", "t.py::b"))
    model.apply(started("t.py::a"))
    model.apply({"event": "session_finish", "exitstatus": 3})
    events = model.session_stopped("INTERNALERROR> boom")
    assert outcomes(events) == {"t.py::a": "crashed"}
    notice = events[-1]
    assert isinstance(notice, EngineNotice) and notice.severity == "error"
    assert "pytest stopped (internal error); 1 tests were not run" in notice.message
    assert model.exit_status() == 3


def test_collection_errors_and_late_figures(model):
    events = model.apply({"event": "collect_error", "nodeid": "t.py", "longrepr": "SyntaxError"})
    assert outcomes(events) == {"t.py": "error"} and isinstance(events[1], CollectionError)
    assert model.apply({"event": "collect_error", "nodeid": "t.py", "longrepr": "again"}) == []
    model.apply(passed("u.py::a"))
    measured = model.apply({"event": "figures", "nodeid": "u.py::a", "extra": {"leaked_bytes": 8}})
    assert isinstance(measured[0], TestMeasured) and measured[0].result.extra == {"leaked_bytes": 8}
    assert model.apply({"event": "figures", "nodeid": "u.py::gone", "extra": {}}) == []


def test_an_early_exit_says_why_unless_there_were_no_tests(model):
    assert model.early_exit(5, "no tests ran in 0.01s", "python3") == []
    assert model.exit_status() == 5
    notices = model.early_exit(1, "/venv/bin/python: No module named pytest", "/venv/bin/python")
    assert "pytest is not installed for /venv/bin/python" in notices[0].message
    assert model.exit_status() == 1 and model.error == notices[0].message


@pytest.mark.parametrize(
    ("reported", "cancelled", "expected"),
    [
        ([], False, 5),  # nothing ran
        (["pass"], False, 0),
        (["pass", "fail"], False, 1),
        (["pass"], True, 2),  # cancelled wins
    ],
)
def test_exit_status_follows_pytest(model, reported, cancelled, expected):
    for i, kind in enumerate(reported):
        model.apply(passed(f"t.py::{i}", when_failed="call" if kind == "fail" else None))
    assert model.exit_status(cancelled) == expected


def test_tests_that_never_reported_fail_the_run(model):
    model.apply(collected("t.py::a", "t.py::b"))
    model.apply(passed("t.py::a"))
    notices = model.count_unrun()
    assert "1 collected tests did not run, t.py::b first" in notices[0].message
    assert model.exit_status() == 1


def test_giving_up_after_restarts_counts_the_rest_unrun(model):
    model.apply(collected("t.py::a", "t.py::b"))
    notices = model.gave_up(3, max_restarts=2)
    assert "pytest died 3 times; 2 tests were not run (max_restarts = 2)" in notices[0].message
    assert model.count_unrun() == []  # said once
    assert model.exit_status() == 1


def test_a_python_that_cannot_start_is_a_usage_error(model):
    model.cannot_start("cannot run the Python interpreter /nope")
    assert model.exit_status() == 4


def test_derived_events_reach_every_listener_before_the_cause_goes_on():
    heard: list[tuple[str, object]] = []
    bus = EventBus()
    breach = ThresholdBreached(1, "call_duration", 2.0, 1.0, "t.py::a")

    def measurer(event):
        if isinstance(event, TestStarted):
            bus.publish(breach)

    bus.add(
        lambda event: heard.append(("first", event)), measurer, lambda event: heard.append(("last", event))
    )
    start = TestStarted("t.py::a")
    bus.publish(start)
    assert heard == [("first", start), ("first", breach), ("last", breach), ("last", start)]
