"""The leak hunt's child plugin: runs one test many times in this process and writes the RSS after
each iteration (after a full garbage collection) to a JSON file. Standard library and pytest
only; memray, when present and asked for, tracks the iterations after the warm-up to name the
locations whose allocations were never freed.

Loaded by ``testwatch leaks`` only, with ``TESTWATCH_LEAK_REPEAT`` and ``TESTWATCH_LEAK_OUTPUT``.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import tempfile

import pytest
from _pytest.runner import runtestprotocol

ENV_REPEAT = "TESTWATCH_LEAK_REPEAT"
ENV_OUTPUT = "TESTWATCH_LEAK_OUTPUT"
ENV_MEMRAY = "TESTWATCH_LEAK_MEMRAY"
TOP_LOCATIONS = 5


def warmup_iterations(repeat: int) -> int:
    """Iterations left out of the slope and of memray's tracking: caches fill up in these."""
    return max(1, repeat // 5)


def current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _start_memray(folder: str):
    try:
        from memray import FileFormat, Tracker
    except ImportError:
        return None, None
    path = os.path.join(folder, "leaks.bin")
    tracker = Tracker(
        path, trace_python_allocators=True, file_format=FileFormat.AGGREGATED_ALLOCATIONS
    )
    tracker.__enter__()
    return tracker, path


def _leaked_locations(path: str) -> list[dict]:
    from memray import FileReader

    from testwatch.collectors.memray_plugin import biggest_locations

    records = FileReader(path).get_leaked_allocation_records(merge_threads=True)
    return biggest_locations(records, TOP_LOCATIONS)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    repeat = int(os.environ.get(ENV_REPEAT, "0"))
    if repeat <= 0:
        return None
    warmup = warmup_iterations(repeat)
    rss_bytes: list[int] = []
    outcome = "passed"
    tracker = path = None
    with tempfile.TemporaryDirectory(prefix="testwatch-leaks-") as folder:
        for iteration in range(repeat):
            if iteration == warmup and os.environ.get(ENV_MEMRAY) == "1":
                tracker, path = _start_memray(folder)
            last = iteration == repeat - 1
            reports = runtestprotocol(item, nextitem=nextitem if last else item, log=last)
            gc.collect()
            rss_bytes.append(current_rss_bytes())
            if any(report.failed for report in reports):
                outcome = "failed"
                break
        locations = None
        if tracker is not None:
            tracker.__exit__(None, None, None)
            locations = _leaked_locations(path)
    record = {
        "nodeid": item.nodeid, "rss_bytes": rss_bytes, "outcome": outcome, "warmup": warmup,
        "leaked_locations": locations,
        "tracked_iterations": len(rss_bytes) - warmup if tracker is not None else 0,
    }
    with open(os.environ[ENV_OUTPUT], "w", encoding="utf-8") as f:
        json.dump(record, f)
    return True
