"""Per-test executed lines of project code with ``sys.monitoring`` (PEP 669, Python 3.12+).

The recorder used by ``deps_plugin`` where coverage.py cannot help: its own ``sys.monitoring``
core supports no per-test contexts, and its older tracer calls back on every line. Here only
project code objects get LINE events (set locally, found through the ``exec`` audit event that
runs every module body), from the monitor's creation on; each line's callback returns
``DISABLE``, so a line costs one callback per test (and one outside tests, for the lines run at
import), and ``restart_events()`` at each test's start arms every line again. Code outside the
project is never instrumented by this tool. Standard library only: it runs in the user's pytest.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from types import CodeType

# Ids no tool claims by convention (coverage.py takes COVERAGE_ID, debuggers DEBUGGER_ID).
_FREE_TOOL_IDS = (4, 3)
_TOOL_NAME = "testwatch"
# The file names coverage.py looks for when it lists a source tree's never-imported modules.
_IMPORTABLE = re.compile(r"^[^.#~!$@%^&*()+=,]+\.pyw?$")
OUTSIDE_TESTS = ""


def free_tool_id() -> int | None:
    """A ``sys.monitoring`` tool id nobody uses; None before 3.12 or when all are taken."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return None
    for tool_id in _FREE_TOOL_IDS:
        if monitoring.get_tool(tool_id) is None:
            return tool_id
    return None


class LineMonitor:
    """Executed lines per test of the files ``is_project(real_path)`` accepts."""

    def __init__(self, tool_id: int, is_project) -> None:
        self.tool_id = tool_id
        self._is_project = is_project
        self._real_paths: dict[str, str | None] = {}  # co_filename -> real path, None if not ours
        self._recording = True  # until stop(): the tool id is ours
        self.lines: dict[str, dict[str, set[int]]] = {}  # context -> real path -> lines
        self._current: defaultdict[str, set[int]] = self._context(OUTSIDE_TESTS)
        monitoring = sys.monitoring
        monitoring.use_tool_id(tool_id, _TOOL_NAME)
        monitoring.register_callback(tool_id, monitoring.events.LINE, self._on_line)

    def _context(self, name: str) -> defaultdict[str, set[int]]:
        lines = self.lines.get(name)
        if lines is None:
            lines = self.lines[name] = defaultdict(set)
        return lines

    def _on_line(self, code: CodeType, line: int):
        self._current[self._real_paths[code.co_filename]].add(line)
        return sys.monitoring.DISABLE

    def _project_path(self, filename: str) -> str | None:
        if filename not in self._real_paths:
            real = os.path.realpath(filename) if os.path.isabs(filename) else None
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
        events = sys.monitoring.events.LINE
        stack = [code]
        while stack:
            current = stack.pop()
            sys.monitoring.set_local_events(self.tool_id, current, events)
            stack.extend(c for c in current.co_consts if isinstance(c, CodeType))

    def switch(self, context: str) -> None:
        """Attribute the lines that run from now on to ``context`` (a test id, or ``""``)."""
        self._current = self._context(context)
        if context != OUTSIDE_TESTS:
            sys.monitoring.restart_events()

    def stop(self) -> None:
        """Stop recording and give the tool id back."""
        monitoring = sys.monitoring
        monitoring.register_callback(self.tool_id, monitoring.events.LINE, None)
        monitoring.free_tool_id(self.tool_id)
        self._recording = False

    def measured_files(self, root: str) -> list[str]:
        """Files with executed lines plus the never-imported modules under ``root`` (as coverage.py
        lists them: the root's own files and packages' files, not folders without ``__init__.py``)."""
        found = {path for lines in self.lines.values() for path in lines}
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
        """``files`` (measured files) and ``lines`` (context -> file index -> sorted lines)."""
        files = self.measured_files(root)
        index = {path: i for i, path in enumerate(files)}
        lines = {
            context: {str(index[path]): sorted(numbers) for path, numbers in by_file.items() if numbers}
            for context, by_file in self.lines.items()
        }
        return {"files": files, "lines": lines}
