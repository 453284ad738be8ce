"""The code a run ran, as git names it (``runs.git_revision``): the commit checked out, and when the
working tree differs from it, ``+`` and 8 hex digits of a digest of the uncommitted changes
(``1a2b3c4+9f8e7d6c``). Runs of one commit with different edits on top are then not runs of the
same code: the flaky list, which groups runs by this value, no longer counts a test broken by an
edit and fixed by undoing it as flaky.

The digest covers ``git diff HEAD`` (staged and unstaged changes to tracked files, by content) and
the untracked files git does not ignore, by name, size and modification time (not read: a tree
can hold many). Bytecode caches are left out.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

_TIMEOUT_S = 5


def head_revision(root: Path) -> str | None:
    """The short hash of the commit checked out in ``root``; None outside git."""
    done = _git(root, "rev-parse", "--short", "HEAD")
    revision = done.decode().strip() if done is not None else ""
    return revision or None


def local_changes(root: Path) -> str:
    """``+`` and a digest of the working tree's changes since ``HEAD``; "" when there are none
    (or git cannot tell)."""
    diff = _git(root, "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", "--no-textconv")
    listed = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    if diff is None or listed is None:
        return ""
    untracked = sorted(
        name for name in listed.decode(errors="surrogateescape").split("\0")
        if name and "__pycache__/" not in name and not name.endswith((".pyc", ".pyo"))
    )
    if not diff and not untracked:
        return ""
    digest = hashlib.sha256(diff)
    for name in untracked:
        try:
            info = os.stat(root / name)
        except OSError:
            continue
        digest.update(f"\0{name}\0{info.st_size}\0{info.st_mtime_ns}".encode(errors="surrogateescape"))
    return "+" + digest.hexdigest()[:8]


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
