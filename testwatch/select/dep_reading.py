"""Reads what ``collectors/in_pytest/deps_plugin.py`` left in a run's side folder: one JSON record per pytest
process (the child, or each pytest-xdist worker), holding the executed lines when
``collectors/in_pytest/line_monitor.py`` recorded them, else beside one coverage.py data file.

A coverage.py data file with a context per test is read with SQL (its schema and its ``numbits``
are documented by coverage.py): each distinct set of lines is decoded once, where coverage.py's
own per-line view (``contexts_by_lineno``) decodes every test's lines of every file and costs
more than the rest of storing a recording. Branch data (arcs) is read through coverage.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from testwatch.collectors.in_testwatch.project_files import IgnoreRules

if TYPE_CHECKING:
    from coverage import CoverageData


@dataclass
class ChildRecord:
    """One pytest process's record: tests run (with their def location), files opened (by test,
    or by a higher-scoped fixture's setup context), imports, and the fixture setups each test used."""

    locations: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    opened: dict[str, list[str]] = field(default_factory=dict)
    collected: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    error: str = ""
    fixtures: dict[str, list[str]] = field(default_factory=dict)  # test -> fixture setup contexts
    first_read: dict[str, str] = field(default_factory=dict)  # opened file -> hash at its first open
    rootdir: str = ""  # pytest's rootdir, which the node ids are relative to ("": none recorded)
    unrecorded: dict[str, str] = field(default_factory=dict)  # context -> Python it started unseen


class RunCoverage:
    """The executed lines of every process of a run, merged: ``data`` (coverage.py's, for the
    coverage figures) and ``test_lines`` (test id -> file -> lines), from the line monitor or a
    coverage.py data file of lines; with branch data, ``data`` keeps a test's lines under the
    test's context instead."""

    def __init__(self, data: CoverageData, test_lines: dict[str, dict[str, set[int]]] | None = None):
        self.data = data
        self.test_lines = test_lines or {}
        self._by_lineno: dict[str, dict[int, list[str]]] = {}  # coverage.py's contexts, read once

    def _contexts_by_lineno(self, measured: str) -> dict[int, list[str]]:
        if measured not in self._by_lineno:
            self._by_lineno[measured] = self.data.contexts_by_lineno(measured)
        return self._by_lineno[measured]

    def _has_test_contexts(self) -> bool:
        """True when ``data`` holds lines by test (branch data, read through coverage.py)."""
        return any(self.data.measured_contexts())

    def executed_lines(self) -> CoverageData:
        """The run's executed lines (arcs, with branch data) without their contexts: what the
        coverage figures need. (Asking ``data`` per file would union every test's lines of it again.)"""
        if not self._has_test_contexts():
            return self.data
        from coverage import CoverageData

        merged = CoverageData(no_disk=True)
        measured = self.data.measured_files()
        if self.data.has_arcs():
            arcs = {f: found for f in measured if (found := self.data.arcs(f))}
            if arcs:  # coverage.py touches files only once it holds arcs
                merged.add_arcs(arcs)
                merged.touch_files(measured)
            return merged
        executed = {f: lines for f in measured if (lines := self._contexts_by_lineno(f).keys())}
        if executed:  # coverage.py touches files only once it holds lines
            merged.add_lines(executed)
            merged.touch_files(measured)
        return merged

    def add_monitored(self, recorded: dict) -> None:
        """Merge one process's line-monitor record (``files`` and ``lines`` by context)."""
        files = recorded["files"]
        union: dict[str, set[int]] = {}
        for context, by_index in recorded["lines"].items():
            for index, numbers in by_index.items():
                path = files[int(index)]
                union.setdefault(path, set()).update(numbers)
                if context:
                    self.test_lines.setdefault(context, {}).setdefault(path, set()).update(numbers)
        self.data.add_lines(union)
        if union:  # coverage.py touches files only once it holds lines
            self.data.touch_files(files)

    def project_files(self, rules: IgnoreRules) -> list[str]:
        return [f for f in self.data.measured_files() if not rules.ignored(f)]

    def lines_by_test(self, rules: IgnoreRules) -> dict[str, dict[str, set[int]]]:
        """nodeid -> project file -> lines it executed (lines run outside any test are left out)."""
        result: dict[str, dict[str, set[int]]] = {}
        relative_of: dict[str, str | None] = {}  # one path computation per file, not per test
        for nodeid, by_file in self.test_lines.items():
            for measured, numbers in by_file.items():
                if measured not in relative_of:
                    relative_of[measured] = None if rules.ignored(measured) else rules.relative(measured)
                if relative := relative_of[measured]:
                    result.setdefault(nodeid, {}).setdefault(relative, set()).update(numbers)
        for measured in self.project_files(rules) if self._has_test_contexts() else ():
            relative = rules.relative(measured)
            for lineno, contexts in self._contexts_by_lineno(measured).items():
                for context in contexts:
                    if context:
                        result.setdefault(context, {}).setdefault(relative, set()).add(lineno)
        return result


