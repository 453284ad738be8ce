"""The state of one run and of its tests, in plain Python: what pytest reported, who is to blame
when the child dies or hangs, what was never run, and the run's exit status.

No process and no I/O: ``RunModel`` takes decoded protocol events (``testwatch.run.event_schema``)
and facts about the child (its exit code, its last output) and answers with the engine events to
publish, so every rule here is testable without starting pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from testwatch.history.store import count_outcomes
from testwatch.model.events import (
    CollectionError,
    EngineEvent,
    EngineNotice,
    TestFinished,
    TestMeasured,
    TestsCollected,
    TestStarted,
)
from testwatch.model.results import PHASES, ResultBuilder, TestResult
from testwatch.run.child import describe_exit

# pytest exit statuses that end a session before its tests are done.
SESSION_STOPPED = {2: "interrupted", 3: "internal error"}
_BAD = ("failed", "error", "crashed", "timeout")


class RunModel:
    """One run: the collected order, the tests running and finished, and why it ended early.

    ``clock`` gives seconds (``time.monotonic``); a test's elapsed time, for blame, is read from it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.order: list[str] | None = None  # node ids in collection order; None until collected
        self.collected_now = False  # whether the current pytest process reported its collection
        self.markers: dict[str, list[str]] = {}
        self.running: dict[str, float] = {}  # node id -> when it started
        self.builders: dict[str, ResultBuilder] = {}
        self.finished: dict[str, TestResult] = {}
        self.timed_out: set[str] = set()
        self.session_exit: int | None = None  # pytest's exit status, once its session finished
        self.session_finished = False
        self.child_failure: int | None = None  # the exit status when the run as a whole failed
        self.unrun = 0
        self.error = ""  # why pytest stopped early; kept in the run's history row

    # ----- what the child reports

    def begin_attempt(self) -> None:
        """A new pytest process is about to run the tests left."""
        self.session_finished = False
        self.collected_now = False
        self.timed_out.clear()

    def apply(self, event: dict) -> list[EngineEvent]:
        """One decoded protocol event (``test``, ``start``, ``collected``, ``collect_error``,
        ``collect_skip``, ``figures`` or ``session_finish``) -> the engine events it means."""
        kind = event.get("event")
        if kind == "test":
            return [e for phase in event["phases"] for e in self._report({**event, **phase})]
        if kind == "start":
            return self._start(event)
        if kind == "collected":
            return self._collected(event["items"], event.get("files") or [])
        if kind == "collect_error":
            return self._collect_error(event)
        if kind == "collect_skip":
            return self._collect_skip(event)
        if kind == "figures":
            return self._figures(event)
        if kind == "session_finish":
            self.session_finished = True
            self.session_exit = event.get("exitstatus")
        return []

    def _collected(self, items: list, clean_files: list[str]) -> list[EngineEvent]:
        """A session's collection: the tests not collected before join the run (a restart
        collects tests already in it, a run's next session new ones), and the files that
        collected without an error."""
        self.collected_now = True
        self.order = self.order or []
        new = {nodeid: markers for nodeid, markers in items if nodeid not in self.markers}
        if not new and not clean_files and self.order:
            return []
        self.order += new
        self.markers.update(new)
        return [TestsCollected(new, clean_files)]

    def _collect_error(self, event: dict) -> list[EngineEvent]:
        path = event.get("nodeid") or "<collection>"
        if path in self.finished:
            return []
        result = TestResult(nodeid=path, outcome="error", longrepr=event.get("longrepr", ""))
        return [self._record(result), CollectionError(path, result.longrepr)]

    def _collect_skip(self, event: dict) -> list[EngineEvent]:
        """A test file skipped as a whole while collected: one skipped result for the file, as
        pytest counts it (a file each pytest-xdist worker skips is counted once)."""
        path = event["nodeid"]
        if path in self.finished:
            return []
        return [self._record(TestResult(nodeid=path, outcome="skipped", longrepr=event.get("longrepr", "")))]

    def _start(self, event: dict) -> list[EngineEvent]:
        nodeid = event["nodeid"]
        location = event.get("location") or [None, None, None]
        lineno = location[1] + 1 if isinstance(location[1], int) else None
        self.running[nodeid] = self.clock()
        self.builders[nodeid] = ResultBuilder(nodeid, lineno)
        return [TestStarted(nodeid, lineno)]

    def _report(self, event: dict) -> list[EngineEvent]:
        nodeid = event["nodeid"]
        builder = self.builders.get(nodeid) or self.builders.setdefault(nodeid, ResultBuilder(nodeid))
        if event["when"] not in PHASES:  # pytest-xdist's report for a worker that died
            ended = builder.end_abnormally("crashed", event.get("longrepr", ""), self._elapsed_s(nodeid))
            return [self._record(ended)]
        result = builder.add(event)
        return [] if result is None else [self._record(result)]

    def _figures(self, event: dict) -> list[EngineEvent]:
        """Figures of a finished test measured after its report (memray's shared capture)."""
        result = self.finished.get(event["nodeid"])
        if result is None:
            return []
        result.extra.update(event["extra"])
        return [TestMeasured(result, list(event["extra"]))]

    def _record(self, result: TestResult) -> TestFinished:
        self.running.pop(result.nodeid, None)
        self.builders.pop(result.nodeid, None)
        self.finished[result.nodeid] = result
        return TestFinished(result)

    def _elapsed_s(self, nodeid: str) -> float:
        """Time since ``nodeid`` started (0 when its start was never seen)."""
        started = self.running.get(nodeid)
        return 0.0 if started is None else self.clock() - started

    # ----- deaths and hangs

    def overdue(self, limit_s: float) -> bool:
        """Whether a test has run longer than ``limit_s`` (0: no limit); those tests are marked."""
        if limit_s <= 0 or self.timed_out:
            return False
        now = self.clock()
        self.timed_out |= {nodeid for nodeid, t0 in self.running.items() if now - t0 > limit_s}
        return bool(self.timed_out)

    def child_died(self, code: int, tail: str, limit_s: float) -> list[EngineEvent]:
        """After the child died: blame the tests it was running, requeue the bystanders."""
        events: list[EngineEvent] = []
        for nodeid in list(self.running):
            builder, elapsed_s = self.builders[nodeid], self._elapsed_s(nodeid)
            if self.timed_out:
                if nodeid not in self.timed_out:
                    self.running.pop(nodeid)
                    self.builders.pop(nodeid)
                    continue
                message = f"timed out after {limit_s:g} s; its process group was killed"
                events.append(self._record(builder.end_abnormally("timeout", message, elapsed_s)))
            else:
                message = f"the pytest process died ({describe_exit(code)}) while this test ran"
                if tail:
                    message += f"\n--- last output of pytest ---\n{tail}"
                events.append(self._record(builder.end_abnormally("crashed", message, elapsed_s)))
        return events

    def session_stopped(self, tail: str) -> list[EngineEvent]:
        """pytest ended its session early (INTERNALERROR, pytest.exit): blame, count the rest."""
        why = SESSION_STOPPED[self.session_exit]
        events: list[EngineEvent] = []
        for nodeid in list(self.running):
            message = f"pytest stopped ({why}) while this test ran\n--- last output of pytest ---\n{tail}"
            ended = self.builders[nodeid].end_abnormally("crashed", message, self._elapsed_s(nodeid))
            events.append(self._record(ended))
        self.child_failure = self.session_exit
        self.error = f"pytest stopped ({why}); {len(self.remaining())} tests were not run:\n{tail}"
        return [*events, EngineNotice(self.error, "error")]

    def early_exit(self, code: int, tail: str, python: str) -> list[EngineEvent]:
        """The child ended before it collected: why, unless it merely found no tests."""
        self.child_failure = code
        if "No module named pytest" in tail:
            self.error = f"pytest is not installed for {python}: run {python} -m pip install pytest"
        elif code == 5 or "no tests ran" in tail:
            self.child_failure = None  # the run's status comes from its results (5: none)
            self.error = ""
            return []
        else:
            self.error = f"pytest stopped before collecting tests ({describe_exit(code)}):\n{tail}"
        return [EngineNotice(self.error, "error")]

    def cannot_start(self, message: str) -> list[EngineEvent]:
        """Nothing can run as configured: pytest's usage error."""
        self.child_failure = 4
        self.error = message
        return [EngineNotice(message, "error")]

    def gave_up(self, deaths: int, max_restarts: int) -> list[EngineEvent]:
        """The child died once more than ``max_restarts`` allows: the tests left are not run."""
        left = len(self.remaining())
        self.unrun = left
        return [EngineNotice(
            f"pytest died {deaths} times; {left} tests were not run (max_restarts = {max_restarts})",
            "error",
        )]

    def count_unrun(self) -> list[EngineEvent]:
        """Collected tests that never reported (pytest -x, a restart that lost them): say so."""
        if self.order is None or self.unrun or self.child_failure is not None:
            return []
        left = self.remaining()
        if not left:
            return []
        self.unrun = len(left)
        return [EngineNotice(
            f"{len(left)} collected tests did not run, {left[0]} first (pytest stopped early)"
        )]

    # ----- the run as a whole

    def remaining(self) -> list[str]:
        """Collected tests without a result yet, in run order."""
        return [nodeid for nodeid in self.order or [] if nodeid not in self.finished]

    def counts(self) -> dict[str, int]:
        return count_outcomes(result.outcome for result in self.finished.values())

    def exit_status(self, cancelled: bool = False) -> int:
        """pytest's exit codes: 0 passed, 1 failures, 2 interrupted, 3/4 pytest's own, 5 no tests."""
        if cancelled:
            return 2
        if self.child_failure is not None:
            return self.child_failure or 3
        counts = self.counts()
        if any(counts[outcome] for outcome in _BAD) or self.unrun:
            return 1
        if not self.finished:
            return 5
        return 0
