"""The project's static import graph: which project modules a test file can import, transitively.

Module names are matched loosely (``a.b.c`` is found as ``a/b/c.py`` from any folder, ``src/``
included), so a test file depends on every project file it might import: when in doubt, depend.
Together with the modules seen imported during collection, this is who a change to module-level
code (a constant, a default argument, a class attribute, an import) reruns when the change cannot
be followed name by name (``module_names.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import PurePosixPath

from testwatch.select.fingerprints import ImportStatement, imported_names


def module_names(relative: str) -> list[str]:
    """Every dotted name a project file could be imported as (``src/a/b.py`` -> a.b, b, ...)."""
    path = PurePosixPath(relative)
    parts = list(path.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return [".".join(parts[i:]) for i in range(len(parts))]


class ImportGraph:
    """Built from the project's Python files; ``imports`` gives a file's import statements (or None
    for an unreadable file), so a caller that parsed the file already shares that parse."""

    def __init__(
        self, python_files: list[str], imports: Callable[[str], list[ImportStatement] | None]
    ) -> None:
        self._imports = imports
        self._by_name: dict[str, set[str]] = {}
        for relative in python_files:
            for name in module_names(relative):
                self._by_name.setdefault(name, set()).add(relative)
        self._edges: dict[str, set[str]] = {}

    def imports_of(self, relative: str) -> set[str]:
        """Project files that ``relative`` imports directly, package ``__init__`` files included."""
        if relative in self._edges:
            return self._edges[relative]
        statements = self._imports(relative)
        targets: set[str] = set()
        if statements is not None:
            names = module_names(relative)
            own = names[0] if names else ""
            for name in imported_names(statements, own, relative.endswith("__init__.py")):
                parts = name.split(".")
                for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b too
                    targets |= self._by_name.get(".".join(parts[:i]), set())
        targets.discard(relative)
        self._edges[relative] = targets
        return targets

    def closure(self, start: set[str]) -> set[str]:
        """``start`` and every project file reachable by imports from it."""
        seen = set(start)
        queue = deque(start)
        while queue:
            for target in self.imports_of(queue.popleft()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen
