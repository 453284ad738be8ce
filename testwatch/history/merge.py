"""Merge another machine's history file into this one (``testwatch history import``).

The other file is never written: its bytes are copied to a private temporary folder, the copy is
checked (a SQLite file that is whole and is a testwatch history no newer than this one) and
migrated there. Its runs, and every row that belongs to them (any table with a foreign key to
``runs``), are then added in one transaction with new run ids; a run already here (the same
``runs.uuid``) is skipped, so importing a file again adds nothing. Runs still ``running`` there
are left for a later import. The selection state (``test_deps``, ``file_state``,
``latest_results``) stays this machine's: other machines' results are history, not what this
working tree last did.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from testwatch.history.errors import HistoryError
from testwatch.history.schema import SCHEMA_VERSION, migrate, run_tables
from testwatch.history.store import SQLITE_HEADER, History

_COPY_ATTEMPTS = 3  # a file that changes while it is copied is copied again
_REQUIRED_TABLES = ("runs", "results")


@dataclass
class ImportSummary:
    """What an import added: runs, and rows per table that belongs to runs."""

    runs_added: int = 0
    runs_known: int = 0  # already in this history (the same uuid)
    runs_running: int = 0  # still running in the other file: left for a later import
    rows_added: dict[str, int] = field(default_factory=dict)


def import_history(history: History, source: Path, machine: str | None = None) -> ImportSummary:
    """Add the runs of the history file ``source`` to ``history``; ``machine`` names the runs that
    recorded none (histories from before schema 8). Raises HistoryError, having written nothing,
    when ``source`` cannot be imported."""
    if history.in_memory:
        raise HistoryError("there is no history file to import into; nothing was imported")
    with tempfile.TemporaryDirectory(prefix="testwatch-import-") as folder:
        copy = Path(folder) / "source.db"
        _copy_whole(source, copy)
        _check_and_migrate(source, copy)
        return _merge(history, copy, machine, source)


def _refuse(source: Path, reason: str) -> HistoryError:
    return HistoryError(f"{source} {reason}, so it cannot be imported; nothing was imported")


def _copy_whole(source: Path, copy: Path) -> None:
    """Copy the file and its write-ahead log, again while either changed during the copy."""
    try:
        if not source.is_file():
            raise _refuse(source, "is not a file" if source.exists() else "does not exist")
        with open(source, "rb") as file:
            if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise _refuse(source, "is not a SQLite database")
        for _ in range(_COPY_ATTEMPTS):
            before = _stats(source)
            for suffix in ("", "-wal"):
                if os.path.exists(f"{source}{suffix}"):
                    shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")
            if _stats(source) == before:
                return
    except OSError as exc:
        raise _refuse(source, f"cannot be read ({exc.strerror})") from None
    raise _refuse(source, "kept changing while it was copied (a testwatch is writing it)")


def _stats(source: Path) -> list[tuple[int, int] | None]:
    stats = []
    for suffix in ("", "-wal"):
        try:
            found = os.stat(f"{source}{suffix}")
        except FileNotFoundError:
            stats.append(None)
        else:
            stats.append((found.st_size, found.st_mtime_ns))
    return stats


def _check_and_migrate(source: Path, copy: Path) -> None:
    """Refuse a copy that is damaged, foreign or newer; bring an older one to this schema."""
    import sqlite_utils

    conn = sqlite3.connect(copy)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _refuse(source, f"is damaged ({problems[0]})")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        if version == 0 or not tables.issuperset(_REQUIRED_TABLES):
            raise _refuse(source, "is a SQLite database but not a testwatch history")
        if version > SCHEMA_VERSION:
            newer = f"schema {version}, this one knows {SCHEMA_VERSION}"
            raise _refuse(source, f"was written by a newer testwatch ({newer})")
        migrate(sqlite_utils.Database(conn))
    except sqlite3.DatabaseError as exc:
        raise _refuse(source, f"cannot be read as a history ({exc})") from None
    finally:
        conn.close()


def _merge(history: History, copy: Path, machine: str | None, source: Path) -> ImportSummary:
    """Add the copy's new runs and their rows to ``history`` in one transaction."""
    conn = history.conn
    summary = ImportSummary()
    conn.commit()
    try:
        conn.execute("attach database ? as source", [str(copy)])
    except sqlite3.Error as exc:
        raise HistoryError(
            f"{source} could not be opened beside {history.path} ({exc}); nothing was imported"
        ) from None
    try:
        conn.execute("begin immediate")
        _add_runs(conn, machine, summary)
        theirs = run_tables(conn, "source")
        for table in [name for name in run_tables(conn) if name in theirs]:
            summary.rows_added[table] = _add_rows(conn, table)
        conn.execute("drop table temp.run_map")
        conn.execute("drop table temp.kept_latest")
        conn.commit()
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        raise HistoryError(
            f"{source} could not be merged into {history.path} ({exc}); nothing was imported"
        ) from None
    finally:
        conn.execute("detach database source")
    return summary


