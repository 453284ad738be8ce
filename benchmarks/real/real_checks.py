"""The proving ground's checks: testwatch's outcomes, coverage, memory figures and latency alarms
on a real project, each against the reference tool run on the same tests.

``check_project`` runs the references once, then testwatch's latency sequence in one history:
``BASELINE_RUNS`` default runs, one more (the control: the first run compared, alike), a
``--memray`` run, a ``--deps`` run, a default run again. Every
run's outcomes are compared; coverage comes from the ``--deps`` run, the planted test's memory
from the last default run (kernel peak) and the ``--memray`` run (heap peak); any test flagged
"slower than their recent runs" in the sequence is a false alarm (nothing changed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import PurePosixPath

from real_runs import (
    TestwatchRun,
    reference_coverage,
    reference_memray_peak,
    reference_outcomes,
    testwatch_rows,
    testwatch_run,
)
from real_setup import PLANTED_BIG, PLANTED_SMALL, ProjectEnv

BASELINE_RUNS = 5  # testwatch compares latency once a test has 5 earlier passed runs
COVERAGE_TOLERANCE_POINTS = 0.5
MEMORY_TOLERANCE = 0.10
SMALL_BYTES = 1024 * 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class OutcomeCheck:
    reference: Counter
    testwatch: dict[str, Counter]  # per run label
    differing: list[tuple[str, str, str, str]]  # (run label, nodeid, pytest's, testwatch's)
    known: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # ..., and why

    @property
    def ok(self) -> bool:
        return not self.differing


@dataclass(frozen=True)
class CoverageCheck:
    reference_total: float
    testwatch_total: float
    worst_file: str
    worst_reference: float
    worst_testwatch: float
    files: int
    deviations: list[tuple[str, float, float]] = field(default_factory=list)  # beyond tolerance

    @property
    def total_deviation(self) -> float:
        return abs(self.testwatch_total - self.reference_total)

    @property
    def worst_deviation(self) -> float:
        return abs(self.worst_testwatch - self.worst_reference)

    @property
    def ok(self) -> bool:
        return max(self.total_deviation, self.worst_deviation) <= COVERAGE_TOLERANCE_POINTS


@dataclass(frozen=True)
class MemoryCheck:
    memray_peak_bytes: int
    figures: dict[str, tuple[int | None, str]]  # planted big test: column -> (bytes, label)
    small_figures: dict[str, int | None]  # the test that allocates nothing
    exact_checked: int  # results labelled exact with a live sample taken during the test
    exact_not_peak: list[tuple[str, int, int]]  # (nodeid, figure, RSS sampled during the test)

    def deviation(self, column: str) -> float | None:
        value = self.figures[column][0]
        return None if value is None else value / self.memray_peak_bytes - 1

    @property
    def problems(self) -> list[str]:
        found = []
        for column in self.figures:
            deviation = self.deviation(column)
            if deviation is None or abs(deviation) > MEMORY_TOLERANCE:
                found.append(f"{column} of the {PLANTED_BIG} off memray's peak")
        found += [f"{column} of {PLANTED_SMALL} not small" for column, value in self.small_figures.items()
                  if value is None or abs(value) >= SMALL_BYTES]
        if self.exact_not_peak:
            found.append(f"{len(self.exact_not_peak)} figures labelled exact below the RSS during the test")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ProjectReport:
    env: ProjectEnv
    runs: list[TestwatchRun]
    outcomes: OutcomeCheck
    coverage: CoverageCheck
    memory: MemoryCheck

    @property
    def false_alarms(self) -> int:
        return sum(run.alarms for run in self.runs)

    def failures(self, timing: bool = True) -> list[str]:
        """What failed, one line per kind; ``timing=False`` leaves out the latency alarms, which
        depend on how loaded the machine is (the benchmark reports them, the test suite cannot)."""
        failed = []
        if not self.outcomes.ok:
            failed.append(f"outcomes: {len(self.outcomes.differing)} differ from plain pytest")
        if not self.coverage.ok:
            worst = max(self.coverage.total_deviation, self.coverage.worst_deviation)
            failed.append(f"coverage: off by up to {worst:.2f} points ({self.coverage.worst_file})")
        failed += [f"memory: {problem}" for problem in self.memory.problems]
        if timing and self.false_alarms:
            failed.append(f"latency: {self.false_alarms} false alarms")
        return failed


def check_project(env: ProjectEnv, baseline_runs: int = BASELINE_RUNS) -> ProjectReport:
    """The references, then testwatch's sequence of runs in a fresh history, then the checks."""
    outcomes = reference_outcomes(env)
    coverage = reference_coverage(env)
    memray_peak = reference_memray_peak(env, PLANTED_BIG)
    db = env.work / "sequence.db"
    for stale in env.work.glob("sequence.db*"):
        stale.unlink()
    modes = ["default"] * (baseline_runs + 1) + ["memray", "deps", "default"]
    runs = [testwatch_run(env, db, mode) for mode in modes]
    results = {run.run_id: testwatch_rows(env, db, "results", run.run_id) for run in runs}
    last_default = runs[-1]
    memray_run = next(run for run in runs if run.mode == "memray")
    deps_run = next(run for run in runs if run.mode == "deps")
    samples = testwatch_rows(env, db, "samples")
    coverage_rows = testwatch_rows(env, db, "coverage", deps_run.run_id)
    return ProjectReport(
        env, runs,
        compare_outcomes(
            outcomes, {_label(run, runs): results[run.run_id] for run in runs}, dict(env.project.traced)
        ),
        compare_coverage(coverage, coverage_rows, env.project.packages),
        compare_memory(env, memray_peak, results[last_default.run_id], results[memray_run.run_id],
                       [row for row in samples if row["run_id"] == last_default.run_id]),
    )


