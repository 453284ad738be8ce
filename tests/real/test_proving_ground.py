"""The fast slice of the real-project proving ground (benchmarks/real/): one small real project,
fetched from the package index at a pinned version and installed in a venv of its own with
testwatch from this checkout, checked once of each kind against the reference tools.

Skipped only when the package index cannot be reached; any other failure to fetch or install fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "real"))
from real_checks import check_project
from real_manifest import FAST_SLICE, PROJECTS
from real_setup import IndexUnreachable, prepare


def test_a_real_project_agrees_with_pytest_coverage_and_memray(tmp_path):
    try:
        env = prepare(PROJECTS[FAST_SLICE], tmp_path)
    except IndexUnreachable as unreachable:
        pytest.skip(str(unreachable))
    report = check_project(env)

    # One assertion for the four kinds, so a failure names every check that failed:
    # outcomes: every run of the sequence (default, --memray, --deps) as plain pytest's;
    # coverage: total and every file within 0.5 point of coverage.py's;
    # memory: the planted 64 MiB test within 10% of memray's peak, small figures for the test that
    #   allocates nothing, no figure labelled exact that is below the RSS sampled during its test;
    # Latency alarms are left to the benchmark (benchmarks/real/compare.py): whether a test looks
    # slower depends on the machine's load, and the suite holds no timed assertion.
    assert sum(report.outcomes.reference.values()) > 250
    failures = report.failures(timing=False)
    assert not failures, "\n".join([*failures, f"coverage files off: {report.coverage.deviations}"])
