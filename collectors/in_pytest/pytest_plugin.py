"""The pytest plugin testwatch loads into its child with ``-p``: streams one JSON line per event.

Events go over a Unix socket named by the engine (not stdout/stderr, which tests use). The plugin
is inert unless that socket is set, imports only the standard library and pytest, and does the
least per test: it runs once per test of the user's suite. Under pytest-xdist only the controller
streams; workers' reports reach it through xdist, carrying per-test figures in
``user_properties``.

A child that waits for its run (``record_first``) imports it before pytest loads it, so it carries
pytest's PYTEST_DONT_REWRITE mark, as every ``-p`` plugin of testwatch's does: pytest would
otherwise warn that it cannot rewrite it, an error under the project's ``filterwarnings = error``.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import re
import signal
import socket
import threading

import pytest

from testwatch.collectors.in_pytest.leftovers import end_leftovers
from testwatch.collectors.in_pytest.node_ids import ProjectIds
from testwatch.collectors.in_pytest.phase_clock import REPORT_ATTRIBUTE
from testwatch.collectors.in_pytest.protocol import (
    ENV_HOLD,
    ENV_MAX_OUTPUT,
    ENV_SELECT,
    ENV_SOCKET,
    ENV_TEST,
    EVENT_TEXT_LIMIT,
    EXTRA_PREFIX,
    SCHEMA_VERSION,
    cap_text,
)

_stream: EventStream | None = None
_marking = False  # under testwatch: each test's node id goes into the environment it runs in
_unsent_phases: dict[str, list[dict]] = {}  # node id -> its setup and call phases until teardown
SUBTEST_TRACEBACKS = 10  # failed subtests of one test whose tracebacks are sent
_subtest_tracebacks: dict[str, int] = {}  # node id -> tracebacks of its failed subtests sent
_unsent_notices: list[str] = []  # notices from before the stream connected
_read_selection: list = [None, None]  # the selection file last read, and what it holds
_clean_files: list[str] = []  # test files collected without an error since the last "collected"
_SURROGATE = re.compile("[\ud800-\udfff]")
# One encoder for every event: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, default=repr).encode


class EventStream:
    """A connection to the engine; a watchdog kills this process group when the engine is gone,
    and hears the engine's go for a held session (the only thing the engine writes)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._lock = threading.Lock()
        self.go = threading.Event()
        threading.Thread(target=self._watch_engine, name="testwatch-watchdog", daemon=True).start()

    def send(self, event: dict) -> None:
        """Send ``event`` as one JSON line."""
        event["v"] = SCHEMA_VERSION
        line = _encode(event) + "\n"
        try:
            data = line.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (odd test data, undecodable bytes) travels as the text \udcff.
            data = _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", line).encode("utf-8")
        with self._lock:
            self._sock.sendall(data)

    def _watch_engine(self) -> None:
        # The engine writes only the go; EOF or an error means it died (even by SIGKILL), so
        # nothing is left to record results and the run must not go on as an orphan, nor
        # anything its tests started in sessions of their own.
        try:
            while self._sock.recv(4096):
                self.go.set()
        except OSError:
            pass
        end_leftovers(self._path, os.getpgrp())
        os.killpg(os.getpgrp(), signal.SIGKILL)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _extras(user_properties) -> dict:
    return {
        key[len(EXTRA_PREFIX) :]: value
        for key, value in user_properties
        if isinstance(key, str) and key.startswith(EXTRA_PREFIX)
    }


class _XdistHooks:
    """Hooks that exist only when pytest-xdist is loaded (the controller collects nothing)."""

    def __init__(self) -> None:
        self._sent = False

    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        if _stream is not None and not self._sent:
            self._sent = True
            _stream.send({"event": "collected", "items": [[nodeid, []] for nodeid in ids]})


