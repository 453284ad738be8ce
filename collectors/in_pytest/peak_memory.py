"""Per-test peak and retained memory, measured inside the pytest child (standard library only).

On Linux the kernel's high-water mark is reset before each test (``/proc/self/clear_refs``, "5")
and read after its teardown (through ``getrusage``, or ``VmHWM`` when exited threads left a
higher mark there): exact and a few µs per test. Where that is not
possible a light sampler thread watches RSS while the test runs (precision ``sampled``), or,
without ``/proc``, the process's lifetime peak is used (precision ``process-peak``).

Three figures per test: ``peak_rss_bytes``, the process's highest RSS during the test (setup to
teardown); ``peak_growth_bytes``, how far that peak rose above the RSS at the test's start (what
the test itself needed; 0 for a test that allocated within memory the process already held);
``retained_bytes``, RSS after its teardown minus RSS at its start. ``memory_precision`` says how
far the peak can be trusted: ``exact`` (the kernel's mark: the true peak), ``sampled`` (the
highest sample: at most the true peak), ``process-peak`` (the process's lifetime peak: at least
the true peak, and not the test's own). They travel to the engine in ``item.user_properties``
(``testwatch.<name>``), which survive pytest-xdist's report serialisation.

PYTEST_DONT_REWRITE: a child that waits for its run imports it before pytest loads it (see
``pytest_plugin``).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time

import pytest

_KEY_PEAK = "testwatch.peak_rss_bytes"
_KEY_GROWTH = "testwatch.peak_growth_bytes"
_KEY_RETAINED = "testwatch.retained_bytes"
_KEY_PRECISION = "testwatch.memory_precision"
_SAMPLE_INTERVAL_S = 0.002


class _KernelPeak:
    """Linux: reset VmHWM before the test, read it after. Exact."""

    precision = "exact"

    def __init__(self) -> None:
        self._clear_fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
        self._status_fd = os.open("/proc/self/status", os.O_RDONLY)
        self._rss = _StatmRss()
        self._peak_in_rusage = False
        self._read_status()  # fails here, not in a test, when /proc/self/status is unreadable

    def _read_status(self) -> tuple[int, int]:
        status = os.pread(self._status_fd, 16384, 0)
        return _status_kb(status, b"VmHWM:") * 1024, _status_kb(status, b"VmRSS:") * 1024

    def start(self) -> int:
        os.write(self._clear_fd, b"5")
        rss = self._rss()  # statm is a quarter of the cost of status, and the same RSS
        # getrusage's ru_maxrss is the larger of the mark just reset and the marks left by
        # threads that exited earlier. When those are not above the RSS now, ru_maxrss after the
        # test is the test's own peak (marks left meanwhile are at most that peak), and reading
        # it costs a tenth of formatting /proc/self/status.
        self._peak_in_rusage = _maxrss_bytes() <= rss
        return rss

    def stop(self) -> tuple[int, int]:
        """(peak RSS, current RSS) since ``start``."""
        if self._peak_in_rusage:
            return _maxrss_bytes(), self._rss()
        return self._read_status()


class _SampledPeak:
    """Linux without clear_refs: a thread polls ``/proc/self/statm`` while the test runs."""

    precision = "sampled"

    def __init__(self) -> None:
        self._rss = _StatmRss()
        self._running = threading.Event()
        self._peak_bytes = 0
        threading.Thread(target=self._poll, name="testwatch-peak-memory", daemon=True).start()

    def _poll(self) -> None:
        while True:
            self._running.wait()
            self._peak_bytes = max(self._peak_bytes, self._rss())
            time.sleep(_SAMPLE_INTERVAL_S)

    def start(self) -> int:
        rss = self._rss()
        self._peak_bytes = rss
        self._running.set()
        return rss

    def stop(self) -> tuple[int, int]:
        self._running.clear()
        rss = self._rss()
        return max(self._peak_bytes, rss), rss


class _ProcessPeak:
    """No /proc: the process's lifetime peak (ru_maxrss), so only a test that sets a new peak shows."""

    precision = "process-peak"
    _unit_bytes = 1 if sys.platform == "darwin" else 1024

    def _maxrss(self) -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * self._unit_bytes

    def start(self) -> int:
        return self._maxrss()

    def stop(self) -> tuple[int, int]:
        peak = self._maxrss()
        return peak, peak


class _StatmRss:
    """The resident set size from ``/proc/self/statm``, kept open."""

    def __init__(self) -> None:
        self._fd = os.open("/proc/self/statm", os.O_RDONLY)
        self._page_bytes = os.sysconf("SC_PAGE_SIZE")

    def __call__(self) -> int:
        return int(os.pread(self._fd, 256, 0).split()[1]) * self._page_bytes


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def _status_kb(status: bytes, field: bytes) -> int:
    start = status.index(field) + len(field)
    return int(status[start : status.index(b"kB", start)])


def _make_meter():
    for meter in (_KernelPeak, _SampledPeak):
        try:
            return meter()
        except (OSError, ValueError):
            continue
    return _ProcessPeak()


_meter = None
_rss_before: dict[str, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    global _meter
    _meter = _make_meter()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _rss_before[item.nodeid] = _meter.start()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    # After the fixtures' teardown and before its report is built, which copies user_properties.
    before = _rss_before.pop(item.nodeid, None)
    if before is not None:
        peak, after = _meter.stop()
        item.user_properties += [
            (_KEY_PEAK, peak),
            (_KEY_GROWTH, max(0, peak - before)),
            (_KEY_RETAINED, after - before),
            (_KEY_PRECISION, _meter.precision),
        ]
