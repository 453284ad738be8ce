"""What the warm start checks: which modules a project imports, and whether its dependency files,
installed packages or imported module files changed since the warm process imported them."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

# Files whose change means the installed dependencies or the test configuration may differ.
DEPENDENCY_GLOBS = (
    "pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini", "requirements*.txt",
    "requirements/*.txt", "constraints*.txt", "*.lock", "Pipfile", "environment.y*ml",
)
_SKIP_DIRS = {".git", ".hg", ".tox", ".nox", "node_modules", "__pycache__", "build", "dist"}
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+([\w \t,]+)|import[ \t]+([\w., \t]+))",
                     re.MULTILINE)
_MAX_SCANNED_FILES = 5000


def import_candidates(root: Path, skip: list[Path]) -> list[str]:
    """Module names the project's Python files import (``a``, ``a.b``), its own ones included:
    the warm process keeps only those it finds installed."""
    names: set[str] = set()
    scanned = 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [
            d for d in dirs
            if d not in _SKIP_DIRS and not d.startswith(".") and not (here / d / "pyvenv.cfg").exists()
            and here / d not in skip
        ]
        for name in files:
            if not name.endswith(".py") or scanned >= _MAX_SCANNED_FILES:
                continue
            scanned += 1
            with contextlib.suppress(OSError, UnicodeDecodeError):
                names |= _imported_names((here / name).read_text(encoding="utf-8"))
    return sorted(names)


def _imported_names(source: str) -> set[str]:
    names = set()
    for base, members, plain in _IMPORT.findall(source):
        if base:
            names.add(base)
            names |= {f"{base}.{m.strip()}" for m in members.split(",") if m.strip().isidentifier()}
        else:
            names |= {part.split()[0] for part in plain.split(",") if part.strip()}
    return names


def package_folders(module_files: list[str]) -> list[str]:
    """The ``site-packages``/``dist-packages`` folders holding any of ``module_files``: installing,
    upgrading or removing a package (its ``*.dist-info``, a ``.pth``) changes their mtime."""
    folders = set()
    for path in module_files:
        parts = Path(path).parts
        for marker in ("site-packages", "dist-packages"):
            if marker in parts:
                folders.add(str(Path(*parts[: parts.index(marker) + 1])))
    return sorted(folders)


def dependency_state(root: Path, extra_files: list[str]) -> dict[str, tuple[int, int] | None]:
    """(mtime_ns, size) of every dependency file and of ``extra_files``; None for a missing one."""
    paths = {str(p) for pattern in DEPENDENCY_GLOBS for p in root.glob(pattern)}
    paths |= set(extra_files)
    state = {}
    for path in sorted(paths):
        try:
            st = os.stat(path)
            state[path] = (st.st_mtime_ns, st.st_size)
        except OSError:
            state[path] = None
    return state


def changed_file(before: dict, after: dict) -> str | None:
    """The first path whose state differs between two ``dependency_state`` results."""
    for path in sorted(before.keys() | after.keys()):
        if before.get(path) != after.get(path):
            return path
    return None