class _JsonReportHooks:
    """Adds testwatch's per-test figures to a pytest-json-report the user asked for."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_json_runtest_metadata(self, item, call):
        figures = _extras(item.user_properties)
        return {"testwatch": figures} if figures and call.when == "teardown" else None


def pytest_configure(config: pytest.Config) -> None:
    global _stream, _marking
    _collect_only_selected_files(config)
    if getattr(config.option, "json_report", False):
        config.pluginmanager.register(_JsonReportHooks(), "testwatch-json-report")
    path = os.environ.get(ENV_SOCKET)
    if not path:
        return
    # Every result is reported by the time the interpreter shuts down; the shutdown's garbage
    # collections then only walk the whole heap to free memory the exit frees anyway (a third
    # of a second after 2,000 tests). Objects still in reference cycles are not finalized, which
    # Python does not promise at exit either.
    atexit.register(gc.freeze)
    _marking = True
    if _is_worker(config):
        return
    _stream = EventStream(path)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "testwatch-xdist")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _stream is not None:
        # --show-capture (pytest's terminal option, "all" unless the user says otherwise): which
        # captured sections testwatch's own report of a failure prints.
        show_capture = getattr(session.config.option, "showcapture", "all")
        _stream.send({
            "event": "session_start", "pid": os.getpid(), "rootdir": str(session.config.rootpath),
            "show_capture": str(show_capture),
        })
        while _unsent_notices:
            _stream.send({"event": "notice", "message": _unsent_notices.pop(0)})


def _selection() -> dict | None:
    """What testwatch chose for this run; None: every test. ``tests``: the node ids (or test
    files) in run order; ``known``: None, or the tests testwatch knows in their files, so that
    the others collected there (new tests) run too, first. Both are testwatch's ids
    (``node_ids``): paths from the folder pytest runs in, not from its rootdir."""
    select_file = os.environ.get(ENV_SELECT)
    if not select_file:
        return None
    if _read_selection[0] != select_file:  # read once per session: it can hold many known ids
        with open(select_file, encoding="utf-8") as f:
            _read_selection[:] = [select_file, json.load(f)]
    return _read_selection[1]


def _collect_only_selected_files(config: pytest.Config) -> None:
    """Under a selection, pytest collects the files holding the chosen tests and no others: a
    folder among the user's own arguments (``testwatch watch -- tests``) would otherwise bring
    every test file under it to collection, only for the selection to drop their tests. The
    files stay relative to the folder pytest runs in, as pytest reads its arguments: an absolute
    path holding ``[`` (a project in ``shop [old]``) is refused as a parametrization."""
    selection = _selection()
    if selection and selection["tests"]:
        config.args = list(dict.fromkeys(nodeid.split("::", 1)[0] for nodeid in selection["tests"]))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    selection = _selection()
    if selection is None:
        return
    wanted = {nodeid: rank for rank, nodeid in enumerate(selection["tests"])}
    known = None if selection["known"] is None else set(selection["known"])
    project_id = ProjectIds.of(config)
    ranks = {}
    for item in items:
        nodeid = project_id(item.nodeid)
        # A selected file (one that failed to collect last time) brings all of its tests.
        rank = wanted.get(nodeid, wanted.get(nodeid.split("::", 1)[0]))
        if rank is None and known is not None and nodeid not in known:
            rank = -1  # new in a selected file: the test being written, likely to fail
        ranks[item] = rank
    kept = [item for item in items if ranks[item] is not None]
    dropped = [item for item in items if ranks[item] is None]
    kept.sort(key=ranks.__getitem__)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """A held session (the engine started it while the run's session before it runs its tests)
    waits here, collected, until the engine's go: two sessions never run tests at once."""
    if _stream is not None and os.environ.pop(ENV_HOLD, None) == "1":
        _stream.go.wait()


def pytest_collection_finish(session: pytest.Session) -> None:
    if _stream is None:
        return
    items = [[item.nodeid, sorted({m.name for m in item.iter_markers()})] for item in session.items]
    _stream.send({"event": "collected", "items": items, "files": _clean_files[:]})
    _clean_files.clear()


def pytest_collectreport(report) -> None:
    if _stream is None:
        return
    if report.failed:
        _stream.send(
            {"event": "collect_error", "nodeid": report.nodeid, "longrepr": report.longreprtext}
        )
    elif report.passed and report.nodeid.endswith(".py"):
        _clean_files.append(report.nodeid)  # a test file that imports again after an error
    elif report.skipped and report.nodeid:  # pytest.skip(allow_module_level=True), importorskip
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _stream.send({"event": "collect_skip", "nodeid": report.nodeid, "longrepr": reason})


def pytest_runtest_logstart(nodeid: str, location) -> None:
    if _marking:
        os.environ[ENV_TEST] = nodeid
    if _stream is not None:
        _stream.send({"event": "start", "nodeid": nodeid, "location": location})


def pytest_runtest_logreport(report) -> None:
    """A test's phases travel together in one ``test`` event after its teardown: one write
    and one JSON encoding per test, not three. Its ``start`` event is never held back, so a
    crash is still blamed on the right test."""
    if _stream is None:
        return
    # Attributes that only some reports carry are looked up in vars(): a missing one raises
    # AttributeError inside getattr/hasattr, which costs more than the rest of a passing phase.
    attributes = vars(report)
    context = attributes.get("context")
    if context is not None and hasattr(context, "kwargs"):  # a subtest's, within its test's call
        if report.failed:  # its time is in the call's; a skipped subtest skips no test
            _keep_failed_subtest(report, context)
        return
    duration = attributes.get(REPORT_ATTRIBUTE, report.duration)  # phase_clock's, unless not loaded
    phase = {"when": report.when, "outcome": report.outcome, "duration": duration}
    if report.failed:
        phase["longrepr"] = _capped(report.longreprtext, EVENT_TEXT_LIMIT // 6)
    elif report.skipped:
        longrepr = report.longrepr
        phase["longrepr"] = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if "wasxfail" in attributes:
        phase["wasxfail"] = report.wasxfail or "xfail"
    nodeid = report.nodeid
    if report.when in ("setup", "call"):
        _unsent_phases.setdefault(nodeid, []).append(phase)
        return
    _subtest_tracebacks.pop(nodeid, None)
    node = attributes.get("node")  # set by pytest-xdist on a worker's report
    event = {
        "event": "test", "nodeid": nodeid, "phases": [*_unsent_phases.pop(nodeid, ()), phase],
        "worker": node and node.gateway.id,
    }
    if report.when == "teardown":
        if report.sections:
            share = EVENT_TEXT_LIMIT // 2 // len(report.sections)
            event["sections"] = [[title, _capped(text, share)] for title, text in report.sections]
        if report.user_properties:
            _add_properties(event, report.user_properties)
        metadata = attributes.get("_json_report_extra", {}).get("metadata")
        if metadata:
            event["metadata"] = metadata
    _stream.send(event)


def _keep_failed_subtest(report, context) -> None:
    """A failed subtest fails its test: it joins the test's phases, named as pytest names it.
    The first ``SUBTEST_TRACEBACKS`` of a test carry their traceback, the others are counted
    only (a data-driven test can fail thousands)."""
    nodeid = report.nodeid
    phase = {"when": report.when, "outcome": "failed", "duration": report.duration,
             "subtest": _subtest_description(context)}
    shown = _subtest_tracebacks.get(nodeid, 0)
    if shown < SUBTEST_TRACEBACKS:
        _subtest_tracebacks[nodeid] = shown + 1
        phase["longrepr"] = _capped(report.longreprtext, EVENT_TEXT_LIMIT // 6)
    _unsent_phases.setdefault(nodeid, []).append(phase)


def _subtest_description(context) -> str:
    """How pytest names a subtest in its summary: ``[msg] (i=1, j=2)``, or ``(<subtest>)``. The
    context is pytest 9's ``SubtestReport.context`` or pytest-subtests' (pytest 8): both hold
    ``msg`` and ``kwargs``."""
    msg, kwargs = getattr(context, "msg", None), getattr(context, "kwargs", None) or {}
    parts = [f"[{msg}]"] if msg is not None else []
    if kwargs:
        parts.append("(" + ", ".join(f"{key}={value}" for key, value in kwargs.items()) + ")")
    return " ".join(parts) or "(<subtest>)"


def _add_properties(event: dict, user_properties) -> None:
    """testwatch's own figures go in ``extra``, the test's record_property pairs as they are."""
    extras = _extras(user_properties)
    if extras:
        event["extra"] = extras
    props = [[k, v] for k, v in user_properties if not str(k).startswith(EXTRA_PREFIX)]
    if props:
        event["user_properties"] = props


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    if _stream is None:
        return
    # Tests an interruption left without a teardown: what they did report still counts.
    for nodeid, phases in list(_unsent_phases.items()):
        _stream.send({"event": "test", "nodeid": nodeid, "phases": phases})
    _unsent_phases.clear()
    _subtest_tracebacks.clear()
    _stream.send({"event": "session_finish", "exitstatus": int(exitstatus)})


def streaming() -> bool:
    """Whether this process sends events to testwatch (its pytest-xdist workers do not)."""
    return _stream is not None


def notice(message: str) -> None:
    """Tell the user through testwatch (its log, its output), not through a Python warning that a
    project's ``filterwarnings = error`` would turn into pytest's INTERNALERROR."""
    if _stream is not None:
        _stream.send({"event": "notice", "message": message})
    else:
        _unsent_notices.append(message)


def send_figures(nodeid: str, extra: dict) -> None:
    """Send figures of a test measured after its report went; the engine adds them to its result."""
    if _stream is not None:
        _stream.send({"event": "figures", "nodeid": nodeid, "extra": extra})


def _capped(text: str, most: int) -> str:
    """``text`` cut to ``max_output``, and to ``most`` characters whatever that says."""
    configured = int(os.environ.get(ENV_MAX_OUTPUT, "65536"))
    return cap_text(text, most if configured <= 0 else min(configured, most))
