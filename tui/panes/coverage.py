"""The coverage pane: total and per-file coverage of the newest run of every test, the newest
selection's own figure beside it (never as the total), uncovered lines in the files that just
changed, and the files under their threshold."""

from __future__ import annotations

import json
from fnmatch import fnmatch

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from testwatch.config.settings import Config
from testwatch.config.thresholds import Thresholds
from testwatch.history.store import History
from testwatch.measure.coverage_figures import CoverageFigures, coverage_figures
from testwatch.model.wording import counted
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.fitted_table import Column, FittedTable
from testwatch.tui.state import SessionState
from testwatch.tui.text import literal

# The percent, the missing lines and the under-limit mark outlast the counts at narrow widths; the file
# and the missing lines share the room left.
COLUMNS = [
    Column("file", flex=3, min_width=16), Column("stmts", 5, drop=1), Column("covered", 7, drop=1),
    Column("percent", 7), Column("missing lines", flex=2, min_width=12, cut="end"), Column("", 11),
]


class CoveragePane(Pane):
    """Per-file coverage table; files under their limit are marked."""

    NAME = "coverage"
    READS_HISTORY = True
    TITLE = "Coverage"

    def __init__(self, history, state, thresholds: Thresholds | None = None) -> None:
        super().__init__(history, state)
        thresholds = thresholds or Thresholds()
        self.limit_percent = thresholds.limits.get("coverage")
        self.path_limits = thresholds.paths

    @classmethod
    def for_session(cls, history: History, state: SessionState, config: Config) -> CoveragePane:
        return cls(history, state, config.thresholds)

    def compose(self) -> ComposeResult:
        yield Static(id="coverage-summary", markup=False)
        yield FittedTable(COLUMNS, id="coverage-table", cursor_type="row", zebra_stripes=True)

    def read(self, history: History) -> CoverageFigures:
        """The project's coverage as its newest run of every test measured it, and the newest
        selection's beside it."""
        return coverage_figures(history)

    def show(self, figures: CoverageFigures) -> None:
        project, selection = figures.project, figures.selection
        summary = Text()
        if project is None and selection is None:
            summary.append("no coverage measured yet", style="dim")
        elif project is None:
            summary.append("no run of every test has measured coverage yet", style="dim")
        else:
            summary.append(
                f"total {project.percent:.1f}% of {counted(project.statements, 'statement')} "
                f"in {counted(len(project.rows), 'file')} (run {project.run_id}, every test)"
            )
        if selection is not None:
            # Never the total: the lines a few tests ran, beside the whole suite's figure above.
            summary.append(
                f"\nrun {selection.run_id} ran {counted(selection.tests, 'test')}: "
                f"{selection.percent:.1f}% of the {counted(selection.statements, 'statement')} "
                f"in the {counted(len(selection.rows), 'file')} they ran "
                "(their lines only, not the project's coverage)",
                style="dim" if project is not None else "",
            )
        # The table is the project's; without a run of every test, the selection's (named above).
        files = project.rows if project is not None else selection.rows if selection is not None else []
        # A changed file as the newest run that ran it measured it: the selection's rows hold only
        # what its tests ran, so their missing lines are named as such.
        newest = {row["file"]: (run, row) for run in (project, selection) if run for row in run.rows}
        for file in sorted(self.state.last_changes):
            run, row = newest.get(file, (None, None))
            if row is not None and _missing(row):
                by = f"not run by run {run.run_id}'s tests" if run is selection else "not covered"
                summary.append(f"\n{by} in changed ", style="yellow")
                summary.append_text(literal(f"{file}: lines {_missing(row)}"))
        self.query_one("#coverage-summary", Static).update(summary)
        rows = []
        for f in files:
            limit = self._limit_for(f["file"])
            under = limit is not None and (f["percent"] or 0.0) < limit
            rows.append((
                literal(f["file"]), f["statements"], f["covered"], f"{f['percent'] or 0.0:.1f}%",
                literal(_missing(f)), Text(f"under {limit:g}%", style="bold red") if under else "",
            ))
        self.query_one(FittedTable).show_rows(rows, [f["file"] for f in files])

    def _limit_for(self, file: str) -> float | None:
        matches = [glob for glob in self.path_limits if fnmatch(file, glob)]
        return self.path_limits[max(matches, key=len)] if matches else self.limit_percent


def _missing(row: dict) -> str:
    """The missing lines column (JSON list or text) as ``3-5, 9``."""
    raw = row.get("missing_lines") or ""
    try:
        lines = json.loads(raw) if raw else []
    except ValueError:
        return str(raw)
    if not isinstance(lines, list):
        return str(lines)
    return _ranges([n for n in lines if isinstance(n, int)])


def _ranges(lines: list[int]) -> str:
    spans: list[list[int]] = []
    for n in sorted(lines):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
