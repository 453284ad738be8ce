"""The coverage pane: total and per-file coverage of the newest measured run, uncovered lines in the
files that just changed, and the files under their threshold."""

from __future__ import annotations

import json
from fnmatch import fnmatch

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from testwatch.config.settings import Config
from testwatch.config.thresholds import Thresholds
from testwatch.history.store import History
from testwatch.measure.breaches import coverage_percent
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

    def read(self, history: History) -> list[dict]:
        """The newest coverage, file by file, least covered first."""
        sql = (
            "select * from coverage where run_id = (select max(run_id) from coverage) "
            "order by percent, file"
        )
        return list(history.rows(sql))

    def show(self, files: list[dict]) -> None:
        summary = Text()
        if not files:
            summary.append("no coverage measured yet", style="dim")
        else:
            statements = sum(f["statements"] or 0 for f in files)
            summary.append(
                f"total {coverage_percent(files):.1f}% of {counted(statements, 'statement')} "
                f"in {counted(len(files), 'file')}"
            )
            changed = [f for f in files if f["file"] in self.state.last_changes and _missing(f)]
            for f in changed:
                summary.append("\nnot covered in changed ", style="yellow")
                summary.append_text(literal(f"{f['file']}: lines {_missing(f)}"))
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
