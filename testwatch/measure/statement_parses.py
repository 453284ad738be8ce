"""coverage.py's parse of a project file, made while the tests run, and a file's coverage row.

A recording's coverage figures need each measured file's statements, which coverage.py finds by
parsing the file, anew on every ``Coverage.analysis2`` call: on a first recording that parse was
a third of what storing spent after the tests. ``parse_statements`` makes the file reporter
``analysis2`` itself makes for a Python file (``coverage.python.PythonFileReporter``) and parses
the file with it; the recording's warm-up thread (``run/fingerprint_warmup.py``) calls it while
pytest runs in its own process. ``ParsedStatements.row`` then turns the lines run into the
file's row as coverage.py's analysis does: the lines translated to the statements holding them,
the statements not run missing.

That reporter class is not in coverage.py's documented API, so it is reached guarded: without
it, or when it fails, a file gets no parse here and ``line_coverage.coverage_rows`` calls
``analysis2`` for it after the run, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from testwatch.select.content_hashes import content_hash
from testwatch.select.fingerprints import locked_parse


def line_row(relative: str, statements: Iterable[int], missing: Iterable[int]) -> dict:
    """The ``coverage`` row of a file measured by lines."""
    statements, missing = set(statements), set(missing)
    covered = len(statements) - len(missing)
    return {
        "file": relative, "statements": len(statements), "covered": covered,
        "percent": round(100.0 * covered / len(statements), 2) if statements else 100.0,
        "missing_lines": json.dumps(sorted(missing)),
    }


@dataclass(frozen=True)
class ParsedStatements:
    """coverage.py's reporter of one file, parsed from the content whose hash is ``sha``."""

    sha: str
    reporter: object

    def row(self, relative: str, lines_run: Iterable[int] | None) -> dict:
        """The file's row for the lines run in it (as measured, before coverage.py's translation)."""
        statements = self.reporter.lines()
        run = self.reporter.translate_lines(lines_run or ()) & statements
        return line_row(relative, statements, statements - run)


def parse_statements(coverage_object, path: str, sha: str) -> ParsedStatements | None:
    """The file at ``path``, whose content has hash ``sha``, parsed by coverage.py with
    ``coverage_object``'s settings (its excluded lines); None when coverage.py cannot parse it
    here or the content is no longer that one."""
    try:
        from coverage.python import PythonFileReporter
    except ImportError:
        return None
    try:
        reporter = PythonFileReporter(path, coverage_object)
        locked_parse(reporter.lines)  # the parse: the reporter keeps its result
        if content_hash(Path(path).read_bytes()) != sha:  # edited since, or while parsed
            return None
    except Exception:  # not Python, unreadable, or a coverage.py whose reporter differs
        return None
    return ParsedStatements(sha, reporter)
