"""Stream a history table out as CSV or JSON, row by row, without loading the table into memory.

Reads the SQLite file through a plain read-only ``sqlite3`` cursor (the history is never
changed or created by an export). CSV is RFC 4180 with a header row; cells a spreadsheet would
run as formulas are neutralised (see ``testwatch.history.csv_cells`` and ``testwatch.history.csv_batches``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, TextIO

from testwatch.config.units import has_unit, parse_duration
from testwatch.history import export_workers
from testwatch.history.csv_batches import CsvBatchEncoder
from testwatch.history.output_files import written_whole
from testwatch.history.store import read_only_uri

TABLES = ("runs", "results", "samples", "breaches", "coverage")
# Columns that hold JSON text; the JSON export writes them as nested values.
JSON_COLUMNS = frozenset({"args", "extra", "metadata", "top_allocations", "missing_lines"})
_FETCH_ROWS = 500  # a CSV batch of ~100 KB stays in the CPU cache through its few passes


class ExportError(Exception):
    """The export cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class RowFilter:
    """Which rows to export: one run, runs started at or after ``since_iso``, or everything."""

    run_id: int | None = None
    since_iso: str | None = None


def parse_since(text: str, now: datetime | None = None) -> str:
    """The ISO time (as the history stores it) for an age such as ``7d``, ``12h`` or ``30 min``
    (a duration of ``testwatch.config.units``) or a date such as ``2024-05-01``."""
    now = now or datetime.now(UTC)
    if has_unit(text):
        try:
            cutoff = now - timedelta(seconds=parse_duration(text))
        except ValueError as exc:
            raise ExportError(f"--since: {exc}") from None
        except OverflowError:
            raise ExportError(f"--since {text!r}: older than any date") from None
    else:
        try:
            cutoff = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ExportError(
                f"--since {text!r}: expected an age such as 7d, 12h, 30min or a date such as 2024-05-01"
            ) from None
        if cutoff.tzinfo is None:
            cutoff = cutoff.replace(tzinfo=UTC)
    return cutoff.astimezone(UTC).isoformat(timespec="milliseconds")


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing history; ExportError when there is none."""
    if not path.is_file():
        raise ExportError(f"no history at {path}: run `testwatch run` on the project first")
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{path} cannot be read as a history ({exc})") from None
    return conn


def table_columns(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """The table's column names (in order) and declared types; ExportError for an unknown table."""
    if table not in TABLES:
        raise ExportError(f"unknown table {table!r} (choose from {', '.join(TABLES)})")
    columns = {row[1]: row[2] for row in conn.execute(f'PRAGMA table_info("{table}")')}
    if not columns:
        raise ExportError(f"the history has no {table} table yet")
    return columns


def check_run(conn: sqlite3.Connection, run_id: int) -> None:
    """ExportError naming the runs that exist when ``run_id`` is not one of them."""
    if conn.execute("select 1 from runs where id = ?", [run_id]).fetchone():
        return
    low, high = conn.execute("select min(id), max(id) from runs").fetchone()
    known = f"runs {low} to {high}" if low is not None else "no runs yet"
    raise ExportError(f"the history has no run {run_id} ({known})")


def newest_run(conn: sqlite3.Connection) -> int:
    """The id of the newest run; ExportError when there is none."""
    (run_id,) = conn.execute("select max(id) from runs").fetchone()
    if run_id is None:
        raise ExportError("the history has no runs yet: run `testwatch run` first")
    return run_id


def where_clause(table: str, row_filter: RowFilter) -> tuple[str, list]:
    """SQL ``WHERE …`` (or empty) and its parameters for ``row_filter`` on ``table``."""
    run_column = "id" if table == "runs" else "run_id"
    if row_filter.run_id is not None:
        return f" where {run_column} = ?", [row_filter.run_id]
    if row_filter.since_iso is not None:
        if table == "runs":
            return " where started_at >= ?", [row_filter.since_iso]
        return " where run_id in (select id from runs where started_at >= ?)", [row_filter.since_iso]
    return "", []


def _cursor(conn: sqlite3.Connection, table: str, expressions: list[str], row_filter: RowFilter):
    where, params = where_clause(table, row_filter)
    cursor = conn.execute(f'select {", ".join(expressions)} from "{table}"{where} order by rowid', params)
    cursor.arraysize = _FETCH_ROWS
    return cursor


def write_csv(
    conn: sqlite3.Connection, table: str, row_filter: RowFilter, out: BinaryIO, workers: int | None = None
) -> int:
    """Write ``table`` as UTF-8 CSV to the binary stream ``out``; returns the rows written.

    A big table is encoded by worker processes, a range of rowids each (``testwatch.history.export_workers``);
    ``workers`` sets how many (1: this process alone; None: one per core).
    """
    columns = table_columns(conn, table)
    # NULL arrives as "", which is what csv.writer writes for None (see CsvBatchEncoder).
    expressions = [f"ifnull({_quoted(name)}, '')" for name in columns]
    encoder = CsvBatchEncoder(len(columns))
    out.write(encoder.header(columns))
    where, params = where_clause(table, row_filter)
    span_sql = f'select min(rowid), max(rowid) from "{table}"{where}'
    first_rowid, last_rowid = conn.execute(span_sql, params).fetchone()
    processes = export_workers.worker_count(first_rowid, last_rowid, workers)
    if processes:
        in_range = f" where rowid between ? and ?{where.replace(' where ', ' and ', 1)}"
        range_sql = f'select {", ".join(expressions)} from "{table}"{in_range} order by rowid'
        return export_workers.write_ranges(
            database_path(conn), range_sql, params, len(columns), (first_rowid, last_rowid), processes, out
        )
    return write_rows(_cursor(conn, table, expressions, row_filter), encoder, out.write)


def write_rows_csv(path: Path, headers: list[str], rows: list[list[object]]) -> int:
    """Write a table held in memory (a TUI pane's) to ``path`` as the export writes CSV, in a
    private file that appears whole; returns the rows written. Raises OSError when it cannot."""
    encoder = CsvBatchEncoder(len(headers))
    cells = [tuple("" if cell is None else cell for cell in row) for row in rows]  # None as csv.writer
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with written_whole(path, errors="surrogateescape") as out:
        out.buffer.write(encoder.header(headers))
        out.buffer.write(encoder.encode(cells))
    return len(rows)


def write_rows(cursor: sqlite3.Cursor, encoder: CsvBatchEncoder, write: Callable[[bytes], object]) -> int:
    """Encode every row of ``cursor`` a batch at a time and pass the bytes to ``write``; returns the rows."""
    cursor.arraysize = _FETCH_ROWS
    count = 0
    while rows := cursor.fetchmany():
        write(encoder.encode(rows))
        count += len(rows)
    return count


def database_path(conn: sqlite3.Connection) -> Path:
    """The file behind ``conn``'s main database."""
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file)
    raise ExportError("the history has no main database file")


def write_json(conn: sqlite3.Connection, table: str, row_filter: RowFilter, out: TextIO) -> int:
    """Write ``table`` as one JSON array of objects, a row per line; returns the rows written."""
    columns = list(table_columns(conn, table))
    cursor = _cursor(conn, table, [_quoted(name) for name in columns], row_filter)
    nested = [c in JSON_COLUMNS for c in columns]
    out.write("[")
    count = 0
    while rows := cursor.fetchmany():
        for row in rows:
            values = [_json_value(v) if n else v for v, n in zip(row, nested, strict=True)]
            out.write(",\n" if count else "\n")
            out.write(json.dumps(dict(zip(columns, values, strict=True)), ensure_ascii=False))
            count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _json_value(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
