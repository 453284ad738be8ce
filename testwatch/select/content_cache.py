"""What testwatch computed from a project file's content, kept on disk beside the history by
content hash, so that a later process computes it again only for the files whose content changed.

One JSON file per kind of entry (``module-facts.json``, ``file-blocks.json``, ...): one entry per
project file, its content key (a content hash, or a hash plus what else the entry depends on)
and its value as plain JSON. The file is tied to the code that computes the values and to the
Python version: when either differs it is ignored and rewritten. A cache that cannot be read or
written costs a computation, never a wrong answer. Entries of files no longer in the project are
dropped when the cache is next written.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from types import ModuleType

from testwatch.history.output_files import written_whole
from testwatch.select.content_hashes import content_hash

MISSING = object()  # what ``ContentCache.get`` returns for a file it holds nothing of


def code_version(modules: list[ModuleType], *extra: str) -> str:
    """Changes with the source of ``modules``, with ``extra`` and with the Python version."""
    parts = [sys.version.encode(), *(text.encode() for text in extra)]
    for module in modules:
        with contextlib.suppress(OSError, TypeError):
            parts.append(Path(module.__file__).read_bytes())
    return content_hash(b"\0".join(parts))


class ContentCache:
    """JSON values of a project's files by content key; ``path`` None keeps them in memory.

    ``version`` is computed on first use (it reads source files): pass a function giving it.
    ``root``: the project the relative paths are of; its deleted files' entries are not written.
    """

    def __init__(self, path: Path | None, version, root: Path | None = None) -> None:
        self.path = path
        self.root = root
        self._version_of = version
        self._entries: dict[str, tuple[str, object]] | None = None  # file -> (key, JSON value)
        self._dirty = False
        self._version = ""

    def get(self, relative: str, key: str) -> object:
        """The value stored for this content key of ``relative``; ``MISSING`` when there is none."""
        entry = self._load().get(relative)
        return MISSING if entry is None or entry[0] != key else entry[1]

    def put(self, relative: str, key: str, value: object) -> None:
        self._load()[relative] = (key, value)
        self._dirty = True

    def save(self) -> None:
        """Write the entries if any changed; a folder that cannot take the file is left alone."""
        if not self._dirty or self.path is None or not self.path.parent.is_dir():
            return
        entries = self._load()
        if self.root is not None:
            for relative in [rel for rel in entries if not (self.root / rel).is_file()]:
                del entries[relative]
        files = {relative: list(entry) for relative, entry in entries.items()}
        record = {"version": self._version, "files": files}
        with contextlib.suppress(OSError), written_whole(self.path) as out:
            out.write(json.dumps(record, separators=(",", ":")))  # one string: C's encoder, not Python's
        self._dirty = False

    def _load(self) -> dict[str, tuple[str, object]]:
        if self._entries is None:
            self._version = self._version_of()
            self._entries = {}
            if self.path is not None:
                with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                    record = json.loads(self.path.read_bytes())
                    if record.get("version") == self._version:
                        self._entries = {rel: (key, value) for rel, (key, value) in record["files"].items()}
        return self._entries
