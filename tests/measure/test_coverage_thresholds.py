"""Coverage thresholds evaluated against a run's ``coverage`` rows in a real SQLite history."""

from __future__ import annotations

from testwatch.config.thresholds import parse_thresholds
from testwatch.history.store import open_history
from testwatch.measure.breaches import BreachChecker, coverage_percent
from testwatch.run.history_writer import HistoryWriter


def _history_with_coverage(tmp_path):
    history = open_history(tmp_path / "history.db")
    run_id = history.start_run("manual", None, [])
    history.db["coverage"].insert_all([
        {"run_id": run_id, "file": "src/core/a.py", "statements": 100, "covered": 95, "percent": 95.0},
        {"run_id": run_id, "file": "src/core/b.py", "statements": 100, "covered": 75, "percent": 75.0},
        {"run_id": run_id, "file": "src/ui/c.py", "statements": 200, "covered": 100, "percent": 50.0},
    ])
    return history, run_id


def test_total_and_glob_breaches_are_recorded(tmp_path):
    history, run_id = _history_with_coverage(tmp_path)
    thresholds = parse_thresholds({"coverage": 80, "paths": {"src/core/*": 90, "src/ui/*": 40}})
    checker = BreachChecker(thresholds, history)
    breaches, note = checker.check_coverage(run_id)
    assert note == ""
    found = {(b.path, round(b.value, 1), b.limit) for b in breaches}
    assert found == {("(total)", 67.5, 80.0), ("src/core/*", 85.0, 90.0)}
    writer = HistoryWriter(history, publish=lambda event: None)
    for breach in breaches:
        writer(breach)
    assert history.db["breaches"].count == 2


def test_a_glob_matching_nothing_is_a_note(tmp_path):
    history, run_id = _history_with_coverage(tmp_path)
    checker = BreachChecker(parse_thresholds({"paths": {"lib/*": 90}}), history)
    breaches, note = checker.check_coverage(run_id)
    assert breaches == [] and "lib/*" in note


def test_branches_count_as_coverage_py_counts_them():
    rows = [{"statements": 10, "covered": 10, "branches": 10, "covered_branches": 5}]
    assert coverage_percent(rows) == 75.0
