"""Per-test heap figures from memray, inside the pytest child: opt-in, or per test by marker.

memray tracks the call phase of each test that needs it: every test when the engine sets
``TESTWATCH_MEMRAY=1`` (config ``memray`` / ``--memray``) except those listed in the file named
by ``TESTWATCH_MEMRAY_SKIP`` (known small, see ``testwatch.measure.memray_mode``), otherwise only tests
carrying pytest-memray's ``limit_memory(limit)`` or ``limit_leaks(location_limit,
filter_fn=None)`` markers, which fail the test with the same meaning as in pytest-memray (sizes
are powers of 1024, as there).

A marked test gets a tracker of its own, so its verdict fails it in its own report; its figures
travel in ``item.user_properties`` (``testwatch.heap_peak_bytes``, ``testwatch.leaked_bytes``,
``testwatch.top_allocations``). In memray mode the other tests share one tracker
(``memray_windows.SharedCapture``) and their figures follow their reports about a second later
as ``figures`` events, which the engine merges into the stored results; where there is no event
stream to send them on (a pytest-xdist worker) each test gets its own tracker as a marked one.

memray itself is imported only when a test is tracked. Two trackers cannot run at once in one
process, so where pytest-memray is active (``--memray`` or ``memray = true``) this plugin stays
off; where it is only installed, it still tracks the tests carrying its markers, so this plugin
leaves those tests to it and tracks the others. What it has to say goes to testwatch as a
notice, never as a Python warning (a project's ``filterwarnings = error`` would stop pytest).

PYTEST_DONT_REWRITE: a child that waits for its run imports it before pytest loads it (see
``pytest_plugin``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable

import pytest

from testwatch.collectors.in_pytest import pytest_plugin
from testwatch.collectors.in_pytest.memray_windows import (
    TOP_ALLOCATIONS,
    SharedCapture,
    WindowFigures,
    biggest_locations,
)
from testwatch.collectors.in_pytest.node_ids import ProjectIds
from testwatch.collectors.in_pytest.protocol import ENV_MEMRAY, ENV_MEMRAY_SKIP, ENV_SOCKET

MARKERS = ("limit_memory", "limit_leaks")
_UNIT_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SIZE = re.compile(r"^\s*\+?(\d*\.\d+|\d+)\s*([KMGT]?B)\s*$", re.IGNORECASE)


def parse_marker_size(text: object, nodeid: str, marker: str) -> float:
    """pytest-memray's size strings ("24 MB", "1.5 KB"); a bad one names the test and marker."""
    match = _SIZE.match(str(text))
    if not match:
        raise pytest.UsageError(f"{nodeid}: @pytest.mark.{marker}({text!r}): expected a size like '24 MB'")
    return float(match.group(1)) * _UNIT_BYTES[match.group(2).upper()]


class _MemrayTracking:
    """Tracks the tests that need it; capture files live in a private temp folder."""

    def __init__(
        self, every_test: bool, known_small: frozenset[str] = frozenset(), markers_owned: bool = False,
        project_id: Callable[[str], str] = str,
    ) -> None:
        self.every_test = every_test
        self.known_small = known_small  # as testwatch names tests: ``project_id(item.nodeid)``
        self.project_id = project_id
        self.markers_owned = markers_owned  # pytest-memray is loaded: marked tests are its own
        # In the run's work folder, which testwatch removes even when it killed this process.
        socket_path = os.environ.get(ENV_SOCKET)
        self._folder = tempfile.TemporaryDirectory(
            prefix="testwatch-memray-", dir=os.path.dirname(socket_path) if socket_path else None
        )
        self._failures: dict[str, str] = {}
        self._shared: SharedCapture | None = None

    def close(self) -> None:
        self._folder.cleanup()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config: pytest.Config, items) -> None:
        # Without memray mode and without marked tests there is nothing to do per test.
        marked = not self.markers_owned and any(
            item.get_closest_marker(name) for item in items for name in MARKERS
        )
        if not self.every_test and not marked:
            config.pluginmanager.unregister(self)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        markers = {m.name: m for m in item.iter_markers() if m.name in MARKERS}
        if markers and self.markers_owned:  # pytest-memray tracks it: no tracker of ours meanwhile
            if self._shared is not None:
                self._shared.flush()
            yield
            return
        if not markers and (not self.every_test or self.project_id(item.nodeid) in self.known_small):
            yield
            return
        if not markers and self._shared_capture() is not None:
            with self._shared.window(item.nodeid):
                yield
            return
        if self._shared is not None:
            self._shared.flush()  # one tracker at a time: this test gets its own
        from memray import FileFormat, Tracker  # only now: most runs never need it

        path = os.path.join(self._folder.name, "test.bin")
        if os.path.exists(path):
            os.unlink(path)
        leaks = "limit_leaks" in markers
        tracker = Tracker(
            path, native_traces=leaks, trace_python_allocators=leaks,
            file_format=FileFormat.AGGREGATED_ALLOCATIONS,
        )
        with tracker:
            yield
        self._read(item, path, markers)

    def _shared_capture(self) -> SharedCapture | None:
        if self._shared is None and pytest_plugin.streaming():
            self._shared = SharedCapture(self._folder.name, _send_figures)
        return self._shared

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:
        if self._shared is not None:
            self._shared.flush_if_due()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus) -> None:
        if self._shared is not None:  # before the stream's session_finish event
            self._shared.flush()

    def _read(self, item: pytest.Item, path: str, markers: dict) -> None:
        from memray import FileReader

        reader = FileReader(path)
        at_peak = list(reader.get_high_watermark_allocation_records(merge_threads=True))
        leaked = list(reader.get_leaked_allocation_records(merge_threads=True))
        heap_peak_bytes = sum(record.size for record in at_peak)
        item.user_properties += [
            ("testwatch.heap_peak_bytes", heap_peak_bytes),
            ("testwatch.leaked_bytes", sum(record.size for record in leaked)),
            ("testwatch.top_allocations", biggest_locations(at_peak)),
        ]
        failure = _check_markers(item, markers, heap_peak_bytes, leaked)
        if failure:
            self._failures[item.nodeid] = failure

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        outcome = yield
        report = outcome.get_result()
        failure = self._failures.pop(item.nodeid, None) if call.when == "call" else None
        if failure and report.passed:
            report.outcome = "failed"
            report.longrepr = failure


