"""The session model and the news bridge, without a terminal."""

from __future__ import annotations

import threading

from testwatch.model.events import (
    ChangesDetected,
    MemorySampled,
    RunFinished,
    RunStarted,
    TestFinished,
    TestsCollected,
    TestStarted,
)
from testwatch.tui import messages
from testwatch.tui.bridge import NewsBridge
from testwatch.tui.state import SessionState
from testwatch.tui.status import status_line

from .conftest import result, run_events


def apply_all(state: SessionState, events) -> set[str]:
    touched: set[str] = set()
    for event in events:
        news = messages.news_for(event)
        if news is not None:
            touched |= state.apply(news)
    return touched


def test_rows_group_by_file_with_failures_first():
    state = SessionState(clock=lambda: 0.0)
    apply_all(state, run_events([
        result("tests/a.py::test_1"), result("tests/b.py::test_2"), result("tests/b.py::test_3", "failed"),
    ], run_id=1))
    assert [(file, [row.name for row in rows]) for file, rows in state.files()] == [
        ("tests/b.py", ["test_3", "test_2"]), ("tests/a.py", ["test_1"]),
    ]
    assert state.green is False


def test_a_cancelled_run_marks_the_tests_it_did_not_reach():
    state = SessionState(clock=lambda: 0.0)
    apply_all(state, [
        RunStarted(1, "all", None, {"*": "no history yet"}),
        TestsCollected({"t.py::a": [], "t.py::b": []}),
        TestStarted("t.py::a"), TestFinished(result("t.py::a")),
        RunFinished(1, {}, 2, 0.1, cancelled=True),
    ])
    assert state.tests["t.py::a"].status == "passed"
    assert state.tests["t.py::b"].status == "cancelled"
    assert state.tests["t.py::b"].reason == "no history yet"
    assert "*" not in state.tests


def test_a_test_the_selection_did_not_name_is_said_to_be_new():
    # The child runs the tests it collects in the selected files that the history does not know.
    state = SessionState(clock=lambda: 0.0)
    apply_all(state, [
        RunStarted(1, "change", 2, {"t.py::a": "calc.py: total changed", "new.py": "new test file"}),
        TestsCollected({"t.py::written_now": [], "t.py::a": [], "new.py::b": []}),
    ])
    assert state.tests["t.py::a"].reason == "calc.py: total changed"
    assert state.tests["new.py::b"].reason == "new test file"
    assert state.tests["t.py::written_now"].reason.startswith("new: not in the history yet")


def test_a_run_in_two_sessions_keeps_the_first_sessions_results():
    state = SessionState(clock=lambda: 0.0)
    apply_all(state, [
        RunStarted(1, "change", 3, {}),
        TestsCollected({"a.py::x": []}), TestStarted("a.py::x"), TestFinished(result("a.py::x", "failed")),
        TestsCollected({"b.py::y": [], "b.py::z": []}),
    ])
    statuses = [state.tests[n].status for n in ("a.py::x", "b.py::y", "b.py::z")]
    assert statuses == ["failed", "queued", "queued"]
    assert state.run.total == 3 and state.run.in_run == {"a.py::x", "b.py::y", "b.py::z"}


def test_the_verdict_stays_on_the_status_line_while_its_tests_are_recorded():
    """Results first: the change's run gives the verdict, then the same tests rerun to record
    their dependencies. A run whose results are not in yet hides the last verdict."""
    state = SessionState(clock=lambda: 0.0)
    apply_all(state, run_events([result("t.py::a")], run_id=1, trigger="change"))
    assert "green" in status_line(state).plain
    apply_all(state, [RunStarted(2, "record", 1, {"t.py::a": "recorded after its results"}),
                      TestsCollected({"t.py::a": []})])
    line = status_line(state).plain
    assert "recording 0/1" in line and "green" in line, line
    state.last_changes = ["src/calc.py"]  # the save's file comes before the recording's progress
    line = status_line(state).plain
    assert line.index("green") < line.index("changed: calc.py") < line.index("recording 0/1"), line
    apply_all(state, [RunStarted(3, "change", 1, {})])
    assert "green" not in status_line(state).plain


def test_green_to_red_and_back_flips_the_verdict():
    state = SessionState(clock=lambda: 0.0)
    flips = []
    for outcome in ("passed", "failed", "failed", "passed"):
        apply_all(state, run_events([result("t.py::a", outcome)], run_id=1))
        flips.append(state.verdict_flipped)
    assert flips == [False, True, False, True]


def test_the_failing_counts_follow_every_status_change():
    state = SessionState(clock=lambda: 0.0)
    state.load_outcomes({"a.py::x": "failed", "a.py::y": "passed", "b.py::z": "error"})
    assert (state.failing, state.failing_in("a.py"), state.failing_in("b.py")) == (2, 1, 1)
    apply_all(state, [
        RunStarted(1, "all", None), TestsCollected({"a.py::x": [], "a.py::y": [], "b.py::z": []}),
    ])
    assert state.failing == 0  # queued again
    apply_all(state, [
        TestStarted("a.py::x"), TestFinished(result("a.py::x", "failed")),
        TestStarted("a.py::y"), TestFinished(result("a.py::y", "failed")),
        RunFinished(1, {}, 1, 0.1, cancelled=True),
    ])
    assert (state.failing, state.failing_in("a.py"), state.failing_in("b.py")) == (2, 2, 0)
    assert state.tests["b.py::z"].status == "cancelled"
    apply_all(state, run_events([result("a.py::x"), result("c.py::w", "failed")], run_id=2))
    assert (state.failing, state.failing_in("a.py"), state.failing_in("c.py")) == (2, 1, 1)
    assert state.failing == sum(row.rank == 0 for row in state.tests.values())


