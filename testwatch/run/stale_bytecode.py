"""Remove the project's compiled bytecode that is older than its source yet still taken for it.

Python reuses ``__pycache__/NAME.<tag>.pyc`` while the source's mtime in whole seconds and its
size are the ones recorded in the file's header; pytest 8 does the same for a test file's
assertion-rewritten ``NAME.<tag>-pytest-<version>.pyc`` (pytest 9 checks it by hash). An edit
that keeps a file's size within the second its previous version was compiled in (one character
fixed and saved again, five quick saves of ``VALUE = 11`` to ``VALUE = 15``, a formatter
rewriting on save) leaves a file that still matches, and the tests run the code that was
replaced: a test passes or fails for code that is gone. A ``.pyc`` written before its source last
changed cannot hold that change, so when its header still matches the source it is removed
before a pytest child imports the project, and Python compiles the source anew. Hash-based
``.pyc`` files (PEP 552) are checked by Python against the source's content, or left unchecked
by the project's choice: they are kept. With ``PYTHONPYCACHEPREFIX`` set, Python writes them
under that folder, in a mirror of each source folder's absolute path: those are swept too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from testwatch.collectors.in_testwatch.project_files import IgnoreRules

CACHE_FOLDER = "__pycache__"
_HEADER_BYTES = 16  # magic, flags, source mtime, source size: 4 bytes each, little-endian
_HASH_BASED = 0b1  # the flags bit of a hash-based .pyc


def remove_stale_bytecode(rules: IgnoreRules, environ: Mapping[str, str] = os.environ) -> int:
    """Remove every stale ``.pyc`` of the project's folders; returns how many were removed.
    Folders the rules leave out of the project (virtualenvs, build output) are not visited.
    ``environ`` is the child's: its ``PYTHONPYCACHEPREFIX``, if any, is where its ``.pyc`` go."""
    prefix = pycache_prefix(environ, str(rules.root))
    removed = 0
    for folder, entries in rules.folders():
        for entry in entries:
            if entry.name == CACHE_FOLDER and entry.is_dir(follow_symlinks=False):
                removed += _remove_stale_in(folder, entry.path)
        if prefix is not None:
            removed += _remove_stale_in(folder, os.path.join(prefix, folder.lstrip(os.sep)))
    return removed


def pycache_prefix(environ: Mapping[str, str], cwd: str) -> str | None:
    """The folder a Python started with ``environ`` in ``cwd`` writes its ``.pyc`` files under
    (``sys.pycache_prefix``), or None when it writes them to ``__pycache__`` folders."""
    prefix = environ.get("PYTHONPYCACHEPREFIX")
    return os.path.join(cwd, prefix) if prefix else None


def _remove_stale_in(folder: str, cache: str) -> int:
    removed = 0
    try:
        entries = list(os.scandir(cache))
    except OSError:
        return 0
    sources: dict[str, os.stat_result | None] = {}  # a source has a .pyc per Python version
    for entry in entries:
        if not entry.name.endswith(".pyc"):
            continue
        source = _source_name(entry.name)
        if source not in sources:
            try:
                sources[source] = os.stat(os.path.join(folder, source))
            except OSError:  # no source beside it: Python imports no .pyc from __pycache__ alone
                sources[source] = None
        source_stat = sources[source]
        if source_stat is not None and is_stale(entry.path, source_stat):
            try:
                os.remove(entry.path)
                removed += 1
            except OSError:  # gone already, or a read-only tree: Python's own check is all there is
                pass
    return removed


def _source_name(pyc_name: str) -> str:
    """``shop.cpython-312.pyc``, ``shop.cpython-312.opt-1.pyc`` or
    ``test_shop.cpython-312-pytest-9.2.0.pyc`` -> ``shop.py`` / ``test_shop.py``."""
    return pyc_name.partition(".")[0] + ".py"


def is_stale(pyc: str, source_stat: os.stat_result) -> bool:
    """True when ``pyc`` was written before its source (``source_stat``) last changed and its
    header still matches the source's mtime (in seconds) and size: Python would run it instead
    of the source."""
    try:
        if os.stat(pyc).st_mtime_ns > source_stat.st_mtime_ns:
            return False
        with open(pyc, "rb") as f:
            header = f.read(_HEADER_BYTES)
    except OSError:
        return False
    if len(header) < _HEADER_BYTES or int.from_bytes(header[4:8], "little") & _HASH_BASED:
        return False
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    return mtime == int(source_stat.st_mtime) & 0xFFFFFFFF and size == source_stat.st_size & 0xFFFFFFFF
