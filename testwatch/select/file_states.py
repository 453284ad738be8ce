"""The current fingerprint of each project file, read or parsed only when its stat changed.

Backed by the history's ``file_state`` table (hash, block hashes, size and mtime when a test run
last recorded the file) and an in-memory cache, so a selection over a big project re-hashes only
the files that were touched.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from testwatch.collectors.in_testwatch.project_files import stat_key
from testwatch.history.store import History
from testwatch.select.fingerprints import PythonBlocks, file_blocks

ENVIRONMENT_PATH = "<environment>"


@dataclass
class FileState:
    """One file's fingerprint: its content hash and, for Python, its block hashes."""

    sha: str
    _hashes: dict[str, str] | str | None  # or file_state's JSON text of them, parsed on first use
    key: tuple[int, int] | None = None
    blocks: PythonBlocks | None = None  # line spans, only when parsed in this process

    @property
    def hashes(self) -> dict[str, str]:
        """Block name -> hash (empty for a non-Python file)."""
        if not isinstance(self._hashes, dict):
            self._hashes = json.loads(self._hashes) if self._hashes else {}
        return self._hashes


class FileStates:
    """Fingerprints of files under ``root``; ``get`` returns None for a missing file."""

    def __init__(self, root: Path, history: History) -> None:
        self.root = root
        self._root_text = str(root)  # os.path.join on text: cheaper than Path for thousands of stats
        self.history = history
        self._cache: dict[str, FileState] = {}
        self._stored: dict[str, FileState] | None = None

    def stored(self) -> dict[str, FileState]:
        """What the history recorded for each file (loaded once)."""
        if self._stored is None:
            self._stored = {}
            sql = "select path, sha, blocks, size_bytes, mtime_ns from file_state"
            try:
                for path, sha, blocks, size_bytes, mtime_ns in self.history.conn.execute(sql):
                    key = (size_bytes, mtime_ns) if mtime_ns else None
                    self._stored[path] = FileState(sha, blocks, key)
            except sqlite3.Error:
                pass
        return self._stored

    def reload_stored(self) -> None:
        """Read ``file_state`` again on next use (another process may have recorded)."""
        self._stored = None

    def get(self, relative: str, need_spans: bool = False) -> FileState | None:
        """The file's fingerprint now; with ``need_spans`` a Python file is parsed for line spans."""
        path = os.path.join(self._root_text, relative)
        key = stat_key(path)
        if key is None:
            return None
        cached = self._cache.get(relative)
        if cached is not None and cached.key == key and (cached.blocks or not need_spans):
            return cached
        stored = self.stored().get(relative)
        if stored is not None and stored.key == key and not need_spans:
            return stored
        earlier = cached or stored  # its block hashes are reused if the content is the same
        try:
            sha, blocks = file_blocks(Path(path), (earlier.sha, earlier.hashes) if earlier else None)
        except OSError:
            return None
        state = FileState(sha, blocks.hashes if blocks else {}, key, blocks)
        self._cache[relative] = state
        return state

    def remember(self, relative: str, state: FileState) -> None:
        """After recording: the history now holds ``state`` for this file."""
        self.stored()[relative] = state
