"""Per-test executed code blocks, and the run's executed lines, with ``sys.monitoring`` (PEP 669,
Python 3.12+).

The recorder used by ``deps_plugin`` where coverage.py cannot help: its own ``sys.monitoring``
core supports no per-test contexts, and its older tracer calls back on every line. Only project
code objects are instrumented (set locally, found through the ``exec`` audit event that runs
every module body), from the monitor's creation on.

A test's dependencies are the code objects it started or resumed: ``PY_START``/``PY_RESUME``,
each returning ``DISABLE``, so a code object costs one callback per test, and the switch to the
next test arms them again. The callback only appends the code object to lists: a set would hash
it, and a code object's hash walks all its instructions and constants (nested functions too) on
every call, which cost more than the rest of the callback. A code object stands for its block by
one line of its own (the first after its ``def`` line), which the engine side maps to the
function body or ``<module>`` holding it, as it maps any executed line.

The run's coverage needs each line once per run, not once per test: each line's ``LINE``
callback returns ``DISABLE``, and the switch to the next test re-arms the start events only.
Code outside the project is never instrumented by this tool. Standard library only: it runs in
the user's pytest.

A module imported while a test runs reaches ``watch`` from inside the test's own frames (the
``exec`` audit event), so the path work it does there uses the ``os`` functions as they were when
this module loaded (``real_path``, ``absolute_path``): a tool that replaces ``os.stat`` or
``os.path.abspath`` for the test to catch blocking calls in an event loop (blockbuster, which
starlette's conftest turns on for every test) would otherwise blame the test for testwatch's
call and fail it.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections import defaultdict
from collections.abc import Iterable
from types import CodeType

# Ids no tool claims by convention (coverage.py takes COVERAGE_ID, debuggers DEBUGGER_ID).
_FREE_TOOL_IDS = (4, 3)
_TOOL_NAME = "testwatch"
# The file names coverage.py looks for when it lists a source tree's never-imported modules.
_IMPORTABLE = re.compile(r"^[^.#~!$@%^&*()+=,]+\.pyw?$")
OUTSIDE_TESTS = ""
_MAX_LINKS = 40  # symbolic links followed in one path, as Linux's limit
# Taken now, before any test can replace them (see the module docstring).
_getcwd, _lstat, _readlink, _normpath = os.getcwd, os.lstat, os.readlink, os.path.normpath
# Folders whose files are never the project's own code or data, wherever the project root is.
SKIPPED_PARTS = (
    f"{os.sep}.venv{os.sep}", f"{os.sep}venv{os.sep}", f"{os.sep}site-packages{os.sep}",
    f"{os.sep}.git{os.sep}", f"{os.sep}__pycache__{os.sep}", f"{os.sep}.tox{os.sep}",
    f"{os.sep}node_modules{os.sep}", f"{os.sep}.testwatch{os.sep}",
)


def free_tool_id() -> int | None:
    """A ``sys.monitoring`` tool id nobody uses; None before 3.12 or when all are taken."""
    found = free_tool_ids(1)
    return found[0] if found else None


def free_tool_ids(count: int) -> tuple[int, ...] | None:
    """``count`` ``sys.monitoring`` tool ids nobody uses; None before 3.12 or when fewer are free."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return None
    free = tuple(tool_id for tool_id in _FREE_TOOL_IDS if monitoring.get_tool(tool_id) is None)
    return free[:count] if len(free) >= count else None


def project_file_test(root: str):
    """``is_project(real_path)`` for the files under ``root`` outside ``SKIPPED_PARTS``."""
    real_root = os.path.realpath(root).rstrip(os.sep) + os.sep

    def is_project(real_path: str) -> bool:
        return real_path.startswith(real_root) and not any(part in real_path for part in SKIPPED_PARTS)

    return is_project


def absolute_path(path: str) -> str:
    """``os.path.abspath(path)`` with the ``os`` functions this module loaded with."""
    return _normpath(path if os.path.isabs(path) else os.path.join(_getcwd(), path))