def _label(run: TestwatchRun, runs: list[TestwatchRun]) -> str:
    return f"run {runs.index(run) + 1} ({run.mode})"


def compare_outcomes(
    reference: dict[str, str], runs: dict[str, list[dict]], traced: dict[str, str] | None = None
) -> OutcomeCheck:
    """Per run, the tests whose outcome differs from plain pytest's; ``traced`` (nodeid -> why):
    tests a trace function changes, known and reported apart in the runs that record (deps)."""
    differing, known = [], []
    counts = {}
    for label, rows in runs.items():
        seen = {row["nodeid"]: row["outcome"] for row in rows}
        counts[label] = Counter(seen.values())
        for nodeid in sorted(_unmatched(reference, seen) | _unmatched(seen, reference)):
            difference = (label, nodeid, reference.get(nodeid, "-"), seen.get(nodeid, "-"))
            if "(deps)" in label and nodeid in (traced or {}):
                known.append((*difference, traced[nodeid]))
            else:
                differing.append(difference)
    return OutcomeCheck(Counter(reference.values()), counts, differing, known)


def _unmatched(one: dict[str, str], other: dict[str, str]) -> set[str]:
    """Nodeids of ``one`` whose outcome ``other`` does not match.

    Parameter ids built from the clock (marshmallow parametrizes with ``datetime.now()``) differ
    between two runs of the same test: a nodeid missing from ``other`` is matched when the same
    function has as many missing ids with the same outcomes on the other side.
    """
    missing_here = Counter((_function(n), one[n]) for n in one if n not in other)
    missing_there = Counter((_function(n), other[n]) for n in other if n not in one)
    return {
        nodeid for nodeid, outcome in one.items()
        if (nodeid in other and other[nodeid] != outcome)
        or (nodeid not in other
            and missing_here[(_function(nodeid), outcome)] != missing_there[(_function(nodeid), outcome)])
    }


def _function(nodeid: str) -> str:
    return nodeid.split("[", 1)[0]


