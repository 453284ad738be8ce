"""A run's line coverage of project code (the ``coverage`` table), and the changed lines that no
test covers (for the TUI's coverage pane), both from the measurement dependency recording makes.

coverage.py's analysis of a file (its parse for statements) is what computing the figures costs;
a file's row depends only on its content and the lines run in it, so rows are kept beside the
history by those two (``coverage-rows.json``) and a run that ran the same lines of the same
content takes the row as it was. A file new to the recording is parsed while the tests run
(``statement_parses``).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from testwatch.collectors.in_testwatch.project_files import IgnoreRules, is_test_file
from testwatch.history.store import History
from testwatch.measure.coverage_settings import CoverageSettings
from testwatch.measure.statement_parses import ParsedStatements, line_row
from testwatch.select.content_cache import MISSING, ContentCache, code_version
from testwatch.select.content_hashes import content_hash
from testwatch.select.fingerprints import locked_parse

if TYPE_CHECKING:
    from testwatch.select.dep_reading import RunCoverage

_HUNK = re.compile(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@")
CACHE_NAME = "coverage-rows.json"


def rows_cache(path: Path | None, root: Path | None = None) -> ContentCache:
    """The coverage rows of earlier runs, by file content and lines run (``path`` None: in memory;
    ``root``: the project, whose deleted files' rows are dropped)."""
    import coverage

    version = functools.partial(code_version, [sys.modules[__name__]], coverage.__version__)
    return ContentCache(path, version, root)


def coverage_rows(
    run_coverage: RunCoverage,
    rules: IgnoreRules,
    cache: ContentCache | None = None,
    settings: CoverageSettings | None = None,
    parsed: Mapping[str, ParsedStatements] | None = None,
) -> list[dict]:
    """One row per project file measured (test files left out): statements, covered, missing.

    The recorder starts before pytest loads plugins and conftest.py files, so the lines a module
    runs at import count as they do for ``coverage run``. ``cache`` gives the rows of the files
    whose content and lines run it saw before, and takes the others (the caller saves it).
    ``settings``: the project's coverage.py settings (omitted files, excluded lines), read from
    its root when not given. ``parsed``: coverage.py's parses of files made while the tests ran
    (``statement_parses``), by relative path, used where the content is still the one parsed.
    """
    cache = cache if cache is not None else rows_cache(None)
    settings = settings if settings is not None else CoverageSettings(rules.root)
    executed = run_coverage.executed_lines()
    branches = executed.has_arcs()
    cov = settings.coverage
    cov.get_data().update(executed)
    rows = []
    for measured in sorted(run_coverage.project_files(rules)):
        relative = rules.relative(measured)
        if relative is None or is_test_file(relative) or not measured.endswith(".py"):
            continue
        if settings.omitted(measured):
            continue
        try:
            before = content_hash(Path(measured).read_bytes())
        except OSError:  # the file vanished: nothing to report for it
            continue
        ran = executed.arcs(measured) if branches else executed.lines(measured)
        ran_text = ",".join(map(str, sorted(ran or ())))
        key = f"{before}:{content_hash(ran_text.encode())}:{settings.fingerprint}"
        row = cache.get(relative, key)
        if row is MISSING:
            early = None if branches or parsed is None else parsed.get(relative)
            if early is not None and early.sha == before:
                row = early.row(relative, ran)
            elif branches:
                row = _branch_row(cov, measured, relative)
            else:
                row = _analysed_row(cov, measured, relative)
            if row is None:
                continue
            if _content_is(measured, before):  # not edited while it was analysed
                cache.put(relative, key, row)
        rows.append(dict(row))
    return rows


def _analysed_row(cov, measured: str, relative: str) -> dict | None:
    try:
        _, statements, _, missing, _ = locked_parse(lambda: cov.analysis2(measured))
    except Exception:  # the file vanished or no longer parses: nothing to report for it
        return None
    return line_row(relative, statements, missing)


def _branch_row(cov, measured: str, relative: str) -> dict | None:
    """The row of a file measured with branches: coverage.py's JSON report of it (its public
    way to the branch figures), whose percent counts branches as ``coverage report`` does."""
    with tempfile.TemporaryDirectory(prefix="tw-branches-") as folder:
        out = Path(folder) / "coverage.json"
        try:
            locked_parse(lambda: cov.json_report(morfs=[measured], outfile=str(out), ignore_errors=True))
            files = json.loads(out.read_text(encoding="utf-8"))["files"]
        except Exception:  # the file vanished or no longer parses: nothing to report for it
            return None
    if len(files) != 1:
        return None
    (report,) = files.values()
    summary = report["summary"]
    return {
        "file": relative, "statements": summary["num_statements"], "covered": summary["covered_lines"],
        "percent": round(summary["percent_covered"], 2), "missing_lines": json.dumps(report["missing_lines"]),
        "branches": summary["num_branches"], "covered_branches": summary["covered_branches"],
    }


def _content_is(path: str, sha: str) -> bool:
    try:
        return content_hash(Path(path).read_bytes()) == sha
    except OSError:
        return False


def changed_lines(root, base: str = "HEAD") -> dict[str, set[int]]:
    """Lines added or edited in the working tree since ``base`` (git), per project-relative file."""
    try:
        out = subprocess.run(
            ["git", "diff", "--unified=0", "--no-color", "--relative", base, "--"],
            cwd=root, capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    result: dict[str, set[int]] = {}
    current = None
    for line in out.stdout.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
        elif current and (match := _HUNK.match(line)):
            start, count = int(match[1]), int(match[2] or 1)
            result.setdefault(current, set()).update(range(start, start + count))
    return {path: lines for path, lines in result.items() if lines}


def uncovered_changed_lines(history: History, root, base: str = "HEAD") -> dict[str, list[int]]:
    """Changed lines (git diff against ``base``) that the newest coverage of their file misses."""
    changed = changed_lines(root, base)
    if not changed:
        return {}
    sql = (
        "select file, missing_lines from coverage where rowid in "
        "(select max(rowid) from coverage group by file)"
    )
    missing = {row["file"]: set(json.loads(row["missing_lines"] or "[]")) for row in history.rows(sql)}
    result = {}
    for path, lines in changed.items():
        uncovered = sorted(lines & missing.get(path, set()))
        if uncovered:
            result[path] = uncovered
    return result
