"""Opening a failure in the user's editor: where it failed, and the editor's argument list."""

from __future__ import annotations

import shlex
from pathlib import Path

from testwatch.model.failure_text import locations
from testwatch.tui.state import TestRow

FALLBACK_EDITOR = "vi"


def failure_location(row: TestRow, root: Path) -> tuple[Path, int | None]:
    """The deepest file:line of the traceback inside the project, else the test's own line."""
    if row.result is not None:
        for at in reversed(locations(row.result.longrepr)):
            path = (root / at.path).resolve()
            if path.is_file() and path.is_relative_to(root.resolve()):
                return path, at.lineno
    lineno = row.result.lineno if row.result is not None else None
    return (root / row.file).resolve(), lineno


def editor_argv(editor: str | None, path: Path, line: int | None) -> list[str]:
    """``$EDITOR`` (which may hold options, e.g. ``code -w``) plus the file; ``+LINE`` where known."""
    argv = shlex.split(editor or "") or [FALLBACK_EDITOR]
    name = Path(argv[0]).name
    if line is None:
        return [*argv, str(path)]
    if name in ("code", "code-insiders", "codium"):
        return [*argv, "--goto", f"{path}:{line}"]
    if name in ("subl", "zed"):
        return [*argv, f"{path}:{line}"]
    return [*argv, f"+{line}", str(path)]