def compare_coverage(
    reference: dict[str, tuple[int, int]], rows: list[dict], packages: tuple[str, ...]
) -> CoverageCheck:
    """Per file and total line coverage of the packages' files, testwatch's against coverage.py's.
    Test files inside a package (h11's ``h11/tests``) are left out: testwatch's coverage is of the
    code under test, and coverage.py's ``--source`` counts them."""
    measured = {
        row["file"]: (row["statements"], row["covered"])
        for row in rows
        if _in_packages(row["file"], packages)
    }
    reference = {
        path: figures for path, figures in reference.items()
        if _in_packages(path, packages) and not _is_test_file(path)
    }
    per_file = [
        (path, _percent(*reference.get(path, (0, 0))), _percent(*measured.get(path, (0, 0))))
        for path in sorted(set(reference) | set(measured))
    ]
    worst = max(per_file, key=lambda item: abs(item[2] - item[1]))
    return CoverageCheck(
        _percent(*_sum(reference.values())), _percent(*_sum(measured.values())),
        worst[0], worst[1], worst[2], len(per_file),
        [item for item in per_file if abs(item[2] - item[1]) > COVERAGE_TOLERANCE_POINTS],
    )


def _in_packages(path: str, packages: tuple[str, ...]) -> bool:
    parts = PurePosixPath(path).parts
    return any(package in parts[:2] for package in packages)  # pkg/... or src/pkg/...


def _is_test_file(path: str) -> bool:
    """pytest's default test file names (``test_*.py``, ``*_test.py``) and ``conftest.py``."""
    name = PurePosixPath(path).name
    return name == "conftest.py" or fnmatch(name, "test_*.py") or fnmatch(name, "*_test.py")


def _percent(statements: int, covered: int) -> float:
    return 100.0 * covered / statements if statements else 100.0


def _sum(figures) -> tuple[int, int]:
    figures = list(figures)
    return sum(s for s, _ in figures), sum(c for _, c in figures)


def compare_memory(
    env: ProjectEnv, memray_peak: int, default_rows: list[dict], memray_rows: list[dict], samples: list[dict]
) -> MemoryCheck:
    big = env.planted_nodeid(PLANTED_BIG)
    small = env.planted_nodeid(PLANTED_SMALL)
    default_by_id = {row["nodeid"]: row for row in default_rows}
    memray_by_id = {row["nodeid"]: row for row in memray_rows}
    missing: dict = {}  # a planted test testwatch did not report: its figures are None (a failure)
    # What the test itself added: the peak's growth over the test's start (before testwatch's
    # history v7 that figure was in peak_rss_bytes, labelled as the peak).
    growth = "peak_growth_bytes" if "peak_growth_bytes" in (default_rows or [{}])[0] else "peak_rss_bytes"
    figures = {
        growth: (default_by_id.get(big, missing).get(growth),
                 default_by_id.get(big, missing).get("memory_precision")),
        "heap_peak_bytes": (memray_by_id.get(big, missing).get("heap_peak_bytes"), "memray"),
    }
    small_figures = {
        growth: default_by_id.get(small, missing).get(growth),
        "retained_bytes": default_by_id.get(small, missing).get("retained_bytes"),
        "heap_peak_bytes": memray_by_id.get(small, missing).get("heap_peak_bytes", 0) or 0,  # untracked
    }
    sampled = Counter()
    for sample in samples:
        if sample["nodeid"]:
            sampled[sample["nodeid"]] = max(sampled[sample["nodeid"]], sample["rss_bytes"])
    exact = [row for row in default_rows if row["memory_precision"] == "exact" and row["nodeid"] in sampled]
    not_peak = [
        (row["nodeid"], row["peak_rss_bytes"] or 0, sampled[row["nodeid"]])
        for row in exact if (row["peak_rss_bytes"] or 0) < sampled[row["nodeid"]] * (1 - MEMORY_TOLERANCE)
    ]
    return MemoryCheck(memray_peak, figures, small_figures, len(exact), not_peak)
