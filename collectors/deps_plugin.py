"""Child-side dependency recorder: what each test executed, imported and opened in the project.

Loaded with ``-p testwatch.collectors.deps_plugin`` and switched on by ``--testwatch-deps=DIR``
(watch mode, ``run --affected``, ``--deps``/``--coverage``); without the option it does nothing.
Executed lines come, on Python 3.12+, from ``line_monitor`` (``sys.monitoring``, project code
only, one callback per line per test); on 3.11, with branch coverage configured, or when no
monitoring tool id is free, from coverage.py with one dynamic context per test (its C tracer is
the cheapest line tracer there). Either starts as this plugin is registered, before pytest loads
the installed plugins and the project's conftest.py files, as ``coverage run`` and pytest-cov
do: the lines a package runs when something imports it early count as run (outside any test).
The same data gives the run's coverage. Project files
opened are caught by an audit hook on ``open``; project modules imported while a test module is
collected by comparing ``sys.modules`` around its collection. Each process (the pytest child or
each pytest-xdist worker) writes ``DIR/deps.<pid>.json`` (with the monitor's lines in it) or,
with coverage.py, also ``DIR/cov.<pid>`` (coverage.py data, serialised) at the end of its
session; the engine side (``testwatch.dep_reading``) reads them after the run. Per-test data
stays out of the event stream: the per-test cost is one context switch (kept in memory) and a
few set inserts. The monitor needs no coverage.py in the child's interpreter.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from types import CodeType

import pytest

from testwatch.collectors.line_monitor import LineMonitor, free_tool_id

_recorder: Recorder | None = None
_SKIPPED_PARTS = (
    f"{os.sep}.venv{os.sep}", f"{os.sep}venv{os.sep}", f"{os.sep}site-packages{os.sep}",
    f"{os.sep}.git{os.sep}", f"{os.sep}__pycache__{os.sep}", f"{os.sep}.tox{os.sep}",
    f"{os.sep}node_modules{os.sep}", f"{os.sep}.testwatch{os.sep}",
)


class Recorder:
    """Per-process recording state: the tracer, the current test, what was seen so far."""

    def __init__(self, out_dir: str, root: str, branch: bool, tracer: str = "auto") -> None:
        self.out_dir = out_dir
        self.root = root.rstrip(os.sep) + os.sep
        self.real_root = os.path.realpath(root).rstrip(os.sep) + os.sep
        self.current: set[str] | None = None  # files opened by the test or collection under way
        self.opened_by_test: dict[str, set[str]] = {}
        self.collected: dict[str, dict[str, set[str]]] = {}
        self.locations: dict[str, list] = {}
        self.error = ""
        self.coverage = None
        self.monitor: LineMonitor | None = None
        tool_id = None if branch or tracer == "coverage" else free_tool_id()
        if tool_id is not None:
            self.monitor = LineMonitor(tool_id, self._is_project_file)
            self.monitor.watch_loaded(
                module for module in list(sys.modules.values())
                if self._is_project_file(os.path.realpath(getattr(module, "__file__", None) or "/"))
            )
        else:
            self._start_coverage(root, branch)
        sys.addaudithook(self._on_audit)

    def _start_coverage(self, root: str, branch: bool) -> None:
        try:
            import coverage

            # In memory: with a data file, every per-test context switch reopens SQLite.
            self.coverage = coverage.Coverage(
                data_file=None, source=[root],
                omit=[f"*{part}*" for part in _SKIPPED_PARTS], branch=branch, config_file=False,
            )
            self.coverage.start()
        except Exception as exc:  # coverage.py missing or unusable in this interpreter
            self.error = f"coverage.py cannot trace in {sys.executable}: {exc}"

    def _is_project_file(self, real_path: str) -> bool:
        return real_path.startswith(self.real_root) and not any(p in real_path for p in _SKIPPED_PARTS)

    def _on_audit(self, event: str, args: tuple) -> None:
        if event == "exec":
            if self.monitor is not None and isinstance(args[0], CodeType):
                self.monitor.watch(args[0])
            return
        if event != "open" or self.current is None:
            return
        path, mode, flags = args
        if not isinstance(path, str) or not _opened_for_reading(mode, flags):
            return
        if not os.path.isabs(path):
            path = os.path.abspath(path)
        if path.startswith(self.root) and not path.endswith((".py", ".pyc")) and not any(
            part in path for part in _SKIPPED_PARTS
        ):
            self.current.add(path)

    def switch(self, context: str) -> None:
        if self.monitor is not None:
            self.monitor.switch(context)
        elif self.coverage is not None:
            self.coverage.switch_context(context)

    def stop_tracing(self) -> None:
        """The xdist controller runs no tests: it needs no tracer."""
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        if self.coverage is not None:
            self.coverage.stop()
            self.coverage.erase()
            self.coverage = None

    def save(self) -> None:
        lines = None
        if self.monitor is not None:
            self.monitor.stop()
            lines = self.monitor.serialisable(self.real_root.rstrip(os.sep))
        if self.coverage is not None:
            self.coverage.stop()
            target = os.path.join(self.out_dir, f"cov.{os.getpid()}")
            with open(target + ".tmp", "wb") as f:
                f.write(self.coverage.get_data().dumps())
            os.replace(target + ".tmp", target)
        record = {
            "pid": os.getpid(),
            "error": self.error,
            "traced": self.coverage is not None or lines is not None,
            "lines": lines,
            "locations": self.locations,
            "opened": {nodeid: sorted(paths) for nodeid, paths in self.opened_by_test.items()},
            "collected": {
                path: {kind: sorted(values) for kind, values in seen.items()}
                for path, seen in self.collected.items()
            },
        }
        target = os.path.join(self.out_dir, f"deps.{os.getpid()}.json")
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(target + ".tmp", target)


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


def pytest_configure(config: pytest.Config) -> None:
    is_controller = not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"
    if _recorder is not None and is_controller:
        _recorder.stop_tracing()


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    if _recorder is None or not isinstance(collector, pytest.Module):
        yield
        return
    before = set(sys.modules)
    opened: set[str] = set()
    _recorder.current = opened
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _recorder is None:
        yield
        return
    opened: set[str] = set()
    _recorder.current = opened
    _recorder.switch(item.nodeid)
    try:
        yield
    finally:
        # No switch back to "": the next test's switch ends this context, at half the cost.
        _recorder.current = None
        if opened:
            _recorder.opened_by_test[item.nodeid] = opened
        _recorder.locations[item.nodeid] = [str(item.path), item.location[1]]


def pytest_sessionfinish(session) -> None:
    if _recorder is not None:
        _recorder.save()
