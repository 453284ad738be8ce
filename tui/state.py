"""What the app knows about this session: every test's row, the run in progress, samples, status.

Plain Python with no Textual import: ``SessionState.apply`` takes one piece of news and says which
panes it touched; the panes then draw from this state.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

from testwatch.measure.breaches import describe_breach
from testwatch.model.events import (
    ChangesDetected,
    ChildRestarted,
    CollectionError,
    EngineNotice,
    MemorySampled,
    RunFinished,
    RunStarted,
    SelectionMade,
    TestFinished,
    TestsCollected,
    TestStarted,
    ThresholdBreached,
    WatchStatus,
)
from testwatch.model.results import BAD_OUTCOMES, TestResult, nodeid_file
from testwatch.model.wording import counted
from testwatch.tui import messages as m

NEW_TEST_REASON = "new: not in the history yet (a test just written, or a new parameter)"

# What ``SessionState.apply`` returns for news that touches every pane, whichever panes exist.
EVERY_PANE = "every pane"
# Sort rank of a status in the tests pane: failures first, then what is still moving.
_RANK = {"running": 1, "queued": 2}


@dataclass
class TestRow:
    """One test as the tests pane shows it. Its status changes through ``SessionState.set_status``
    only, which keeps the failing counts."""

    nodeid: str
    status: str = "queued"
    markers: list[str] = field(default_factory=list)
    reason: str = ""
    result: TestResult | None = None

    __test__ = False

    @property
    def file(self) -> str:
        return nodeid_file(self.nodeid)

    @property
    def name(self) -> str:
        return self.nodeid.split("::", 1)[1] if "::" in self.nodeid else self.nodeid

    @property
    def rank(self) -> int:
        return 0 if self.status in BAD_OUTCOMES else _RANK.get(self.status, 3)


@dataclass
class LiveRun:
    """The run in progress (or the last one)."""

    run_id: int | None
    trigger: str
    total: int | None
    started_s: float
    done: int = 0
    counts: Counter = field(default_factory=Counter)
    finished: RunFinished | None = None
    reasons: dict[str, str] = field(default_factory=dict)  # "*" is the reason every test runs
    in_run: set[str] = field(default_factory=set)
    selected: int | None = None  # how many tests were asked for (None: every test)
    known: int | None = None  # how many tests the selection chose from
    marker_filter: str = ""  # the -m expression the run was given

    def scope(self) -> str:
        """What this run runs and why, from its own start: "every test (no history yet)", "1 of 3
        tests (1 failed last time)", "2 tests (-m slow)" when markers filtered it."""
        if self.selected is not None:
            text = counted(self.selected, "test")
            if self.known:
                text = f"{self.selected} of {counted(self.known, 'test')}"
            reasons = Counter(reason for nodeid, reason in self.reasons.items() if nodeid != "*")
            why = [f"{count} {reason}" for reason, count in reasons.most_common(2)]
        else:
            collected = self.total if self.finished is not None else None
            if collected is None:
                text = "every test"
            else:
                text = counted(collected, "test")
                text = text if self.marker_filter else f"all {text}"
            why = [self.reasons["*"]] if self.reasons.get("*") else []
        why += [f"-m {self.marker_filter}"] if self.marker_filter else []
        return f"{text} ({', '.join(why)})" if why else text


