"""The leak hunt's child plugin: runs one test many times in this process and writes the RSS after
each iteration (after a full garbage collection) to a JSON file. Standard library and pytest's
public hooks only: the collected test is repeated in ``session.items`` as fresh copies (pytest's
own run loop runs each, keeping module and session fixtures up between them) and each run of its
protocol is measured by a hook wrapper. memray, when present and asked for, tracks the iterations from
the last warm-up one on (its own start-up settles there) to name the locations whose
allocations were never freed.

Loaded by ``testwatch leaks`` only, with ``TESTWATCH_LEAK_REPEAT`` and ``TESTWATCH_LEAK_OUTPUT``.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import tempfile

import pytest

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


class MemrayTracking:
    """memray's tracker over the iterations after the warm-up, writing into its own folder."""

    def __init__(self, tracker, folder: tempfile.TemporaryDirectory, path: str) -> None:
        self.tracker, self.folder, self.path = tracker, folder, path

    @classmethod
    def start(cls) -> MemrayTracking | None:
        try:
            from memray import FileFormat, Tracker
        except ImportError:
            return None
        folder = tempfile.TemporaryDirectory(prefix="testwatch-leaks-")
        path = os.path.join(folder.name, "leaks.bin")
        tracker = Tracker(
            path, trace_python_allocators=True, file_format=FileFormat.AGGREGATED_ALLOCATIONS
        )
        tracker.__enter__()
        return cls(tracker, folder, path)

    def stop(self) -> list[dict]:
        """Stop tracking; the biggest locations never freed while it ran."""
        self.tracker.__exit__(None, None, None)  # first: the imports below are not the test's

        from memray import FileReader

        from testwatch.collectors.in_pytest.memray_plugin import biggest_locations

        try:
            records = FileReader(self.path).get_leaked_allocation_records(merge_threads=True)
            return biggest_locations(records, TOP_LOCATIONS)
        finally:
            self.folder.cleanup()


def fresh_copy(item: pytest.Item) -> pytest.Item:
    """The same test as a new item, with its own fixture values and place in pytest's setup state
    (one object run twice in a row finds its function-scoped fixtures torn down and not set up
    again); the item itself for kinds of test that pytest builds with more than a name (doctests,
    plugins' items).

    pytest builds ``Function`` items with their fixture closure (``_fixtureinfo``), which for
    directly parametrized arguments holds the only definition of those arguments. It has no public
    name; where it is missing, the closure is computed again, which serves every other test.
    """
    if type(item) is not pytest.Function:
        return item
    return pytest.Function.from_parent(
        item.parent, name=item.name, callspec=getattr(item, "callspec", None),
        fixtureinfo=getattr(item, "_fixtureinfo", None), originalname=item.originalname,
    )


def forget_in_terminal_stats(config: pytest.Config, report: pytest.TestReport) -> None:
    """Drop ``report`` from the terminal reporter's tally, which keeps every report to the end of
    the session: kept, the reports of all iterations would be measured as the test's growth."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for reports in getattr(reporter, "stats", {}).values():
        if reports and reports[-1] is report:
            reports.pop()
            return


class LeakHunt:
    """Repeats the first selected test ``repeat`` times and records each iteration's RSS."""

    def __init__(self, repeat: int, output_path: str, use_memray: bool) -> None:
        self.repeat, self.output_path, self.use_memray = repeat, output_path, use_memray
        self.warmup = warmup_iterations(repeat)
        self.nodeid: str | None = None
        self.rss_bytes: list[int] = []
        self.outcome = "passed"
        self.tracking: MemrayTracking | None = None
        self.tracked_iterations = 0
        self.leaked_locations: list[dict] | None = None
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(trylast=True)  # after -k, -m and other plugins have chosen
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not items:
            return
        hunted, rest = items[0], items[1:]
        if rest:
            config.hook.pytest_deselected(items=rest)
        self.nodeid = hunted.nodeid
        items[:] = [hunted, *(fresh_copy(hunted) for _ in range(self.repeat - 1))]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem):
        iteration = len(self.rss_bytes)
        if iteration == self.warmup - 1 and self.use_memray:  # memray settles in a warm-up iteration
            self.tracking = MemrayTracking.start()
        yield
        if iteration:  # the copy that ran gives its place back to the first item, freeing what it kept
            self.session.items[iteration] = self.session.items[0]
        gc.collect()
        self.rss_bytes.append(current_rss_bytes())
        if self.tracking is not None:
            self.tracked_iterations += 1

    @pytest.hookimpl(trylast=True)  # after the terminal reporter has kept the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcome = "failed"
            # pytest's run loop stops after the protocol of the current iteration ends
            self.session.shouldstop = f"testwatch leaks: {report.nodeid} failed"
        elif len(self.rss_bytes) < self.repeat - 1:
            forget_in_terminal_stats(self.session.config, report)

    def pytest_sessionfinish(self) -> None:
        if self.tracking is not None:
            self.leaked_locations = self.tracking.stop()
        if self.nodeid is None or not self.rss_bytes:
            return  # nothing ran: the caller reports pytest's own output
        record = {
            "nodeid": self.nodeid, "rss_bytes": self.rss_bytes, "outcome": self.outcome,
            "warmup": self.warmup, "leaked_locations": self.leaked_locations,
            "tracked_iterations": self.tracked_iterations,
        }
        with open(self.output_path, "w", encoding="utf-8") as f:
            json.dump(record, f)


def pytest_configure(config: pytest.Config) -> None:
    repeat = int(os.environ.get(ENV_REPEAT, "0"))
    if repeat > 0:
        hunt = LeakHunt(repeat, os.environ[ENV_OUTPUT], os.environ.get(ENV_MEMRAY) == "1")
        config.pluginmanager.register(hunt, "testwatch-leak-hunt")