def lost_records(out_dir: Path) -> int:
    """How many pytest processes ran tests but ended before writing their record (``ran.<pid>``
    without ``deps.<pid>.json``): what their tests executed is not in the run's record."""
    return sum(
        1 for marker in out_dir.glob("ran.*") if not (out_dir / f"deps.{marker.suffix[1:]}.json").exists()
    )


def read_child_records(out_dir: Path, root: Path) -> tuple[list[ChildRecord], RunCoverage | None]:
    """Every process's record (a process killed before its session ended leaves none)."""
    from coverage import CoverageData  # when the recording is stored: not before its pytest starts

    records = []
    merged = None
    for path in sorted(out_dir.glob("deps.*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        locations = {nodeid: (loc[0], loc[1]) for nodeid, loc in raw.get("locations", {}).items()}
        records.append(ChildRecord(locations, raw.get("opened", {}), raw.get("collected", {}),
                                   raw.get("error", ""), raw.get("fixtures", {}),
                                   raw.get("first_read", {}), raw.get("rootdir", ""),
                                   raw.get("unrecorded", {})))
        if raw.get("lines") is not None:
            merged = merged or RunCoverage(CoverageData(no_disk=True))
            merged.add_monitored(raw["lines"])
    for path in sorted(out_dir.glob("cov.*")):
        if not _COVERAGE_FILE.fullmatch(path.name):
            continue
        recorded = lines_by_context(path)
        if recorded is not None:
            merged = merged or RunCoverage(CoverageData(no_disk=True))
            merged.add_monitored(recorded)
            continue
        data = CoverageData(basename=str(path))  # arcs, or a schema of another version
        data.read()
        if merged is None:
            merged = RunCoverage(CoverageData(no_disk=True))
        merged.data.update(data)
    return records, merged


_COVERAGE_FILE = re.compile(r"cov\.\d+")


# The data file's schema is coverage.py's own, not a public API: only the version this reader
# knows is read with SQL; any other (or a file SQL cannot read) goes through coverage.py's reader.
_KNOWN_SCHEMA = 7  # coverage.py 7.x


def lines_by_context(path: Path) -> dict | None:
    """A coverage.py data file's lines as the line monitor records them: ``files`` and ``lines``
    (context -> file index -> lines); None when it holds arcs rather than lines, or when its
    schema is not the one this reader knows (coverage.py's reader is used then)."""
    try:
        return _read_lines_by_context(path)
    except (sqlite3.Error, KeyError, TypeError, ValueError):
        return None


def _read_lines_by_context(path: Path) -> dict | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("select version from coverage_schema").fetchone() != (_KNOWN_SCHEMA,):
            return None
        if conn.execute("select value from meta where key = 'has_arcs'").fetchone() in (("1",), (1,)):
            return None
        measured = conn.execute("select id, path from file order by id").fetchall()
        files = [name for _, name in measured]
        index = {file_id: str(i) for i, (file_id, _) in enumerate(measured)}
        contexts = dict(conn.execute("select id, context from context"))
        decoded: dict[bytes, list[int]] = {}  # many tests run the same lines of a file
        lines: dict[str, dict[str, list[int]]] = {}
        rows = conn.execute("select file_id, context_id, numbits from line_bits")
        for file_id, context_id, numbits in rows:
            numbers = decoded.get(numbits)
            if numbers is None:
                numbers = decoded[numbits] = numbits_to_lines(numbits)
            lines.setdefault(contexts[context_id], {})[index[file_id]] = numbers
        return {"files": files, "lines": lines}
    finally:
        conn.close()


def numbits_to_lines(numbits: bytes) -> list[int]:
    """The numbers in a coverage.py ``numbits`` (bit n of the little-endian bytes set: n is in)."""
    bits = bin(int.from_bytes(numbits, "little"))[:1:-1]  # bit 0 first
    found = []
    at = bits.find("1")
    while at != -1:
        found.append(at)
        at = bits.find("1", at + 1)
    return found
