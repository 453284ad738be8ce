"""Which coverage the app shows as the project's: that of the newest run of every test, and beside
it the newest run's own when that run ran only some tests (watch mode after an edit, ``run
--affected``), named as what it is. A selection's figure covers the lines its few tests ran, so it
is never shown as the total.

The history cannot merge a selection's lines into the project's figure: its ``coverage`` rows are
per run and file, not per test, so the lines that only the rerun tests covered last time (and may
no longer cover) cannot be told from those the other tests cover; and a row does not say which
content of its file it measured, so the lines of an edited file cannot be carried over.
docs/guide.md (Coverage after a selection) says this to users.
"""

from __future__ import annotations

from dataclasses import dataclass

from testwatch.history.store import History
from testwatch.measure.breaches import coverage_percent

# The newest run of every test that ended as pytest ends a complete session (tests passed or
# failed) and stored coverage rows: a run stopped early covered only the tests it reached.
_PROJECT_RUN_SQL = (
    "select id from runs where selected is null and status = 'finished' and exit_status in (0, 1) "
    "and exists (select 1 from coverage where coverage.run_id = runs.id) order by id desc limit 1"
)


@dataclass(frozen=True)
class MeasuredRun:
    """One run's coverage rows (one per project file it measured) and how many tests it ran."""

    run_id: int
    tests: int
    rows: list[dict]

    @property
    def percent(self) -> float:
        return coverage_percent(self.rows)

    @property
    def statements(self) -> int:
        return sum(row["statements"] or 0 for row in self.rows)


@dataclass(frozen=True)
class CoverageFigures:
    """``project``: the newest complete run of every test (None before there is one);
    ``selection``: the newest run with coverage when it is not that one (a selection, or a run
    stopped early), else None."""

    project: MeasuredRun | None
    selection: MeasuredRun | None


def coverage_figures(history: History) -> CoverageFigures:
    """The project's coverage as last measured whole, and the newest selection's beside it."""
    newest_id = next(history.rows("select max(run_id) as id from coverage"))["id"]
    if newest_id is None:
        return CoverageFigures(None, None)
    project_ids = [row["id"] for row in history.rows(_PROJECT_RUN_SQL)]
    project = _measured(history, project_ids[0]) if project_ids else None
    selection = None if project is not None and project.run_id == newest_id else _measured(history, newest_id)
    return CoverageFigures(project, selection)


def _measured(history: History, run_id: int) -> MeasuredRun:
    rows = list(history.rows("select * from coverage where run_id = ? order by percent, file", [run_id]))
    # A collection error is a row named by its file, not a test.
    sql = "select count(*) as n from results where run_id = ? and instr(nodeid, '::') > 0"
    tests = next(history.rows(sql, [run_id]))["n"]
    return MeasuredRun(run_id, tests, rows)
