"""``testwatch history``: list recent runs as a table, import another machine's history, or prune
old runs and vacuum the file."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from testwatch.cli.project import Project, add_project_arguments, project_config
from testwatch.config.units import format_duration
from testwatch.history.merge import ImportSummary, import_history
from testwatch.history.schema import run_tables
from testwatch.history.store import open_history
from testwatch.model.outcome_labels import OUTCOME_LABELS
from testwatch.model.terminal_text import one_line
from testwatch.model.wording import counted


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "history", help="list recent runs, import another machine's history, or prune old runs",
        usage="testwatch history [PATH] [--machine NAME] [--limit N]\n"
        "       testwatch history import FILE [--machine NAME] [--db DB]\n"
        "       testwatch history [PATH] --prune (--keep-days N | --keep-runs N)",
        description="List the project's recent runs. `import FILE` merges another machine's history "
        "file (runs, results, samples, breaches, coverage) into this one, once: runs it already "
        "has are skipped. With --prune, delete older runs with all their rows and vacuum the file.",
    )
    add_project_arguments(parser)
    parser.add_argument("file", nargs="?", help=argparse.SUPPRESS)  # the FILE of `import FILE`
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="runs to list (default 20)")
    parser.add_argument(
        "--machine", metavar="NAME",
        help="list only the runs of machine NAME; with import: the name for imported runs that "
        "recorded none (histories from before testwatch kept machine names)",
    )
    parser.add_argument("--prune", action="store_true", help="delete old runs (needs --keep-…)")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep-days", type=float, metavar="N", help="with --prune: keep runs of the last N days"
    )
    keep.add_argument("--keep-runs", type=int, metavar="N", help="with --prune: keep the newest N runs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    importing = args.path == "import"
    if importing:
        if not args.file:
            return _usage("history import needs the history FILE to merge in")
        args.path = "."
    elif args.file:
        return _usage(f"unexpected argument {args.file!r} (did you mean `history import FILE`?)")
    if args.prune and args.keep_days is None and args.keep_runs is None:
        return _usage("--prune needs --keep-days N or --keep-runs N")
    if not args.prune and (args.keep_days is not None or args.keep_runs is not None):
        return _usage("--keep-days/--keep-runs only apply with --prune")
    if args.prune and (importing or args.machine):
        return _usage("--prune cannot be combined with import or --machine")
    config = project_config(args)
    if not importing and not config.history_path.exists():
        print(f"no runs yet: {config.history_path} does not exist (testwatch run creates it)")
        return 0
    project = Project(config, open_history(config.history_path))
    try:
        for warning in project.history.warnings:
            print(f"warning: {warning}")
        if importing:
            summary = import_history(project.history, Path(args.file), args.machine)
            print(format_import(summary, args.file))
            return 0
        if args.prune:
            removed = prune(project.history.db, keep_days=args.keep_days, keep_runs=args.keep_runs)
            print(f"pruned {counted(removed, 'run')} from {project.config.history_path}")
            return 0
        runs = project.history.recent_runs(args.limit, args.machine)
        if not runs and args.machine:
            known = ", ".join(project.history.machines()) or "none recorded"
            print(f"no runs of machine {args.machine!r} (machines: {known})")
            return 0
        print(format_runs(runs))
        return 0
    finally:
        project.history.close()


def _usage(message: str) -> int:
    print(f"testwatch: {message}", file=sys.stderr)
    return 4  # testwatch.cli.main.USAGE_ERROR, as the other commands' usage errors


def format_import(summary: ImportSummary, source: str) -> str:
    """One line saying what an import added and what it skipped."""
    rows = ", ".join(f"{count} {table}" for table, count in summary.rows_added.items())
    runs = "run" if summary.runs_added == 1 else "runs"
    line = f"imported {summary.runs_added} {runs} from {source}"
    if summary.runs_added:
        line += f" ({rows})"
    if summary.runs_known:
        line += f"; {summary.runs_known} already here"
    if summary.runs_running:
        line += f"; {summary.runs_running} still running there, left for a later import"
    return line


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
        for table in run_tables(db.conn):
            db.execute(f'delete from "{table}" where run_id in (select id from temp.doomed)')
        removed = db.execute("delete from runs where id in (select id from temp.doomed)").rowcount
        db.execute("drop table temp.doomed")
    db.execute("VACUUM")
    return removed


def format_runs(runs: list[dict]) -> str:
    """Runs (newest first) as an aligned text table."""
    if not runs:
        return "no runs yet: try `testwatch run`"
    header = ["run", "started (UTC)", "machine", "trigger", "status", "exit", "duration", "results"]
    lines = [header]
    for row in runs:
        counts = ", ".join(f"{row[o]} {label.count}" for o, label in OUTCOME_LABELS.items() if row.get(o))
        lines.append([
            str(row["id"]), (row["started_at"] or "")[:19].replace("T", " "), one_line(row["machine"] or "-"),
            one_line(row["trigger"] or ""),
            row["status"] or "", "" if row["exit_status"] is None else str(row["exit_status"]),
            format_duration(row["duration_s"]) if row["duration_s"] is not None else "-",
            counts or "-",
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1]
        for line in lines
    )