def test_a_file_that_collects_again_drops_its_collection_error():
    state = SessionState(clock=lambda: 0.0)
    state.load_outcomes({"t.py": "error", "ok.py::a": "passed"})
    assert state.failing == 1 and state.green is None
    apply_all(state, [
        RunStarted(1, "failed", 1), TestsCollected({"t.py::fixed": []}, clean_files=["t.py"]),
        TestStarted("t.py::fixed"), TestFinished(result("t.py::fixed")), RunFinished(1, {}, 0, 0.1),
    ])
    assert "t.py" not in state.tests and state.failing == 0
    assert [(file, [row.name for row in rows]) for file, rows in state.files()] == [
        ("t.py", ["fixed"]), ("ok.py", ["a"]),
    ]


def test_the_recording_of_a_changes_tests_keeps_why_they_ran():
    # On 3.11 a save's tests run first without recording, then again to record them.
    state = SessionState(clock=lambda: 0.0)
    apply_all(state, [
        RunStarted(1, "change", 1, {"t.py::a": "t.py::f changed"}), TestsCollected({"t.py::a": []}),
        TestStarted("t.py::a"), TestFinished(result("t.py::a")), RunFinished(1, {}, 0, 0.1),
        RunStarted(2, "record", 1, {"t.py::a": "recorded after its results"}),
        TestsCollected({"t.py::a": []}),
    ])
    assert state.tests["t.py::a"].reason == "t.py::f changed"
    assert "t.py::f changed" in state.run.scope()


def test_a_collection_error_counts_in_the_runs_progress():
    for collection in ([TestsCollected({"a.py::x": []}), TestFinished(result("broken.py", "error"))],
                       [TestFinished(result("broken.py", "error")), TestsCollected({"a.py::x": []})]):
        state = SessionState(clock=lambda: 0.0)
        apply_all(state, [
            RunStarted(1, "all", None), *collection, TestStarted("a.py::x"), TestFinished(result("a.py::x")),
        ])
        assert (state.run.done, state.run.total) == (2, 2)  # not 2/1


def test_a_deleted_test_files_tests_leave_the_tree():
    files = {"a.py", "gone.py"}
    state = SessionState(clock=lambda: 0.0, file_exists=files.__contains__)
    apply_all(state, run_events([result("a.py::x"), result("gone.py::y", "failed")], run_id=1))
    assert state.green is False
    files.discard("gone.py")
    apply_all(state, [ChangesDetected(["gone.py"])])
    assert set(state.tests) == {"a.py::x"} and state.failing == 0
    assert state.green is True  # the deleted file's failure no longer keeps the session red


def test_unknown_events_are_ignored():
    class FromTheFuture:
        pass

    assert messages.news_for(FromTheFuture()) is None


class Recorder:
    """Stands in for the app: counts the NewsArrived messages the bridge posts."""

    def __init__(self) -> None:
        self.posted = 0

    def post_message(self, message) -> bool:
        assert isinstance(message, messages.NewsArrived)
        self.posted += 1
        return True


def test_bridge_posts_once_per_batch_from_many_threads():
    target = Recorder()
    bridge = NewsBridge(target)

    def produce(offset: int) -> None:
        for n in range(2500):
            bridge(TestFinished(result(f"t.py::test_{offset + n}")))

    threads = [threading.Thread(target=produce, args=(k * 10_000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batch = bridge.drain()
    assert len(batch) == 10_000 and target.posted == 1
    assert len({news.event.result.nodeid for news in batch}) == 10_000
    bridge(TestStarted("t.py::x"))
    assert target.posted == 2


def test_bridge_keeps_only_the_newest_of_consecutive_samples():
    bridge = NewsBridge(Recorder())
    for t in range(5):
        bridge(MemorySampled(1, t, 100 + t, 0.0, 1, 1, None))
    bridge(TestStarted("t.py::a"))
    bridge(MemorySampled(1, 9, 999, 0.0, 1, 1, None))
    assert [type(news).__name__ for news in bridge.drain()] == ["SampleTaken", "TestBegan", "SampleTaken"]


def test_bridge_drops_a_start_not_yet_drawn_when_its_result_arrives():
    bridge = NewsBridge(Recorder())
    finished = TestFinished(result("t.py::a"))
    bridge(TestStarted("t.py::a"))
    bridge(finished)
    bridge(TestStarted("t.py::b"))  # still running when the frame comes: shown running
    assert [type(news).__name__ for news in bridge.drain()] == ["ResultReceived", "TestBegan"]
    bridge(TestFinished(result("t.py::b")))  # its start was drawn already: nothing to replace
    bridge(TestStarted("t.py::c"))
    bridge(TestFinished(result("t.py::d")))  # another test's result never replaces c's start
    assert [news.event.__class__.__name__ for news in bridge.drain()] == [
        "TestFinished", "TestStarted", "TestFinished"]