class SessionState:
    """Tests, the current run, memory samples, notices and the watch status."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic,
        file_exists: Callable[[str], bool] = lambda test_file: True,
    ) -> None:
        self.clock = clock
        self.file_exists = file_exists  # a changed test file (from the project folder) is still there
        self.tests: dict[str, TestRow] = {}
        self._file_rows: dict[str, list[TestRow]] = {}  # file -> its rows, both as first seen
        self.run: LiveRun | None = None
        self.structure_changed = False
        self.changed: set[str] = set()
        self.samples: list[tuple[float, int]] = []
        self.previous_samples: list[tuple[float, int]] = []
        self.running_now: str | None = None
        self.notices: list[tuple[str, str]] = []
        self.watch_message = ""
        self.paused = False
        self.memray = False  # whether runs measure allocations with memray, from the next one on
        self.last_changes: list[str] = []
        self.marker_filter = ""  # the -m expression runs are given from the next one on
        self._selection: SelectionMade | None = None  # the selection of the run about to start
        self.save_to_result_s: float | None = None
        self.green: bool | None = None
        self.verdict_flipped = False
        self._changes_at_s: float | None = None
        self._failing_in: Counter = Counter()  # file -> its failing tests, kept by set_status
        self._handlers: dict[type, Callable] = {
            m.RunBegan: self._run_began, m.TestsListed: self._tests_listed,
            m.TestBegan: self._test_began, m.ResultReceived: self._result_received,
            m.CollectionFailed: self._collection_failed, m.ChildRestarted: self._child_restarted,
            m.NoticeReceived: self._notice, m.RunEnded: self._run_ended,
            m.ChangesSeen: self._changes_seen, m.SelectionChosen: self._selection_chosen,
            m.WatchStatusChanged: self._watch_status, m.SampleTaken: self._sample_taken,
            m.BreachFound: self._breach_found,
            m.CoverageSaved: self._coverage_saved,
        }

    def load_outcomes(self, outcomes: dict[str, str]) -> None:
        """Show the tests the history knows, with their last outcome, before anything runs."""
        for nodeid, outcome in outcomes.items():
            if nodeid not in self.tests:
                self._add_row(TestRow(nodeid, status=outcome))
        self.structure_changed = True

    def apply(self, news: m.News) -> set[str]:
        """Apply one piece of news; returns the ids of the panes it touched (``EVERY_PANE`` for all of
        them) and ``"status"`` when the status line must be drawn again."""
        handler = self._handlers.get(type(news))
        return handler(news.event) if handler else set()

    def row(self, nodeid: str) -> TestRow:
        row = self.tests.get(nodeid)
        if row is None:
            row = self._add_row(TestRow(nodeid))
            self.structure_changed = True
        self.changed.add(nodeid)
        return row

    def _add_row(self, row: TestRow) -> TestRow:
        self.tests[row.nodeid] = row
        self._file_rows.setdefault(row.file, []).append(row)
        if row.rank == 0:
            self._failing_in[row.file] += 1
        return row

    def _drop_row(self, nodeid: str) -> None:
        row = self.tests.pop(nodeid, None)
        if row is None:
            return
        self._file_rows[row.file].remove(row)
        if row.rank == 0:
            self._failing_in[row.file] -= 1
        self.changed.discard(nodeid)
        self.structure_changed = True

    def set_status(self, row: TestRow, status: str) -> None:
        """Give ``row`` a new status, keeping the failing counts (a count over every row, per batch,
        cost 27,000 ``rank`` calls on a big suite)."""
        was_failing = row.rank == 0
        row.status = status
        if (row.rank == 0) != was_failing:
            self._failing_in[row.file] += -1 if was_failing else 1

    def files(self, keep: Callable[[TestRow], bool] | None = None) -> list[tuple[str, list[TestRow]]]:
        """Rows grouped by file, failures first (files with failures first), else as collected."""
        groups = []
        for file, rows in self._file_rows.items():
            kept = sorted(rows if keep is None else filter(keep, rows), key=attrgetter("rank"))
            if kept:
                groups.append((file, kept))
        return sorted(groups, key=lambda item: item[1][0].rank)  # a file's first row has its lowest rank

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.finished is None

    @property
    def failing(self) -> int:
        """How many tests the tree shows as failed (or errored, crashed, timed out)."""
        return self._failing_in.total()

    def failing_in(self, file: str) -> int:
        """How many of ``file``'s tests are failing."""
        return self._failing_in[file]

    # ----- handlers: each returns the panes it touched

    def _run_began(self, event: RunStarted) -> set[str]:
        if self.samples:
            self.previous_samples = self.samples
        self.samples = []
        selection, self._selection = self._selection, None
        chose = selection is not None and event.trigger in ("change", "affected")
        known = selection.total_known if chose else None
        reasons = dict(event.reasons)
        if event.trigger == "record" and self.run is not None:  # the change's tests again, recorded
            reasons = {nodeid: self.run.reasons.get(nodeid, why) for nodeid, why in reasons.items()}
            known = known or self.run.known
        self.run = LiveRun(
            event.run_id, event.trigger, event.selected_count, self.clock(), reasons=reasons,
            selected=event.selected_count, known=known or len(self.tests), marker_filter=self.marker_filter,
        )
        if event.trigger not in ("change", "record"):  # record: the change's tests, recorded
            self.last_changes = []  # what changed is no longer why tests run
        return {"tests", "status", "memory"}

    def _tests_listed(self, event: TestsCollected) -> set[str]:
        for path in event.clean_files:  # a file that failed to collect collects again
            self._drop_row(path)
        reasons = self.run.reasons if self.run is not None else {}
        for nodeid, markers in event.markers.items():
            row = self.row(nodeid)
            row.markers = list(markers)
            self.set_status(row, "queued")
            row.reason = (
                reasons.get(nodeid) or reasons.get(nodeid_file(nodeid)) or reasons.get("*")
                # A selection names every test it chose: one pytest collected beside them is new.
                or (NEW_TEST_REASON if reasons else "")
            )
        if self.run is not None:  # a run in two sessions collects twice: the second adds tests
            self.run.in_run |= set(event.markers)
            self.run.total = len(self.run.in_run)
        return {"tests", "status"}

    def _test_began(self, event: TestStarted) -> set[str]:
        self.set_status(self.row(event.nodeid), "running")
        self.running_now = event.nodeid
        return {"tests", "memory"}

    def _result_received(self, event: TestFinished) -> set[str]:
        result = event.result
        row = self.row(result.nodeid)
        self.set_status(row, result.outcome)
        row.result = result
        if self.run is not None:
            self.run.done += 1
            self.run.counts[result.outcome] += 1
            if result.nodeid not in self.run.in_run:  # a file that failed to collect: one more result
                self.run.in_run.add(result.nodeid)
                if self.run.total is not None:
                    self.run.total = len(self.run.in_run)
        if self._changes_at_s is not None:
            self.save_to_result_s = self.clock() - self._changes_at_s
            self._changes_at_s = None
        return {"tests", "status", "memory"}

    def _collection_failed(self, event: CollectionError) -> set[str]:
        self.notices.append(("error", f"cannot collect {event.path}: {event.message}"))
        return {"log"}

    def _child_restarted(self, event: ChildRestarted) -> set[str]:
        self.notices.append(
            ("warning",
             f"pytest died ({event.reason}); restarted it for the {counted(event.remaining, 'test')} left")
        )
        return {"log", "status"}

    def _notice(self, event: EngineNotice) -> set[str]:
        self.notices.append((event.severity, event.message))
        return {"log"}

    def _run_ended(self, event: RunFinished) -> set[str]:
        run = self.run or LiveRun(event.run_id, "?", None, self.clock())
        run.finished = event
        self.run = run
        self.running_now = None
        for nodeid in run.in_run:
            row = self.tests.get(nodeid)
            if row is not None and row.status in ("queued", "running"):
                self.set_status(row, "cancelled" if event.cancelled else "not run")
                self.changed.add(nodeid)
        self.structure_changed = True  # re-sort: failures to the top
        if not event.cancelled:  # green only when no test in the tree is failing, whatever ran
            green = self.failing == 0 and event.exit_status in (0, 1, 5)
            self.verdict_flipped = self.green is not None and green != self.green
            self.green = green
        return {"status", EVERY_PANE}  # the run is in the history now: every pane may show it

    def _changes_seen(self, event: ChangesDetected) -> set[str]:
        self.last_changes = [str(path) for path in event.paths]
        gone = [path for path in self.last_changes if path in self._file_rows and not self.file_exists(path)]
        for path in gone:  # a test file deleted or renamed: its tests are gone
            for row in list(self._file_rows[path]):
                self._drop_row(row.nodeid)
        if gone and self.green is False and not self.running and self.failing == 0:
            self.green = True  # their failures were all that kept the session red
        self._changes_at_s = self.clock()
        return {"status", "tests"} if gone else {"status"}

    def _selection_chosen(self, event: SelectionMade) -> set[str]:
        self._selection = event  # the run it starts says what it runs (the status reads the run)
        return set()

    def _watch_status(self, event: WatchStatus) -> set[str]:
        self.watch_message = event.message
        if event.severity in ("warning", "error"):
            self.notices.append((event.severity, event.message))
            return {"status", "log"}
        return {"status"}

    def _sample_taken(self, event: MemorySampled) -> set[str]:
        rss_bytes = event.rss_bytes
        if not rss_bytes:  # no reading (the process tree was already gone)
            return set()
        t_s = event.t_s
        start = self.run.started_s if self.run else 0.0
        self.samples.append((t_s if t_s is not None else self.clock() - start, int(rss_bytes)))
        if event.nodeid:
            self.running_now = event.nodeid
        return {"memory"}

    def _breach_found(self, event: ThresholdBreached) -> set[str]:
        self.notices.append(("breach", describe_breach(event)))
        return {"thresholds", "log"}  # the thresholds pane reads the breach from the history

    def _coverage_saved(self, event) -> set[str]:
        return {"coverage"}  # the pane reads the rows the recording stored after the run ended
