"""A test's result, built from the setup/call/teardown reports the pytest plugin streams."""

from __future__ import annotations

from dataclasses import dataclass, field

# Every outcome a test can have in testwatch; the first six are pytest's own.
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "crashed", "timeout")
BAD_OUTCOMES = frozenset({"failed", "error", "crashed", "timeout"})
PHASES = ("setup", "call", "teardown")


@dataclass
class PhaseReport:
    """One phase of a test as pytest reported it."""

    outcome: str
    duration_s: float
    longrepr: str = ""


@dataclass
class TestResult:
    """Everything testwatch keeps about one test in one run."""

    nodeid: str
    outcome: str = "passed"
    phases: dict[str, PhaseReport] = field(default_factory=dict)
    longrepr: str = ""
    stdout: str = ""
    stderr: str = ""
    log: str = ""
    # pytest's captured sections as it titles them ("Captured stdout call"), in its order: kept for
    # bad results, whose report prints them; stdout, stderr and log hold every result's, joined.
    sections: list[tuple[str, str]] = field(default_factory=list)
    lineno: int | None = None
    extra: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    worker: str | None = None

    __test__ = False  # not a pytest test class, despite the name

    @property
    def file(self) -> str:
        return nodeid_file(self.nodeid)

    @property
    def duration_s(self) -> float:
        return sum(phase.duration_s for phase in self.phases.values())

    def phase_duration_s(self, when: str) -> float | None:
        phase = self.phases.get(when)
        return phase.duration_s if phase else None

    @property
    def is_bad(self) -> bool:
        return self.outcome in BAD_OUTCOMES


def nodeid_file(nodeid: str) -> str:
    """The file part of a pytest node id (``tests/test_a.py::test_x[1]`` -> ``tests/test_a.py``)."""
    return nodeid.split("::", 1)[0]


def outcome_of(phases: dict[str, PhaseReport], wasxfail: bool) -> str:
    """pytest's own verdict for a test from its phases, as its terminal summary counts it."""
    setup, call, teardown = (phases.get(p) for p in PHASES)
    if setup and setup.outcome == "failed":
        return "error"
    if setup and setup.outcome == "skipped":
        return "skipped"
    if call and call.outcome == "skipped":
        return "xfailed" if wasxfail else "skipped"
    if call and call.outcome == "failed":
        return "failed"
    if teardown and teardown.outcome == "failed":
        return "error"
    if wasxfail:
        return "xpassed"
    return "passed"


class ResultBuilder:
    """Collects a test's phase reports until its teardown completes it."""

    def __init__(self, nodeid: str, lineno: int | None = None) -> None:
        self.result = TestResult(nodeid=nodeid, lineno=lineno)
        self._wasxfail = False
        self._failed_subtests = 0
        self._untold_subtests = 0  # failed subtests sent without their traceback

    def add(self, event: dict) -> TestResult | None:
        """Add one phase of a ``test`` event (the phase's keys over the event's); return the
        finished result after teardown. A failed subtest's report (``subtest``: how pytest names
        it) fails its test, as it fails pytest's run, even where the test's own call passed (a
        ``unittest`` ``subTest``); its time is already in the call's."""
        when = event["when"]
        longrepr = event.get("longrepr") or ""
        subtest = event.get("subtest")
        if subtest is not None:  # only the first few carry their traceback
            self._failed_subtests += 1
            self._untold_subtests += not longrepr
            longrepr = longrepr and f"[subtest {subtest}]\n{longrepr}"
        else:
            self.result.phases[when] = PhaseReport(event["outcome"], event["duration"], longrepr)
        if event.get("worker"):
            self.result.worker = event["worker"]
        if "wasxfail" in event:
            self._wasxfail = True
            self.result.longrepr = self.result.longrepr or event["wasxfail"]
        if longrepr and event["outcome"] != "passed":
            self.result.longrepr = longrepr if not self.result.longrepr else (
                f"{self.result.longrepr}\n\n[{when}]\n{longrepr}"
            )
        if when != "teardown":
            return None
        sections = event.get("sections", [])
        for title, text in sections:
            self._add_section(title, text)
        self.result.extra.update(event.get("extra", {}))
        self.result.metadata.update(event.get("metadata", {}))
        for key, value in event.get("user_properties", []):
            self.result.metadata.setdefault(str(key), value)
        self.result.outcome = outcome_of(self.result.phases, self._wasxfail)
        if self._failed_subtests and self.result.outcome in ("passed", "xpassed"):
            self.result.outcome = "failed"
        if self._untold_subtests:
            self.result.longrepr += f"\n\n[{self._untold_subtests} more subtests failed]"
        if self.result.is_bad:
            self.result.sections = [(title, text) for title, text in sections]
        return self.result

    def _add_section(self, title: str, text: str) -> None:
        # Titles look like "Captured stdout call" / "Captured log setup".
        parts = title.split()
        stream = parts[1] if len(parts) >= 3 and parts[0] == "Captured" else None
        if stream in ("stdout", "stderr", "log"):
            previous = getattr(self.result, stream)
            setattr(self.result, stream, f"{previous}{text}")

    def end_abnormally(self, outcome: str, message: str, elapsed_s: float) -> TestResult:
        """Finish a test whose process died (``crashed``) or was killed (``timeout``).

        The phase it died in never reported, so it is given the time since the test started,
        less the phases that did report: a hung test shows as slow, not as 0 ms. The plugin
        sends a test's phases after its teardown, so an unfinished test is counted in its call.
        """
        reported_s = self.result.duration_s
        when = "call" if "call" not in self.result.phases else "teardown"
        self.result.phases[when] = PhaseReport(outcome, max(0.0, elapsed_s - reported_s), message)
        self.result.outcome = outcome
        self.result.longrepr = f"{self.result.longrepr}\n{message}".strip()
        return self.result
