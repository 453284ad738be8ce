"""Child-side dependency recorder: what each test executed, imported and opened in the project.

Loaded with ``-p testwatch.collectors.in_pytest.deps_plugin`` and switched on by ``--testwatch-deps=DIR``
(watch mode, ``run --affected``, ``--deps``/``--coverage``); without the option it does nothing.
``record_first`` imports it before pytest starts, so it carries pytest's PYTEST_DONT_REWRITE mark:
pytest would otherwise warn that it cannot rewrite it, an error under ``filterwarnings = error``.
Executed code comes, on Python 3.12+, from ``line_monitor`` (``sys.monitoring``, project code only:
each test's code objects, one callback per code object per test, and the run's lines, one callback
per line per run); on 3.11, with branch coverage configured, or when two monitoring tool ids are
not free, from coverage.py with one dynamic context per test (its C tracer is the cheapest line
tracer there). ``subprocess_deps`` makes the Python subprocesses a test starts record the project
code they run for that test. Either starts as this plugin is registered, before pytest loads the
installed plugins and the project's conftest.py files, as ``coverage run`` and pytest-cov do: the
lines a package runs when something imports it early count as run (outside any test). coverage.py's
tracer is then set on the main thread only while project code may run (``project_code_gate``).
The same data gives the run's coverage. Project files opened are caught by an audit hook on
``open`` (kept only if they exist at the session's end: a failed open read nothing, and a file
the tests made and removed is their scratch); project modules imported while a test module is
collected by comparing ``sys.modules`` around its collection. A session-, package-, module- or
class-scoped fixture's setup runs in a context of its own, given to every test that uses the
fixture (its ``item.fixturenames`` and the scope node holding the test), not only to the test
that set it up. Each process (the pytest child or each pytest-xdist worker) writes
``DIR/deps.<pid>.json`` (with the monitor's lines in it) or, with coverage.py, also
``DIR/cov.<pid>`` (a coverage.py data file) at the end of its session; the engine side
(``testwatch.select.dep_reading``) reads them after the run. Per-test data stays out of the event
stream: the per-test cost is one context switch (kept in memory) and a few set inserts. The
monitor needs no coverage.py in the child's interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import glob
import hashlib
import json
import os
import sys
from types import CodeType

import pytest

from testwatch.collectors.in_pytest import subprocess_deps
from testwatch.collectors.in_pytest.line_monitor import (
    SKIPPED_PARTS,
    LineMonitor,
    absolute_path,
    free_tool_ids,
    project_file_test,
)
from testwatch.collectors.in_pytest.project_code_gate import ProjectCodeGate

_recorder: Recorder | None = None
FIXTURE_CONTEXT = "fixture:"  # prefix of a higher-scoped fixture setup's context
_HASHED_BYTES = 16 * 2**20  # a bigger data file opened is not hashed at its first read
# The audit hook runs inside the test's own frames: it reads with the os functions as they were
# when this module loaded, never with those a test tool replaced (see line_monitor's docstring).
_os_open, _os_fstat, _os_read, _os_close = os.open, os.fstat, os.read, os.close


class Recorder:
    """Per-process recording state: the tracer, the current test, what was seen so far."""

    def __init__(self, out_dir: str, root: str, branch: bool, tracer: str = "auto") -> None:
        self.out_dir = out_dir
        self.root = root.rstrip(os.sep) + os.sep
        self.real_root = os.path.realpath(root).rstrip(os.sep) + os.sep
        self._is_project_file = project_file_test(root)
        self.current: set[str] | None = None  # files opened by the test or collection under way
        self.context = ""  # the test (or fixture setup) the executed lines go to
        self.opened_by_test: dict[str, set[str]] = {}  # by context: a test, or a fixture setup
        # Higher-scoped fixtures' setups by fixture name: (their context, their scope's node id).
        self.fixture_setups: dict[str, list[tuple[str, str]]] = {}
        self.fixtures_used: dict[str, list[str]] = {}  # test -> contexts of the setups it used
        self.set_up_in_test: list[str] = []  # contexts of the setups done in the current test
        # Opened file -> its content hash when first opened, so that a file a test rewrites with
        # the same content (its stat changes during the run) still counts as unchanged.
        self.first_read: dict[str, str | None] = {}
        self.collected: dict[str, dict[str, set[str]]] = {}
        self.locations: dict[str, list] = {}
        # Context -> how it started a Python whose code cannot be recorded ("python3 -I").
        self.unrecorded: dict[str, str] = {}
        self.error = ""
        self.running = False  # a test ran here: a record is owed (``ran.<pid>`` says so)
        self.coverage = None
        self.gate: ProjectCodeGate | None = None  # when coverage.py's tracer is on (``project_code_gate``)
        self.monitor: LineMonitor | None = None
        subprocess_deps.stop_in_this_process()  # this process records itself
        subprocess_deps.install_startup(out_dir, root)
        tool_ids = None if branch or tracer == "coverage" else free_tool_ids(2)
        if tool_ids is not None:
            self.monitor = LineMonitor(tool_ids, self._is_project_file)
            self.monitor.watch_loaded(
                module for module in list(sys.modules.values())
                if self._is_project_file(os.path.realpath(getattr(module, "__file__", None) or "/"))
            )
        else:
            self._start_coverage(root, branch)
        sys.addaudithook(_audit_hook(self._on_audit))

    def _start_coverage(self, root: str, branch: bool) -> None:
        try:
            import coverage

            # In memory: with a data file, every per-test context switch reopens SQLite.
            self.coverage = coverage.Coverage(
                data_file=None, source=[_literal_source(root, coverage.version_info)],
                omit=[f"*{part}*" for part in SKIPPED_PARTS], branch=branch, config_file=False,
            )
            self.coverage.start()
            tracer = sys.gettrace()  # None where coverage.py uses sys.monitoring: nothing to gate
            if tracer is not None:
                self.gate = ProjectCodeGate(self._is_project_file, tracer)
        except Exception as exc:  # coverage.py missing or unusable in this interpreter
            self.error = f"coverage.py cannot trace in {sys.executable}: {exc}"

    def _on_audit(self, event: str, args: tuple) -> None:
        if event == "exec":
            if self.monitor is not None and isinstance(args[0], CodeType):
                self.monitor.watch(args[0])
            elif self.gate is not None and isinstance(args[0], CodeType):
                self.gate.code_starts(args[0])
            return
        if event == "subprocess.Popen":
            if self.context:
                executable, popen_args, _cwd, env = args
                how = subprocess_deps.unrecorded_python(executable, popen_args, env)
                if how is not None:
                    self.unrecorded.setdefault(self.context, how)
            return
        if event != "open" or self.current is None:
            return
        path, mode, flags = args
        if not isinstance(path, str) or not _opened_for_reading(mode, flags):
            return
        if not os.path.isabs(path):
            path = absolute_path(path)
        if path.startswith(self.root) and not path.endswith((".py", ".pyc")) and not any(
            part in path for part in SKIPPED_PARTS
        ):
            self.current.add(path)
            if path not in self.first_read:
                self.first_read[path] = None  # set first: the read below is an open too
                self.first_read[path] = _content_hash(path)

    def note_running(self) -> None:
        """The first test begins: leave ``DIR/ran.<pid>``, so that a process that dies before its
        session ends (``os._exit``, a crash, a timeout's kill) is known to have lost its record."""
        self.running = True
        try:
            with open(os.path.join(self.out_dir, f"ran.{os.getpid()}"), "w", encoding="utf-8"):
                pass
        except OSError:
            pass  # the engine then takes the run's record as whole

    def switch(self, context: str) -> None:
        self.context = context
        subprocess_deps.set_context(context)
        if self.monitor is not None:
            self.monitor.switch(context)
        elif self.coverage is not None:
            self.coverage.switch_context(context)

    def begin_fixture(self, name: str, scope_id: str) -> tuple[str, set[str] | None]:
        """A session-, package-, module- or class-scoped fixture's setup begins: what it runs
        and opens goes to its own context, shared by every test that uses it. Returns what
        ``end_fixture`` restores."""
        saved = (self.context, self.current)
        context = f"{FIXTURE_CONTEXT}{name}@{scope_id}"
        setups = self.fixture_setups.setdefault(name, [])
        if (context, scope_id) not in setups:
            setups.append((context, scope_id))
        self.set_up_in_test.append(context)
        self.current = self.opened_by_test.setdefault(context, set())
        self.switch(context)
        return saved

    def end_fixture(self, saved: tuple[str, set[str] | None]) -> None:
        context, self.current = saved
        self.switch(context)

    def note_fixtures_used(self, nodeid: str, fixturenames) -> None:
        """The higher-scoped fixture setups this test used: those of its fixtures' names whose
        scope node holds the test, and any set up while it ran (``request.getfixturevalue``)."""
        used = dict.fromkeys(self.set_up_in_test)
        self.set_up_in_test = []
        for name in fixturenames:
            for context, scope_id in self.fixture_setups.get(name, ()):
                if _holds(scope_id, nodeid):
                    used[context] = None
        if used:
            self.fixtures_used[nodeid] = list(used)

    def stop_tracing(self) -> None:
        """The xdist controller runs no tests: it needs no tracer."""
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        if self.gate is not None:
            self.gate.close()
        if self.coverage is not None:
            self.coverage.stop()
            self.coverage.erase()
            self.coverage = None

    def save(self, rootdir: str) -> None:
        """Write this process's record; its node ids are relative to pytest's ``rootdir``."""
        lines = None
        if self.monitor is not None:
            self.monitor.stop()
            lines = self.monitor.serialisable(self.real_root.rstrip(os.sep))
        if self.gate is not None:
            self.gate.close()
        if self.coverage is not None:
            self.coverage.stop()
            self._save_coverage()
        collected_opened = _existing_files({path: seen["opened"] for path, seen in self.collected.items()})
        record = {
            "pid": os.getpid(),
            "rootdir": rootdir,
            "error": self.error,
            "traced": self.coverage is not None or lines is not None,
            "lines": lines,
            "locations": self.locations,
            "opened": _existing_files(self.opened_by_test),
            "fixtures": self.fixtures_used,
            "unrecorded": self.unrecorded,
            "first_read": {path: sha for path, sha in self.first_read.items() if sha},
            "collected": {
                path: {"modules": sorted(seen["modules"]), "opened": collected_opened[path]}
                for path, seen in self.collected.items()
            },
        }
        target = os.path.join(self.out_dir, f"deps.{os.getpid()}.json")
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            f.write(json.dumps(record))  # json.dump encodes in Python, json.dumps in C: 10x faster
        os.replace(target + ".tmp", target)


    def _save_coverage(self) -> None:
        """The coverage.py data as a data file of its own (``DIR/cov.<pid>``, SQLite), which the
        engine reads with SQL: coverage.py's per-line view of contexts costs far more to build."""
        import coverage

        target = os.path.join(self.out_dir, f"cov.{os.getpid()}")
        on_disk = coverage.CoverageData(basename=target + ".tmp")
        on_disk.update(self.coverage.get_data())
        if hasattr(on_disk, "close"):
            on_disk.close()
        os.replace(target + ".tmp", target)


def _literal_source(folder: str, version: tuple) -> str:
    """``folder`` as coverage.py's ``source`` setting reads it literally: from 7.18 it takes ``*``,
    ``?`` and ``[`` there as a pattern, so ``proj [old]`` would match no folder and coverage.py
    would then trace every file outside the standard library and site-packages."""
    return glob.escape(folder) if version >= (7, 18) else folder


def _audit_hook(on_audit):
    """The hook given to ``sys.addaudithook``: it passes on only the events the recorder acts on.

    Every audited call in the process runs it: ``id()`` is one, and freezegun calls it for every
    module attribute it patches (about 100,000 times in itsdangerous's 299 tests). So it is a
    plain function that drops the other events first: a bound method cost three times as much
    per event, as CPython looks its ``__cantrace__`` up at every event (an AttributeError raised
    and cleared each time), which put the recording child above pytest-testmon's whole process
    (``benchmarks/audit_hook_cost.py``, ``benchmarks/recorder_cost.py``)."""
    def hook(event: str, args: tuple) -> None:
        if event in _AUDITED:
            on_audit(event, args)
    return hook


_AUDITED = frozenset(("open", "exec", "subprocess.Popen"))


def _content_hash(path: str) -> str | None:
    """The file's content hash as ``testwatch.select.fingerprints.content_hash`` makes it (this plugin
    imports only the standard library); None for a file that is missing, unreadable or big."""
    try:
        fd = _os_open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        if _os_fstat(fd).st_size > _HASHED_BYTES:
            return None
        digest = hashlib.blake2b(digest_size=10)
        while chunk := _os_read(fd, 2**20):
            digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None
    finally:
        _os_close(fd)


def _holds(scope_id: str, nodeid: str) -> bool:
    """True when the node ``scope_id`` (the session's is "") is ``nodeid`` or one of its parents."""
    return not scope_id or nodeid == scope_id or nodeid.startswith((f"{scope_id}::", f"{scope_id}/"))


def _existing_files(opened: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each context's opened files that exist at the session's end. An open that failed (a file
    that never existed: ``<string>``, an optional config file) read nothing, and a file the tests
    made and removed again is their own scratch: neither is an input that can change."""
    exists: dict[str, bool] = {}
    kept = {}
    for context, paths in opened.items():
        for path in paths:
            if path not in exists:
                exists[path] = os.path.isfile(path)
        kept[context] = sorted(path for path in paths if exists[path])
    return kept


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("testwatch")
    group.addoption("--testwatch-deps", default=None, metavar="DIR",
                    help="testwatch: record each test's dependencies into DIR")
    group.addoption("--testwatch-branch", action="store_true", default=False,
                    help="testwatch: measure branch coverage while recording dependencies")
    group.addoption("--testwatch-tracer", choices=("auto", "coverage"), default="auto",
                    help="testwatch: 'coverage' uses coverage.py's tracer even where sys.monitoring "
                    "could record (for comparisons)")
    _start_at_registration(parser, pluginmanager)
    _gate_project_code()


def preload_tracer() -> None:
    """Import coverage.py now where it will trace (no ``sys.monitoring``: Python 3.11), for a
    child that waits for its run (``record_first``): its import then overlaps testwatch's."""
    if not hasattr(sys, "monitoring"):
        try:
            import coverage  # noqa: F401
        except ImportError:
            pass  # the recorder says so when it starts


def start_before_pytest(args: list[str], root: str) -> None:
    """Start recording from the child's pytest arguments, before pytest reads its configuration
    (``record_first``); registration and ``pytest_load_initial_conftests`` then find it running."""
    global _recorder
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--testwatch-deps")
    parser.add_argument("--testwatch-branch", action="store_true")
    parser.add_argument("--testwatch-tracer", default="auto")
    options, _ = parser.parse_known_args(args)
    if options.testwatch_deps and _recorder is None:
        _recorder = Recorder(options.testwatch_deps, root, options.testwatch_branch, options.testwatch_tracer)
        _gate_project_code()


def _start_at_registration(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Start recording now, as ``-p`` registers this plugin: before the installed plugins and the
    conftest.py files load, which may import the project's package (its module-level lines would
    otherwise never be seen run). Our options are read from the invocation's arguments (or, in a
    pytest-xdist worker, from the options the controller handed over)."""
    global _recorder
    config = pluginmanager.get_plugin("pytestconfig")
    if _recorder is not None or config is None:
        return
    try:
        options = parser.parse_known_args(
            list(config.invocation_params.args), namespace=copy.copy(config.option)
        )
        root = config.rootpath
    except (pytest.UsageError, AttributeError):  # not parseable or no rootdir yet: start later
        return
    if options.testwatch_deps:
        _recorder = Recorder(options.testwatch_deps, str(root), options.testwatch_branch,
                             options.testwatch_tracer)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    # Where registration was too early to read the options: still before conftest.py files load.
    global _recorder
    out_dir = getattr(early_config.known_args_namespace, "testwatch_deps", None)
    if out_dir and _recorder is None:
        options = early_config.known_args_namespace
        _recorder = Recorder(out_dir, str(early_config.rootpath), options.testwatch_branch,
                             options.testwatch_tracer)
    _gate_project_code()


def _gate_project_code() -> None:
    """Before the conftest.py files load: coverage.py's tracer follows the project's code from
    now on (``project_code_gate``)."""
    if _recorder is not None and _recorder.gate is not None:
        _recorder.gate.begin()


def pytest_plugin_registered(plugin, manager) -> None:
    # Called for the plugins registered before this one too (pytest replays it).
    if _recorder is not None and _recorder.gate is not None:
        _recorder.gate.watch_plugin(plugin, manager)


def pytest_configure(config: pytest.Config) -> None:
    is_controller = not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"
    if _recorder is not None and is_controller:
        _recorder.stop_tracing()


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    if _recorder is None or not isinstance(collector, pytest.File):  # a conftest's File subclass too
        yield
        return
    before = set(sys.modules)
    opened: set[str] = set()
    _recorder.current = opened
    if _recorder.gate is not None:
        _recorder.gate.keep_first()  # a plugin's import hook may have gone first meanwhile
    try:
        yield
    finally:
        _recorder.current = None
        modules = set()
        for name in set(sys.modules) - before:
            path = getattr(sys.modules.get(name), "__file__", None)
            if isinstance(path, str) and path.startswith(_recorder.root):
                modules.add(path)
        _recorder.collected[str(collector.path)] = {"modules": modules, "opened": opened}


def _opened_for_reading(mode, flags) -> bool:
    """An input of the test, not its output: a file it creates, truncates or appends to is not
    a dependency (counting it would make every test that writes a file select itself forever)."""
    if isinstance(flags, int):
        writes = os.O_CREAT | os.O_TRUNC | os.O_APPEND
        return (flags & os.O_ACCMODE) != os.O_WRONLY and not flags & writes
    return not isinstance(mode, str) or "r" in mode


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_fixture_setup(fixturedef, request):
    # A function-scoped fixture runs in its test's context already; a wider one runs once, in
    # whichever test set it up first, yet every test that uses it depends on what it ran.
    if _recorder is None:
        return (yield)
    with _project_code():
        if request.scope == "function":
            return (yield)
        saved = _recorder.begin_fixture(request.fixturename, request.node.nodeid)
        try:
            return (yield)
        finally:
            _recorder.end_fixture(saved)


# The other hooks that run the tests' and the project's code, whichever plugin implements them:
# a test's setup (its skip conditions; its fixtures too), call and teardown (the fixtures'
# finalizers), the look at each name of a test module (its ``__test__``, which runs a module's
# ``__getattr__``) and the parametrization (``ids`` functions). Wrappers: no frame of theirs is on
# the stack while the code runs (a deeper stack made Python 3.11 map and unmap a frame chunk at
# every call of attrs' tests).
@pytest.hookimpl(wrapper=True, tryfirst=True)
def _project_code_window():
    with _project_code():
        return (yield)


pytest_runtest_setup = pytest_runtest_call = pytest_runtest_teardown = _project_code_window
pytest_pycollect_makeitem = pytest_generate_tests = _project_code_window


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # A failure's report runs the project's code (its exception's __str__, a project Item's
    # repr_failure); a pass's runs pytest's alone, which is left untraced.
    if call.excinfo is None and not _project_item(item):
        return (yield)
    with _project_code():
        return (yield)


def _project_code():
    """The recorder's window of project code (``project_code_gate``), if it gates its tracer."""
    gate = _recorder.gate if _recorder is not None else None
    return gate.window() if gate is not None else contextlib.nullcontext()


def _project_item(item: pytest.Item) -> bool:
    """A test item of a class the project defines (a conftest.py's ``Item``), under the gate."""
    gate = _recorder.gate if _recorder is not None else None
    return gate is not None and gate.defines(type(item))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _recorder is None:
        yield
        return
    if not _recorder.running:
        _recorder.note_running()
    opened: set[str] = set()
    _recorder.current = opened
    _recorder.switch(item.nodeid)
    if _project_item(item):
        with _project_code(), contextlib.suppress(Exception):
            item.location  # noqa: B018  (cached: a project Item's reportinfo runs here, traced)
    try:
        yield
    finally:
        # No switch back to "": the next test's switch ends this context, at half the cost.
        _recorder.current = None
        if opened:
            _recorder.opened_by_test[item.nodeid] = opened
        _recorder.note_fixtures_used(item.nodeid, getattr(item, "fixturenames", ()))
        _recorder.locations[item.nodeid] = [str(item.path), item.location[1]]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session) -> None:
    # Before testwatch's ``session_finish`` event: the engine starts storing the record on it.
    if _recorder is not None:
        _recorder.save(str(session.config.rootpath))
