"""The tests to run again for ``run --failed`` (and the app's ``f``): those that failed, errored,
crashed or timed out last time, in test files that still exist (pytest refuses a path that is
gone, and would then run none of the others)."""

from __future__ import annotations

from pathlib import Path

from testwatch.history.store import History
from testwatch.model.results import BAD_OUTCOMES, nodeid_file


def failed_last_time(history: History, root: Path) -> list[str]:
    """Node ids (or test files that failed to collect) with a bad last outcome, whose file exists."""
    exists: dict[str, bool] = {}
    failed = []
    for nodeid, outcome in history.last_outcomes().items():
        if outcome not in BAD_OUTCOMES:
            continue
        test_file = nodeid_file(nodeid)
        if test_file not in exists:
            exists[test_file] = (root / test_file).is_file()
        if exists[test_file]:
            failed.append(nodeid)
    return failed
