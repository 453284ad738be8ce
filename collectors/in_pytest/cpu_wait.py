"""How long each test's call phase spent not on its own work, measured inside the pytest child
(standard library only): ``call_wait_s``, the sum of

- its wait for a CPU: the growth of the thread's run-queue delay over the call (Linux, the second
  field of ``/proc/thread-self/schedstat``; read with one ``pread`` before and after). On a busy
  machine a test that runs in microseconds can be preempted and come back tens of ms later;
- the full garbage collections during it (generation 2, timed through ``gc.callbacks``). The
  collector runs one when the whole session's objects have grown enough, on whichever test
  happens to allocate then: on starlette 1.10.0 each takes 70-90 ms and lands on a 3 ms test, a
  different one from run to run as the session's allocations shift.

testwatch's latency figures leave that time out, so a regression flag means the test itself took
longer (on a CPU, or asleep, or blocked on I/O), not that another process ran or the session's
heap was swept. Without schedstat (not Linux, a kernel without ``CONFIG_SCHED_INFO``) only the
collections are counted.

PYTEST_DONT_REWRITE: a child that waits for its run imports it before pytest loads it (see
``pytest_plugin``).
"""

from __future__ import annotations

import gc
import os

import pytest

from testwatch.collectors.in_pytest.phase_clock import REAL_CLOCK, phase_took

_KEY = "testwatch.call_wait_s"
_fd: int | None = None
_full_collections_s = 0.0  # the session's full garbage collections so far
_full_collection_started = 0.0


def _run_delay_ns() -> int | None:
    """The thread's total run-queue delay so far; None when the file cannot be read any more (a
    test that closes every descriptor it did not open)."""
    try:
        return int(os.pread(_fd, 128, 0).split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _time_full_collections(phase: str, info: dict) -> None:
    global _full_collections_s, _full_collection_started
    if info["generation"] != 2:
        return
    # Less the collection's own wait for a CPU, which the call's run-queue delay counts already.
    delay_ns = (_run_delay_ns() or 0) if _fd is not None else 0
    if phase == "start":
        _full_collection_started = REAL_CLOCK[0]() - delay_ns / 1e9
    else:
        _full_collections_s += max(REAL_CLOCK[0]() - delay_ns / 1e9 - _full_collection_started, 0.0)


def pytest_configure(config: pytest.Config) -> None:
    global _fd
    gc.callbacks.append(_time_full_collections)
    try:
        _fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        return
    if _run_delay_ns() is None:
        os.close(_fd)
        _fd = None


def pytest_unconfigure(config: pytest.Config) -> None:
    if _time_full_collections in gc.callbacks:
        gc.callbacks.remove(_time_full_collections)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    # Outermost, so the wait and the call's duration (handed to phase_clock) cover the capture
    # and logging wrappers inside, which take most of a tiny test's call phase: a preemption there
    # was missed. The descriptor names the thread that opened it: the main one, which runs the tests.
    started = REAL_CLOCK[0]()
    before = _run_delay_ns() if _fd is not None else None
    collections_before = _full_collections_s
    try:
        return (yield)
    finally:
        after = _run_delay_ns() if before is not None else None
        waited_s = (after - before) / 1e9 if after is not None else 0.0
        elapsed_s = REAL_CLOCK[0]() - started
        phase_took("call", elapsed_s)
        waited_s = min(waited_s + _full_collections_s - collections_before, elapsed_s)  # never more
        item.user_properties.append((_KEY, waited_s))
