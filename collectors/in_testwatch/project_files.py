"""Which files belong to the project: the ignore rules shared by the watcher and the selection.

Never the project's: virtualenvs, ``node_modules``, VCS folders, build output, caches, the history
file, ``.gitignore``d paths (the root ``.gitignore``; a ``!`` pattern un-ignores, so when in
doubt a path is watched) and the config's extra ``ignore`` globs.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path

IGNORED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "build", "dist",
    "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".testwatch",
    ".eggs", "htmlcov", ".idea", ".vscode",
})
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", ".tmp", "~", ".egg-info", ".orig")
PROBE_NAME = ".testwatch-probe"


def _read_gitignore(root: Path) -> tuple[list[str], list[str]]:
    try:
        lines = (root / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return [], []
    patterns, negated = [], []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        (negated if line.startswith("!") else patterns).append(line.lstrip("!").rstrip("/"))
    return patterns, negated


def _matches(relative: str, pattern: str) -> bool:
    if "/" in pattern.strip("/"):
        pattern = pattern.lstrip("/")
        return fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, f"{pattern}/*")
    parts = relative.split("/")
    return any(fnmatch.fnmatch(part, pattern.lstrip("/")) for part in parts)


class IgnoreRules:
    """Decides whether a path under ``root`` is part of the project."""

    def __init__(self, root: Path, extra_globs: list[str] = (), history_path: Path | None = None):
        self.root = root.resolve()
        self.extra_globs = list(extra_globs)
        # The history file and its -wal/-shm/-journal companions (wherever --db put them).
        self.history_path = history_path.resolve() if history_path else None
        self.gitignore, self.unignored = _read_gitignore(self.root)

    def relative(self, path: str | Path) -> str | None:
        """The path relative to the root with ``/`` separators, or None if outside it."""
        try:
            return Path(os.path.abspath(path)).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def ignored(self, path: str | Path) -> bool:
        """True for paths outside the root or matched by any ignore rule."""
        relative = self.relative(path)
        if relative is None or relative == ".":
            return relative is None
        absolute = self.root / relative
        history = self.history_path
        if history and absolute.parent == history.parent and absolute.name.startswith(history.name):
            return True
        parts = relative.split("/")
        if any(part in IGNORED_DIRS or part.endswith(".egg-info") for part in parts):
            return True
        if parts[-1] == PROBE_NAME or parts[-1].endswith(IGNORED_SUFFIXES):
            return True
        if any(_matches(relative, glob) for glob in self.extra_globs):
            return True
        if any(_matches(relative, pattern) for pattern in self.gitignore):
            return not any(_matches(relative, pattern) for pattern in self.unignored)
        return False

    def folders(self, top: Path | None = None) -> Iterator[tuple[str, list[os.DirEntry]]]:
        """Every project folder under ``top`` (default: the root), with all its entries (the
        ignored ones too); symlinked folders are not followed."""
        stack = [str(top or self.root)]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            yield folder, entries
            stack.extend(
                entry.path for entry in entries
                if entry.is_dir(follow_symlinks=False) and not self.ignored(entry.path)
            )

    def walk(self, top: Path | None = None) -> Iterator[Path]:
        """Every project file under ``top`` (default: the root)."""
        for _, entries in self.folders(top):
            for entry in entries:
                is_file = not entry.is_dir(follow_symlinks=False) and entry.is_file()
                if is_file and not self.ignored(entry.path):
                    yield Path(entry.path)


def stat_key(path: Path | str) -> tuple[int, int] | None:
    """(size, mtime in ns) of a file, or None when it is gone: a cheap "did it change" key."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def snapshot(rules: IgnoreRules) -> dict[str, tuple[int, int]]:
    """Relative path -> stat key of every project file."""
    result = {}
    for path in rules.walk():
        key = stat_key(path)
        if key is not None:
            result[path.relative_to(rules.root).as_posix()] = key
    return result


_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


def is_test_file(relative: str) -> bool:
    """pytest's default test file names, and conftest.py."""
    return bool(_TEST_FILE.search(relative))
