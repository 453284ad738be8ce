"""The current fingerprint of each project file, read or parsed only when its stat changed.

Backed by the history's ``file_state`` table (hash, block hashes, size and mtime when a test run
last recorded the file) and an in-memory cache, so a selection over a big project re-hashes only
the files that were touched.

A ``FileStates`` belongs to one thread: it reads through the connection it was given, which is
that thread's. What another thread learned comes as a frozen mapping of ``FileState`` (which are
frozen too) and is taken over with ``adopt``.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from testwatch.collectors.in_testwatch.project_files import stat_key
from testwatch.select.fingerprints import PythonBlocks, file_blocks

ENVIRONMENT_PATH = "<environment>"


@dataclass(frozen=True)
class FileState:
    """One file's fingerprint: its content hash and, for Python, its block hashes."""

    sha: str
    _hashes: dict[str, str] | str | None  # or file_state's JSON text of them, parsed on first use
    key: tuple[int, int] | None = None
    blocks: PythonBlocks | None = None  # line spans, only when parsed in this process

    @functools.cached_property
    def hashes(self) -> dict[str, str]:
        """Block name -> hash (empty for a non-Python file)."""
        if isinstance(self._hashes, dict):
            return self._hashes
        return json.loads(self._hashes) if self._hashes else {}


class Connected(Protocol):
    """Holds a SQLite connection of the calling thread (a ``History``, a sqlite-utils Database)."""

    conn: sqlite3.Connection


class FileStates:
    """Fingerprints of files under ``root``; ``get`` returns None for a missing file.

    ``parsed`` is a cache of parsed files to start from (one this object's owner keeps across
    instances); the stored states are read through ``source.conn``.
    """

    def __init__(self, root: Path, source: Connected, parsed: dict[str, FileState] | None = None) -> None:
        self.root = root
        self._root_text = str(root)  # os.path.join on text: cheaper than Path for thousands of stats
        self.source = source
        self._cache: dict[str, FileState] = {} if parsed is None else parsed
        self._stored: dict[str, FileState] | None = None

    def stored(self) -> dict[str, FileState]:
        """What the history recorded for each file (loaded once)."""
        if self._stored is None:
            self._stored = {}
            sql = "select path, sha, blocks, size_bytes, mtime_ns from file_state"
            try:
                for path, sha, blocks, size_bytes, mtime_ns in self.source.conn.execute(sql):
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

    def adopt(self, recorded: Mapping[str, FileState]) -> None:
        """After recording (in another thread): the history now holds these states."""
        self.stored().update(recorded)
