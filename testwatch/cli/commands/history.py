"""``testwatch history``: list recent runs as a table, or prune old runs and vacuum the file."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

import sqlite_utils

from testwatch.cli.project import Project, add_project_arguments, project_config
from testwatch.config.units import format_duration
from testwatch.history.store import open_history
from testwatch.model.outcome_labels import OUTCOME_LABELS
from testwatch.model.terminal_text import one_line
from testwatch.model.wording import counted


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "history", help="list recent runs, or prune old ones",
        description="List the project's recent runs. With --prune, delete older runs with all "
        "their rows (results, samples, breaches, coverage) and vacuum the file.",
    )
    add_project_arguments(parser)
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="runs to list (default 20)")
    parser.add_argument("--prune", action="store_true", help="delete old runs (needs --keep-…)")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep-days", type=float, metavar="N", help="with --prune: keep runs of the last N days"
    )
    keep.add_argument("--keep-runs", type=int, metavar="N", help="with --prune: keep the newest N runs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.prune and args.keep_days is None and args.keep_runs is None:
        print("testwatch: --prune needs --keep-days N or --keep-runs N", file=sys.stderr)
        return 4
    if not args.prune and (args.keep_days is not None or args.keep_runs is not None):
        print("testwatch: --keep-days/--keep-runs only apply with --prune", file=sys.stderr)
        return 4
    config = project_config(args)
    if not config.history_path.exists():
        print(f"no runs yet: {config.history_path} does not exist (testwatch run creates it)")
        return 0
    project = Project(config, open_history(config.history_path))
    try:
        for warning in project.history.warnings:
            print(f"warning: {warning}")
        if args.prune:
            removed = prune(project.history.db, keep_days=args.keep_days, keep_runs=args.keep_runs)
            print(f"pruned {counted(removed, 'run')} from {project.config.history_path}")
            return 0
        print(format_runs(project.history.recent_runs(args.limit)))
        return 0
    finally:
        project.history.close()


def prune(db: sqlite_utils.Database, keep_days: float | None = None, keep_runs: int | None = None) -> int:
    """Delete runs older than ``keep_days`` or beyond the newest ``keep_runs``; returns how many."""
    if keep_days is not None:
        cutoff = (datetime.now(UTC) - timedelta(days=keep_days)).isoformat(timespec="milliseconds")
        doomed = "select id from runs where started_at < ? and status != 'running'"
        params: list = [cutoff]
    else:
        doomed = (
            "select id from runs where status != 'running' "
            "and id not in (select id from runs order by id desc limit ?)"
        )
        params = [max(keep_runs or 0, 0)]
    with db.conn:
        db.execute(f"create temp table doomed as {doomed}", params)
        for table in run_tables(db):
            db.execute(f'delete from "{table}" where run_id in (select id from temp.doomed)')
        removed = db.execute("delete from runs where id in (select id from temp.doomed)").rowcount
        db.execute("drop table temp.doomed")
    db.execute("VACUUM")
    return removed


def run_tables(db: sqlite_utils.Database) -> list[str]:
    """Tables whose rows belong to a run (a foreign key to ``runs``): results, samples, breaches…

    test_deps and file_state hold the latest state test selection uses, not a run's record.
    """
    return [
        table.name for table in db.tables
        if any(key.other_table == "runs" for key in table.foreign_keys)
    ]


def format_runs(runs: list[dict]) -> str:
    """Runs (newest first) as an aligned text table."""
    if not runs:
        return "no runs yet: try `testwatch run`"
    header = ["run", "started (UTC)", "trigger", "status", "exit", "duration", "results"]
    lines = [header]
    for row in runs:
        counts = ", ".join(f"{row[o]} {label.count}" for o, label in OUTCOME_LABELS.items() if row.get(o))
        lines.append([
            str(row["id"]), (row["started_at"] or "")[:19].replace("T", " "), one_line(row["trigger"] or ""),
            row["status"] or "", "" if row["exit_status"] is None else str(row["exit_status"]),
            format_duration(row["duration_s"]) if row["duration_s"] is not None else "-",
            counts or "-",
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1]
        for line in lines
    )