def _send_figures(nodeid: str, figures: WindowFigures) -> None:
    pytest_plugin.send_figures(nodeid, {
        "heap_peak_bytes": figures.heap_peak_bytes,
        "leaked_bytes": figures.leaked_bytes,
        "top_allocations": figures.top_allocations,
    })


def _check_markers(item: pytest.Item, markers: dict, heap_peak_bytes: int, leaked: list) -> str:
    """pytest-memray's verdicts: total heap at the peak, and bytes leaked per location."""
    if "limit_memory" in markers:
        limit = parse_marker_size(_first_arg(markers["limit_memory"]), item.nodeid, "limit_memory")
        if heap_peak_bytes >= limit:
            return (f"Test was limited to {limit:.0f} bytes but allocated {heap_peak_bytes} bytes "
                    f"at its peak (limit_memory, measured by testwatch with memray)")
    if "limit_leaks" in markers:
        marker = markers["limit_leaks"]
        limit = parse_marker_size(_first_arg(marker), item.nodeid, "limit_leaks")
        keep = marker.kwargs.get("filter_fn")
        big = [r for r in leaked if r.size >= limit and (keep is None or keep(_Stack(r)))]
        if big:
            where = "; ".join(f"{r.size} bytes at {_frame(r)}" for r in big[:TOP_ALLOCATIONS])
            return f"Test was allowed to leak {limit:.0f} bytes per location but leaked {where} (limit_leaks)"
    return ""


def _first_arg(marker) -> object:
    return marker.args[0] if marker.args else marker.kwargs.get(
        "limit", marker.kwargs.get("location_limit")
    )


def _frame(record) -> str:
    frames = record.stack_trace(max_stacks=1)
    return f"{frames[0][0]} {frames[0][1]}:{frames[0][2]}" if frames else "an unknown location"


class _Frame:
    def __init__(self, function: str, filename: str, lineno: int) -> None:
        self.function, self.filename, self.lineno = function, filename, lineno


class _Stack:
    """What pytest-memray hands a ``filter_fn``: ``.frames``, innermost first."""

    def __init__(self, record) -> None:
        self.frames = tuple(_Frame(*frame) for frame in record.hybrid_stack_trace())


def _known_small() -> frozenset[str]:
    path = os.environ.get(ENV_MEMRAY_SKIP)
    if not path:
        return frozenset()
    with open(path, encoding="utf-8") as f:
        return frozenset(json.load(f))


def _pytest_memray_active(config: pytest.Config) -> bool:
    """pytest-memray tracks every test only when asked to (its ``--memray`` option or ``memray``
    ini setting); installed, it only tracks the tests carrying its markers."""
    if not config.pluginmanager.hasplugin("memray"):
        return False
    if config.getoption("memray", default=False):
        return True
    try:
        return bool(config.getini("memray"))
    except (KeyError, ValueError):
        return False


def pytest_configure(config: pytest.Config) -> None:
    every_test = os.environ.get(ENV_MEMRAY) == "1"
    if _pytest_memray_active(config):  # pytest-memray owns the tracker and the markers
        if every_test:
            pytest_plugin.notice(
                "pytest-memray is active in this run (--memray or memray = true), so testwatch's "
                "memray mode defers to it: one memray tracker per process"
            )
        return
    markers_owned = config.pluginmanager.hasplugin("memray")
    if not markers_owned:
        for name in MARKERS:
            config.addinivalue_line(
                "markers", f"{name}(limit): pytest-memray's marker, honoured by testwatch"
            )
    known_small = _known_small() if every_test else frozenset()
    tracking = _MemrayTracking(every_test, known_small, markers_owned, ProjectIds.of(config))
    config.pluginmanager.register(tracking, "testwatch-memray")
    config.add_cleanup(tracking.close)
