"""Each test phase's duration on a clock the tests cannot freeze (standard library only).

pytest times phases with ``time.perf_counter`` through ``_pytest.timing``, and a test that freezes
time with freezegun replaces that name, as every module attribute holding a real time function,
while it runs: itsdangerous 2.2.0's timed-serializer tests report setups of 1.3e9 s and negative
teardowns in pytest's own ``--durations``, and testwatch stored them as latency. Here the real
clock is kept inside a tuple, where such tools do not look, and each phase is timed around its
hook (the call by ``cpu_wait``, which wraps it anyway). The duration rides on the report
(``testwatch_s``), which pytest-xdist carries from its workers with the rest of the report's
attributes. The event plugin and ``cpu_wait`` import this module before pytest registers it, so
it carries pytest's PYTEST_DONT_REWRITE mark (else pytest warns that it cannot rewrite it, an
error under ``filterwarnings = error``).
"""

from __future__ import annotations

import time

import pytest

# A module attribute that *is* the real function is swapped by freezegun; a tuple holding it is not.
REAL_CLOCK = (time.perf_counter,)
REPORT_ATTRIBUTE = "testwatch_s"
_elapsed: dict[str, float] = {}  # phase ("setup", "call", "teardown") -> its duration, until reported


def phase_took(when: str, seconds: float) -> None:
    """Give a phase's duration timed elsewhere: ``cpu_wait``'s wrapper around the call phase times
    it already (one wrapper per call, not two)."""
    _elapsed[when] = seconds


def _timed(when: str):
    """The body of a phase's wrapper: the phase's result passes through, its duration is kept."""
    started = REAL_CLOCK[0]()
    try:
        return (yield)
    finally:
        _elapsed[when] = REAL_CLOCK[0]() - started


# New-style wrappers (``wrapper=True``): pluggy runs them for less than old-style hookwrappers.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _timed("setup"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item):
    return (yield from _timed("teardown"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # First, so that pytest-xdist's worker sends the report with it.
    elapsed = _elapsed.pop(report.when, None)
    if elapsed is not None:
        setattr(report, REPORT_ATTRIBUTE, elapsed)
