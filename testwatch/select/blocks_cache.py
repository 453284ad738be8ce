"""The block hashes, line spans and imports of the project's Python files (``PythonBlocks``), kept
beside the history by content hash (``file-blocks.json``), so that recording a run parses only the
files whose content changed since an earlier recording, in this process or another.

Parsing every Python file for its blocks is most of what a ``testwatch run --deps`` spends beside
the tests on a project it recorded before; a file with the same content has the same blocks.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from testwatch.select import fingerprints
from testwatch.select.content_cache import MISSING, ContentCache, code_version
from testwatch.select.content_hashes import content_hash
from testwatch.select.fingerprints import ImportStatement, PythonBlocks, python_blocks

CACHE_NAME = "file-blocks.json"


def blocks_to_json(blocks: PythonBlocks) -> dict:
    """``blocks`` as plain JSON values (``blocks_from_json`` gives them back)."""
    return {
        "hashes": blocks.hashes,
        "spans": [list(span) for span in blocks.spans],
        "defs": [[line, name] for line, name in blocks.defs.items()],
        "imports": [[list(i.names), i.from_module, i.level] for i in blocks.imports],
    }


def blocks_from_json(data: dict) -> PythonBlocks:
    """The blocks ``blocks_to_json`` wrote; raises KeyError, TypeError or ValueError on other data."""
    return PythonBlocks(
        dict(data["hashes"]),
        [(int(start), int(end), str(name)) for start, end, name in data["spans"]],
        {int(line): str(name) for line, name in data["defs"]},
        [ImportStatement(tuple(names), module, int(level)) for names, module, level in data["imports"]],
    )


class BlocksCache:
    """Parsed blocks of a project's Python files by content hash; ``path`` None: in memory only."""

    def __init__(self, path: Path | None, root: Path | None = None) -> None:
        version = functools.partial(code_version, [fingerprints, sys.modules[__name__]])
        self._entries = ContentCache(path, version, root)

    def file_blocks(self, relative: str, path: str) -> tuple[str, PythonBlocks, bool]:
        """(content hash, blocks, whether they were parsed now rather than found) of the Python
        file at ``path``; raises OSError if unreadable."""
        data = Path(path).read_bytes()
        sha = content_hash(data)
        stored = self._entries.get(relative, sha)
        if stored is not MISSING:
            try:
                return sha, blocks_from_json(stored), False
            except (KeyError, TypeError, ValueError):  # written by hand, or damaged: parse again
                pass
        blocks = python_blocks(data)
        self._entries.put(relative, sha, blocks_to_json(blocks))
        return sha, blocks, True

    def save(self) -> None:
        self._entries.save()
