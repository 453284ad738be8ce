"""How long each test's call phase waited for a CPU, measured inside the pytest child (standard
library only): ``call_wait_s``, the growth of the thread's run-queue delay over the call (Linux,
the second field of ``/proc/thread-self/schedstat``; read with one ``pread`` before and after).

On a busy machine a test that runs in microseconds can be preempted and come back tens of ms
later; testwatch's latency figures leave that wait out, so a regression flag means the test
itself took longer (on a CPU, or asleep, or blocked on I/O), not that another process ran.
Without schedstat (not Linux, a kernel without ``CONFIG_SCHED_INFO``) nothing is recorded.
"""

from __future__ import annotations

import os

import pytest

_KEY = "testwatch.call_wait_s"
_fd: int | None = None


def _run_delay_ns() -> int | None:
    """The thread's total run-queue delay so far; None when the file cannot be read any more (a
    test that closes every descriptor it did not open)."""
    try:
        return int(os.pread(_fd, 128, 0).split()[1])
    except (OSError, ValueError, IndexError):
        return None


def pytest_configure(config: pytest.Config) -> None:
    global _fd
    try:
        _fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        return
    if _run_delay_ns() is None:
        os.close(_fd)
        _fd = None


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    # Outermost, so the wait covers what pytest times: the capture and logging wrappers inside it
    # take most of a tiny test's call phase, and a preemption there was missed. The descriptor
    # names the thread that opened it: the main one, which runs the tests.
    before = _run_delay_ns() if _fd is not None else None
    yield
    after = _run_delay_ns() if before is not None else None
    if after is not None:
        item.user_properties.append((_KEY, (after - before) / 1e9))
