"""``testwatch export``: stream a history table to stdout or a file as CSV, JSON, a json-report or
JUnit XML."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from testwatch.config.settings import load_config
from testwatch.history.export import (
    TABLES,
    ExportError,
    RowFilter,
    check_run,
    newest_run,
    open_readonly,
    parse_since,
    write_csv,
    write_json,
)
from testwatch.history.export_junit import write_junit
from testwatch.history.json_report import write_json_report
from testwatch.history.output_files import PRIVATE_MODE, parse_mode, written_whole

FORMATS = ("csv", "json", "json-report", "junit")
ONE_RUN_FORMATS = ("json-report", "junit")
HELP = """Write a table of the project's history to stdout (or -o FILE).

csv: RFC 4180 with a header row; text a spreadsheet would run as a formula gets a leading '.
json: one array of objects, a row per line.
json-report: one run (the newest, or --run N) in pytest-json-report's format; --table is ignored.
junit: one run (the newest, or --run N) as JUnit XML for CI test reports; --table is ignored.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="export the history as CSV, JSON or JUnit XML", description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", default=".", help="project root (default: .)")
    parser.add_argument("--db", help="history file (default: .testwatch/history.db; env TESTWATCH_DB)")
    parser.add_argument("--table", choices=TABLES, default="results", help="table (default: results)")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--run", type=int, metavar="N", help="only run N")
    scope.add_argument("--since", metavar="AGE", help="only runs started since, e.g. 7d, 12h, 2024-05-01")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="output format (default: csv)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--mode", default="600", metavar="OCTAL",
        help="permissions of the -o file (default 600: private, like the history)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N",
        help="processes that encode a CSV of 200,000+ rows (default: one per core, up to 4; 1: no others)",
    )
    parser.set_defaults(handler=run)


def history_path(args: argparse.Namespace) -> Path:
    """The history file: --db, then TESTWATCH_DB, then the project's config."""
    db = args.db or os.environ.get("TESTWATCH_DB")
    if db:
        return Path(db).resolve()
    root = Path(args.path)
    if not root.is_dir():
        raise ExportError(f"{args.path}: no such folder")
    return load_config(root).history_path


def run(args: argparse.Namespace) -> int:
    try:
        conn = open_readonly(history_path(args))
        try:
            return _export(conn, args)
        finally:
            conn.close()
    except ExportError as exc:
        print(f"testwatch: {exc}", file=sys.stderr)
        return 4


def _export(conn, args: argparse.Namespace) -> int:
    row_filter = RowFilter(args.run, parse_since(args.since) if args.since else None)
    if args.workers is not None and args.workers < 1:
        raise ExportError(f"--workers {args.workers}: expected 1 or more")
    try:
        mode = parse_mode(args.mode)
    except ValueError:
        raise ExportError(f"--mode {args.mode}: expected an octal permission mode like 600 or 644") from None
    if args.run is not None:
        check_run(conn, args.run)
    if args.format in ONE_RUN_FORMATS:
        if args.since:
            raise ExportError(f"--format {args.format} writes one run: use --run N, not --since")
        run_id = args.run if args.run is not None else newest_run(conn)
        with _output(args.output, mode) as out:
            if args.format == "junit":
                write_junit(conn, run_id, out)
            else:
                write_json_report(conn, run_id, Path(args.path).resolve(), out)
        return 0
    with _output(args.output, mode) as out:
        if args.format == "csv":
            write_csv(conn, args.table, row_filter, out.buffer, args.workers)  # UTF-8, as the text layer
        else:
            write_json(conn, args.table, row_filter, out)
    return 0


@contextlib.contextmanager
def _output(path: Path | None, mode: int = PRIVATE_MODE) -> Iterator[TextIO]:
    """UTF-8 text with untranslated newlines; a file appears whole (or not at all) on success,
    with permission ``mode``."""
    if path is None:
        out = io.TextIOWrapper(
            sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", newline="",
            write_through=False,
        )
        try:  # a reader that stops early (head) ends the command in testwatch.cli.main.entry
            yield out
            out.flush()
        finally:
            with contextlib.suppress(BrokenPipeError):
                out.detach()
        return
    try:
        with written_whole(path, mode, errors="surrogateescape") as out:
            yield out
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
