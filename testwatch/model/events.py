"""What the run engine tells its listener (the headless reporter, the TUI) as a run goes.

Plain dataclasses, no Textual: the TUI wraps them in messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from testwatch.model.results import TestResult


@dataclass
class RunStarted:
    run_id: int | None
    trigger: str
    selected_count: int | None  # None when every test runs
    reasons: dict[str, str] = field(default_factory=dict)
    measuring: str = "plain"  # latency.measuring_mode: latency compares runs of the same mode only


@dataclass
class SessionStarted:
    """A pytest session of the run began; ``show_capture`` is its ``--show-capture`` (``all``,
    ``stdout``, ``stderr``, ``log`` or ``no``): the captured sections a failure's report prints."""

    show_capture: str = "all"


@dataclass
class TestsCollected:
    # nodeid -> marker names, in run order; a run in two pytest sessions (``run_phases``) sends
    # one per session, the second with the tests it adds
    markers: dict[str, list[str]]
    # Test files that collected without an error: a collection error of theirs from before is over.
    clean_files: list[str] = field(default_factory=list)

    __test__ = False


@dataclass
class TestStarted:
    nodeid: str
    lineno: int | None = None

    __test__ = False


@dataclass
class TestFinished:
    result: TestResult

    __test__ = False


@dataclass
class TestMeasured:
    """Figures of a finished test that arrived after its result (memray's shared capture):
    ``figures`` names them; ``result.extra`` now holds them."""

    result: TestResult
    figures: list[str]

    __test__ = False


@dataclass
class CollectionError:
    path: str
    message: str


@dataclass
class ChildRestarted:
    """The pytest child died (crash or timeout) and was started again for the tests left."""

    reason: str
    remaining: int


@dataclass
class EngineNotice:
    """Something the user should read that is not a test result (bad config, child stderr...)."""

    message: str
    severity: str = "warning"


@dataclass
class ChildStarted:
    """A pytest child process started (again, after a crash); the memory sampler follows it."""

    pid: int


@dataclass
class MemorySampled:
    """The pytest child's process tree (xdist workers included), sampled a few times a second."""

    run_id: int | None
    t_s: float  # seconds since the run started
    rss_bytes: int
    cpu_percent: float
    threads: int
    processes: int
    nodeid: str | None  # the test running at that moment, if one was


@dataclass
class ThresholdBreached:
    """A configured limit was exceeded, by a test (``nodeid``) or by the run (``path``, coverage)."""

    run_id: int | None
    kind: str  # a key of [tool.testwatch.thresholds]: peak_memory, call_duration, coverage...
    value: float
    limit: float
    nodeid: str | None = None
    path: str | None = None


@dataclass
class RunEnding:
    """The run's tests are over (done, stopped or cancelled) and its results are in the history;
    listeners that judge the run as a whole (thresholds over the run, latency) answer now, so
    that what they find is told before ``RunFinished``."""

    run_id: int | None


@dataclass
class CoverageStored:
    """A recorded run's coverage rows are in the history: dependency recording stores them after
    the run has finished, so the coverage thresholds are judged now rather than at ``RunEnding``.
    ``whole_suite``: the run ran every test, not a selection (whose coverage says nothing of the
    project's)."""

    run_id: int
    whole_suite: bool


@dataclass
class RunFinished:
    run_id: int | None
    counts: dict[str, int]
    exit_status: int
    duration_s: float
    cancelled: bool = False
    message: str = ""


@dataclass
class ChangesDetected:
    """The watcher saw project files change (one coalesced burst, project-relative paths)."""

    paths: list[str]


@dataclass
class SelectionMade:
    """The tests a change selected, in run order, with a reason each (empty + everything: all)."""

    selected: list[str]
    reasons: dict[str, str]
    total_known: int
    elapsed_s: float
    everything: bool = False


@dataclass
class WatchStatus:
    """The watch loop's state for the user: polling fallback, paused, waiting for changes..."""

    message: str
    severity: str = "info"


EngineEvent = (
    RunStarted
    | SessionStarted
    | TestsCollected
    | TestStarted
    | TestFinished
    | TestMeasured
    | CollectionError
    | ChildRestarted
    | EngineNotice
    | ChildStarted
    | MemorySampled
    | ThresholdBreached
    | RunEnding
    | CoverageStored
    | RunFinished
)