def real_path(path: str) -> str:
    """``os.path.realpath(path)`` with the ``os`` functions this module loaded with: symbolic links
    resolved, a missing part kept as it is, a loop of links left unresolved."""
    joined = path if os.path.isabs(path) else os.path.join(_getcwd(), path)
    pending = [part for part in reversed(joined.split(os.sep)) if part and part != "."]
    resolved = ""
    links = 0
    while pending:
        part = pending.pop()
        if part == "..":
            resolved = resolved.rpartition(os.sep)[0]
            continue
        candidate = f"{resolved}{os.sep}{part}"
        try:
            is_link = stat.S_ISLNK(_lstat(candidate).st_mode)
        except OSError:
            is_link = False
        if not is_link:
            resolved = candidate
            continue
        links += 1
        if links > _MAX_LINKS:
            return absolute_path(path)
        target = _readlink(candidate)
        if os.path.isabs(target):
            resolved = ""
        pending.extend(part for part in reversed(target.split(os.sep)) if part and part != ".")
    return resolved or os.sep


def code_lines(code: CodeType) -> set[int]:
    """The lines of ``code``'s own instructions, without its ``def`` (or first decorator) line
    unless that line is all it has (``def f(): return 1``)."""
    lines = {line for _, _, line in code.co_lines() if line is not None}
    own = {line for line in lines if line > code.co_firstlineno}
    return own or lines


def block_line(code: CodeType) -> int:
    """One line that stands for ``code``'s block: its first line of its own."""
    return min(code_lines(code), default=code.co_firstlineno)


class LineMonitor:
    """Code objects started per test, and the executed lines of the run, for the files
    ``is_project(real_path)`` accepts."""

    def __init__(self, tool_ids: tuple[int, int], is_project) -> None:
        self.start_tool, self.line_tool = tool_ids
        self._is_project = is_project
        self._real_paths: dict[str, str | None] = {}  # co_filename -> real path, None if not ours
        self._recording = True  # until stop(): the tool id is ours
        # context -> code objects started in it, in order; one may repeat (a generator's resumes)
        self.started: dict[str, list[CodeType]] = {}
        self._current: list[CodeType] = self._context(OUTSIDE_TESTS)
        self.lines: defaultdict[str, set[int]] = defaultdict(set)  # real path -> lines run
        self._disabled: list[CodeType] = []  # code objects started since the last re-arming
        monitoring = sys.monitoring
        events = monitoring.events
        self._start_events = events.PY_START | events.PY_RESUME
        monitoring.use_tool_id(self.start_tool, _TOOL_NAME)
        monitoring.use_tool_id(self.line_tool, f"{_TOOL_NAME} lines")
        monitoring.register_callback(self.start_tool, events.PY_START, self._on_start)
        monitoring.register_callback(self.start_tool, events.PY_RESUME, self._on_start)
        monitoring.register_callback(self.line_tool, events.LINE, self._on_line)

    def _context(self, name: str) -> list[CodeType]:
        started = self.started.get(name)
        if started is None:
            started = self.started[name] = []
        return started

    def _on_start(self, code: CodeType, offset: int):
        self._current.append(code)
        self._disabled.append(code)
        return sys.monitoring.DISABLE

    def _on_line(self, code: CodeType, line: int):
        self.lines[self._real_paths[code.co_filename]].add(line)
        return sys.monitoring.DISABLE

    def _project_path(self, filename: str) -> str | None:
        if filename not in self._real_paths:
            real = real_path(filename) if os.path.isabs(filename) else None
            self._real_paths[filename] = real if real is not None and self._is_project(real) else None
        return self._real_paths[filename]

    def watch(self, code: CodeType) -> None:
        """Monitor ``code`` (a module body about to run) and the functions and classes in it."""
        if self._recording and self._project_path(code.co_filename) is not None:
            self._arm(code)

    def watch_loaded(self, modules) -> None:
        """Monitor the functions of project modules imported before the monitor existed."""
        for module in list(modules):
            for value in list(getattr(module, "__dict__", {}).values()):
                members = [value, *vars(value).values()] if isinstance(value, type) else [value]
                for member in members:
                    member = getattr(member, "fget", None) or getattr(member, "__func__", member)
                    code = getattr(member, "__code__", None)
                    if isinstance(code, CodeType):
                        self.watch(code)

    def _arm(self, code: CodeType) -> None:
        monitoring = sys.monitoring
        stack = [code]
        while stack:
            current = stack.pop()
            monitoring.set_local_events(self.start_tool, current, self._start_events)
            monitoring.set_local_events(self.line_tool, current, monitoring.events.LINE)
            stack.extend(c for c in current.co_consts if isinstance(c, CodeType))

    def switch(self, context: str) -> None:
        """Attribute the code that starts from now on to ``context`` (a test id, or ``""``)."""
        self._current = self._context(context)
        if context == OUTSIDE_TESTS:
            return
        # Arm the starts disabled since the last switch again, for this tool only: its local
        # events off and on (``restart_events`` would re-arm every line of the line tool too).
        set_local_events = sys.monitoring.set_local_events
        for code in self._disabled:
            set_local_events(self.start_tool, code, 0)
            set_local_events(self.start_tool, code, self._start_events)
        self._disabled = []

    def stop(self) -> None:
        """Stop recording and give the tool ids back."""
        monitoring = sys.monitoring
        for event in (monitoring.events.PY_START, monitoring.events.PY_RESUME):
            monitoring.register_callback(self.start_tool, event, None)
        monitoring.register_callback(self.line_tool, monitoring.events.LINE, None)
        monitoring.free_tool_id(self.start_tool)
        monitoring.free_tool_id(self.line_tool)
        self._recording = False

    def measured_files(self, root: str) -> list[str]:
        """Files with executed lines plus the never-imported modules under ``root`` (as coverage.py
        lists them: the root's own files and packages' files, not folders without ``__init__.py``)."""
        found = set(self.lines)
        for folder, dirnames, filenames in os.walk(root):
            if folder != root and "__init__.py" not in filenames:
                dirnames[:] = []
                continue
            for name in filenames:
                path = os.path.join(folder, name)
                if _IMPORTABLE.match(name) and self._is_project(path):
                    found.add(path)
            dirnames[:] = [d for d in dirnames if self._is_project(os.path.join(folder, d) + os.sep)]
        return sorted(found)

    def serialisable(self, root: str) -> dict:
        """``files`` (measured files) and ``lines`` (context -> file index -> sorted lines): a
        test's (or fixture setup's) lines are its blocks' lines (``block_line``); the lines run
        anywhere in the run go under ``""``."""
        recorded = block_lines(self.started, self._is_project, self.measured_files(root))
        index = {path: i for i, path in enumerate(recorded["files"])}
        run_lines = recorded["lines"].setdefault(OUTSIDE_TESTS, {})
        for path, numbers in self.lines.items():
            file_index = str(index[path])
            run_lines[file_index] = sorted(numbers.union(run_lines.get(file_index, ())))
        return recorded


