"""A run's line coverage of project code (the ``coverage`` table), and the changed lines that no
test covers (for the TUI's coverage pane), both from the measurement dependency recording makes.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import TYPE_CHECKING

from testwatch.collectors.in_testwatch.project_files import IgnoreRules, is_test_file
from testwatch.history.store import History
from testwatch.select.fingerprints import PARSE_LOCK

if TYPE_CHECKING:
    from testwatch.select.dep_reading import RunCoverage

_HUNK = re.compile(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@")


def coverage_rows(run_coverage: RunCoverage, rules: IgnoreRules) -> list[dict]:
    """One row per project file measured (test files left out): statements, covered, missing.

    The recorder starts before pytest loads plugins and conftest.py files, so the lines a module
    runs at import count as they do for ``coverage run``.
    """
    import coverage  # here, not at the top: the selection imports this module on every affected call

    cov = coverage.Coverage(data_file=None, config_file=False)
    cov.get_data().update(run_coverage.executed_lines())
    rows = []
    for measured in sorted(run_coverage.project_files(rules)):
        relative = rules.relative(measured)
        if relative is None or is_test_file(relative) or not measured.endswith(".py"):
            continue
        try:
            with PARSE_LOCK:
                _, statements, _, missing, _ = cov.analysis2(measured)
        except Exception:  # the file vanished or no longer parses: nothing to report for it
            continue
        covered = len(statements) - len(missing)
        rows.append({
            "file": relative, "statements": len(statements), "covered": covered,
            "percent": round(100.0 * covered / len(statements), 2) if statements else 100.0,
            "missing_lines": json.dumps(sorted(missing)),
        })
    return rows


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