def _add_runs(conn: sqlite3.Connection, machine: str | None, summary: ImportSummary) -> None:
    """Insert the copy's runs that are new here; ``temp.run_map`` maps their ids."""
    (summary.runs_running,) = conn.execute(
        "select count(*) from source.runs where status = 'running'"
    ).fetchone()
    (summary.runs_known,) = conn.execute(
        "select count(*) from source.runs where uuid in (select uuid from main.runs)"
    ).fetchone()
    conn.execute(
        "create temp table run_map as select id as old_id, uuid, null as new_id from source.runs "
        "where status is not 'running' and uuid not in (select uuid from main.runs where uuid is not null) "
        "order by id"
    )
    columns = [c for c in _shared_columns(conn, "runs") if c != "id"]
    values = ["coalesce(machine, :machine)" if c == "machine" else _quoted(c) for c in columns]
    conn.execute(
        f"insert into main.runs ({', '.join(map(_quoted, columns))}) "
        f"select {', '.join(values)} from source.runs where id in (select old_id from temp.run_map) "
        "order by id",
        {"machine": machine},
    )
    conn.execute(
        "update temp.run_map set new_id = (select id from main.runs where main.runs.uuid = run_map.uuid)"
    )
    summary.runs_added = conn.execute("select count(*) from temp.run_map").fetchone()[0]
    # The newest result of each test stays this machine's (see the module's docstring).
    conn.execute("create temp table kept_latest as select * from main.latest_results")


def _add_rows(conn: sqlite3.Connection, table: str) -> int:
    """Copy ``table``'s rows of the new runs with their new run ids; returns how many."""
    columns = [c for c in _shared_columns(conn, table) if c != _rowid_alias(conn, table)]
    values = ["m.new_id" if c == "run_id" else f"s.{_quoted(c)}" for c in columns]
    added = conn.execute(
        f"insert into main.{_quoted(table)} ({', '.join(map(_quoted, columns))}) "
        f"select {', '.join(values)} from source.{_quoted(table)} s "
        "join temp.run_map m on m.old_id = s.run_id order by s.rowid"
    ).rowcount
    if table == "results":
        conn.execute("delete from main.latest_results")
        conn.execute("insert into main.latest_results select * from temp.kept_latest")
    return added


def _shared_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """``table``'s columns here that the copy's table has too, in this history's order."""
    theirs = {row[1] for row in conn.execute(f"PRAGMA source.table_info({_quoted(table)})")}
    return [row[1] for row in conn.execute(f"PRAGMA main.table_info({_quoted(table)})") if row[1] in theirs]


def _rowid_alias(conn: sqlite3.Connection, table: str) -> str | None:
    """The column that is the table's rowid (an ``integer primary key``), which gets new values."""
    keys = [row for row in conn.execute(f"PRAGMA main.table_info({_quoted(table)})") if row[5]]
    if len(keys) == 1 and keys[0][2].upper() == "INTEGER":
        return keys[0][1]
    return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