def block_lines(
    started: dict[str, Iterable[CodeType]], is_project, files: list[str] | None = None
) -> dict:
    """The code objects started per context as ``files`` and ``lines`` (context -> file index ->
    the ``block_line`` of each), project files only; ``files`` lists more files to measure."""
    real_paths: dict[str, str | None] = {}
    # By where the code starts, not by the code object: its hash is costly (see the module doc)
    # and ``id()`` is an audit event. Code objects that share a file, first line and name lie
    # in one block (two lambdas on one line), so they share its line too.
    block_of: dict[tuple[str, int, str], tuple[str, int] | None] = {}
    by_context: dict[str, defaultdict[str, set[int]]] = {}
    for context, codes in started.items():
        by_file = by_context[context] = defaultdict(set)
        for code in codes:
            key = (code.co_filename, code.co_firstlineno, code.co_name)
            if key not in block_of:
                filename = code.co_filename
                if filename not in real_paths:
                    real = os.path.realpath(filename) if os.path.isabs(filename) else None
                    real_paths[filename] = real if real is not None and is_project(real) else None
                path = real_paths[filename]
                block_of[key] = None if path is None else (path, block_line(code))
            block = block_of[key]
            if block is not None:
                by_file[block[0]].add(block[1])
    found = sorted({*(files or ()), *(path for by_file in by_context.values() for path in by_file)})
    index = {path: str(i) for i, path in enumerate(found)}
    lines = {
        context: {index[path]: sorted(numbers) for path, numbers in by_file.items()}
        for context, by_file in by_context.items()
    }
    return {"files": found, "lines": lines}
