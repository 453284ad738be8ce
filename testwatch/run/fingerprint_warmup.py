"""Fingerprints of the project's Python files, computed while the tests run.

Storing a recording needs each file's block hashes and line spans (``FileStates.get`` with
``need_spans``); parsing them after the run put the whole parse on the run's critical path. A
``Warmup`` parses them in a thread of its own while pytest runs in its own process, and hands
over what it parsed when the recording's ``finish`` begins: a file changed since is parsed
again there (its stat no longer matches), so nothing stale is used. A file whose content an
earlier recording parsed is not parsed again (``BlocksCache``, on disk beside the history). The
thread first imports the libraries storing needs, which the run's start leaves out.

With ``coverage`` on (line coverage), the files parsed anew are then parsed by coverage.py too,
for the run's coverage rows (``statement_parses``), with the project's coverage settings; a file
whose content an earlier recording saw has its row in that recording's cache instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from testwatch.collectors.in_testwatch.project_files import is_test_file, stat_key
from testwatch.measure.coverage_settings import CoverageSettings
from testwatch.measure.statement_parses import ParsedStatements, parse_statements
from testwatch.select.blocks_cache import BlocksCache
from testwatch.select.file_states import FileState


class Warmup:
    """Parses ``relatives`` (under ``root``) not already in ``known`` with the same stat."""

    def __init__(
        self, root: Path, relatives: list[str], known: dict[str, FileState], cache: BlocksCache,
        coverage: bool = False,
    ) -> None:
        self._root_text = str(root)
        self._cache = cache
        self._todo = [rel for rel in relatives if rel.endswith(".py")]
        self._known_keys = {rel: state.key for rel, state in known.items() if state.blocks is not None}
        self._parsed: dict[str, FileState] = {}
        self._coverage = coverage
        self.coverage_settings: CoverageSettings | None = None  # read by the thread, with coverage
        self.statements: dict[str, ParsedStatements] = {}  # coverage.py's parses, by relative path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._parse_all, name="testwatch-fingerprints", daemon=True)
        self._thread.start()

    def _parse_all(self) -> None:
        _import_what_storing_needs()
        new = []
        for relative in self._todo:
            if self._stop.is_set():
                return
            path = os.path.join(self._root_text, relative)
            key = stat_key(path)  # before the read: a write after it makes the key stale, not the parse
            if key is None or self._known_keys.get(relative) == key:
                continue
            try:
                sha, blocks, parsed_now = self._cache.file_blocks(relative, path)
            except OSError:
                continue
            self._parsed[relative] = FileState(sha, blocks.hashes, key, blocks)
            if parsed_now and not is_test_file(relative):
                new.append((relative, path, sha))
        if self._coverage and new:
            self._parse_statements(new)

    def _parse_statements(self, files: list[tuple[str, str, str]]) -> None:
        """coverage.py's parse of each (relative, path, content hash) its settings measure."""
        settings = self.coverage_settings = CoverageSettings(Path(self._root_text))
        for relative, path, sha in files:
            if self._stop.is_set():
                return
            if not settings.omitted(path):
                parsed = parse_statements(settings.coverage, path, sha)
                if parsed is not None:
                    self.statements[relative] = parsed

    @property
    def finished(self) -> bool:
        """Whether every file is parsed (or parsing was stopped)."""
        return not self._thread.is_alive()

    def collect(self) -> dict[str, FileState]:
        """Stop parsing (after the file under way) and return what was parsed."""
        self._stop.set()
        self._thread.join()
        return self._parsed


def _import_what_storing_needs() -> None:
    """Import sqlite-utils and coverage.py now, while the tests run: ``testwatch run`` leaves
    them out of its start so that its pytest starts sooner, and storing the recording needs them."""
    import coverage  # noqa: F401
    import sqlite_utils  # noqa: F401
