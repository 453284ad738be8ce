"""The project's SQLite history: runs, results and measurements, written as soon as known.

WAL mode and small batched commits mean a SIGKILL loses at most the last fraction of a second.
A file that cannot be used (corrupt, newer schema, read-only, disk full) never costs the user
their old data: it is kept aside or left alone, and testwatch carries on in memory with a warning.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from testwatch.history.errors import HistoryError
from testwatch.history.machine import machine_name
from testwatch.history.schema import SCHEMA_VERSION, migrate
from testwatch.model.results import OUTCOMES, TestResult

if TYPE_CHECKING:
    import sqlite_utils

# Per-test figures that have their own column; anything else in TestResult.extra stays JSON.
_EXTRA_COLUMNS = (
    "peak_rss_bytes", "peak_growth_bytes", "retained_bytes", "memory_precision", "heap_peak_bytes",
    "leaked_bytes", "call_wait_s",
)


SQLITE_HEADER = b"SQLite format 3\x00"
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")  # an empty file so named may become the history

# A fresh file being migrated by another testwatch reads as locked for a moment; wait up to ~10 s.
_LOCKED_RETRIES = 50
_LOCKED_WAIT_S = 0.2


def now_iso() -> str:
    """The current UTC time as stored in the history (sortable text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    if str(path) != ":memory:":
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = wal")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def own_database(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """sqlite-utils' view of one of testwatch's own connections. Without the installed
    sqlite-utils plugins: the history needs none of their SQL functions, and finding them reads
    every installed distribution's metadata (a few tens of milliseconds in a large venv)."""
    import sqlite_utils

    return sqlite_utils.Database(conn, execute_plugins=False)


def read_only_uri(path: Path) -> str:
    """The SQLite URI that reads ``path`` without writing; with ``immutable=1`` when its folder
    cannot be written (read-only media), where a WAL history could not even be opened: SQLite
    needs to create its ``-shm`` file, or is told that nobody can change the file meanwhile."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return uri if os.access(path.parent, os.W_OK) else f"{uri}&immutable=1"


def _create_private(path: Path) -> None:
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.parent.mkdir(mode=0o700)
    except FileExistsError:
        pass
    else:  # a folder testwatch made holds only its own files: git ignores it, as pytest's cache does
        ignore = os.open(path.parent / ".gitignore", os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        with os.fdopen(ignore, "w") as out:
            out.write("# Created by testwatch automatically.\n*\n")
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class History:
    """One project's history file. ``warnings`` holds what the user should be told at start."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.path = path
        self.warnings: list[str] = []
        self._db: sqlite_utils.Database | None = None
        self._file_id = _file_id(path)
        self._held = False  # counted in _OPEN_HERE (histories opened by open_history)

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils' view of the file, for migrations, commands and panes.

        Imported on first use: a headless run's own writes are plain SQL, so ``testwatch run``
        does not pay for importing sqlite-utils before its pytest child can start.
        """
        if self._db is None:
            self._db = own_database(self.conn)
        return self._db

    def rows(self, sql: str, params: Iterable | dict = ()) -> Iterator[dict]:
        """Rows of a query as dicts, streamed without loading them all; ``params`` by position,
        or by name in a dict."""
        cursor = self.conn.execute(sql, params if isinstance(params, dict) else list(params))
        names = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    def insert_rows(self, table: str, rows: list[dict]) -> None:
        """Insert dicts (one shape) into ``table`` in one transaction."""
        if not rows:
            return
        columns = list(rows[0])
        sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
        with self.conn:
            self.conn.executemany(sql, [[row.get(c) for c in columns] for row in rows])

    @property
    def in_memory(self) -> bool:
        return self.path is None

    def recreate_if_gone(self) -> bool:
        """Start a new file when this one was deleted or replaced since it was opened
        (``rm -rf .testwatch``, ``git clean -xfd``): writes would go to a file nobody can open.
        Returns whether it did; the new file's own warnings are added to ``warnings``."""
        if self.path is None or _file_id(self.path) == self._file_id:
            return False
        fresh = open_history(self.path)
        self.close()
        self.conn, self._db, self._file_id, self._held = fresh.conn, None, fresh._file_id, fresh._held
        self.warnings.extend(fresh.warnings)
        return True

    # ----- runs

    def start_run(self, trigger: str, selected: int | None, args: list[str], **fields) -> int:
        row = {
            "started_at": now_iso(), "trigger": trigger, "status": "running", "selected": selected,
            "args": json.dumps(args), "pid": os.getpid(), "machine": machine_name(), **fields,
        }
        sql = f"insert into runs ({', '.join(row)}) values ({', '.join('?' * len(row))})"
        with self.conn:
            return self.conn.execute(sql, list(row.values())).lastrowid

    def finish_run(self, run_id: int, **fields) -> None:
        fields = {"finished_at": now_iso(), **fields}
        assignments = ", ".join(f"{column} = ?" for column in fields)
        with self.conn:
            self.conn.execute(f"update runs set {assignments} where id = ?", [*fields.values(), run_id])

    def mark_interrupted_runs(self) -> int:
        """Runs left ``running`` by a testwatch that is gone are marked ``interrupted``."""
        stale = [
            row["id"]
            for row in self.rows("select id, pid from runs where status = 'running'")
            if not _pid_alive(row["pid"])
        ]
        with self.conn:
            self.conn.executemany(
                "update runs set status = 'interrupted' where id = ?", [[run_id] for run_id in stale]
            )
        return len(stale)

    def recent_runs(self, limit: int = 20, machine: str | None = None) -> list[dict]:
        """The newest ``limit`` runs, of one machine when ``machine`` is given."""
        where = "" if machine is None else "where machine = ? "
        params = [limit] if machine is None else [machine, limit]
        return list(self.rows(f"select * from runs {where}order by id desc limit ?", params))

    def machines(self) -> list[str]:
        """The machines the runs were recorded on, by name."""
        sql = "select distinct machine from runs where machine is not null order by machine"
        return [row[0] for row in self.conn.execute(sql)]

    def run(self, run_id: int) -> dict | None:
        rows = list(self.rows("select * from runs where id = ?", [run_id]))
        return rows[0] if rows else None

    # ----- results

    def add_results(self, run_id: int, results: Iterable[TestResult]) -> None:
        # Plain executemany: sqlite-utils' insert_all costs ~100 us a row in the engine's process.
        self.insert_rows("results", [result_row(run_id, result) for result in results])

    def update_figures(self, run_id: int, results: Iterable[TestResult]) -> None:
        """Rewrite the per-test figures of stored results (figures measured after the report)."""
        columns = [*_EXTRA_COLUMNS, "top_allocations", "extra"]
        rows = [result_row(run_id, result) for result in results]
        sql = (f"update results set {', '.join(f'{c} = ?' for c in columns)} "
               "where run_id = ? and nodeid = ?")
        with self.conn:
            self.conn.executemany(sql, [[row[c] for c in columns] + [run_id, row["nodeid"]] for row in rows])

    def results(self, run_id: int) -> list[dict]:
        return list(self.rows("select * from results where run_id = ? order by id", [run_id]))

    def last_outcomes(self) -> dict[str, str]:
        """Each test's outcome in the newest run that ran it here (``latest_results``, which the
        selection reads too; runs imported from other machines do not change it)."""
        return dict(self.conn.execute("select nodeid, outcome from latest_results order by nodeid"))

    def forget_file_outcomes(self, test_files: list[str]) -> None:
        """Test files that collected again: the outcome their collection had (an error, a skip
        of the whole file) is no longer their latest (their tests have their own)."""
        marks = ",".join("?" * len(test_files))
        with self.conn:
            self.conn.execute(f"delete from latest_results where nodeid in ({marks})", test_files)

    def release_memory(self) -> None:
        """Free this connection's page cache (``PRAGMA shrink_memory``), up to 2 MB that a long
        watch session would otherwise keep between runs. Little is lost: in WAL mode a commit by
        another connection (each run's dependency recording) empties the cache anyway."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA shrink_memory")

    def hold_open(self) -> None:
        """Count this history's file as one this process holds open (``_OPEN_HERE``)."""
        if self._file_id is not None and not self._held:
            self._held = True
            _OPEN_HERE[self._file_id] += 1

    def close(self) -> None:
        self._let_go()
        self.conn.close()

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            _OPEN_HERE[self._file_id] -= 1


def result_row(run_id: int, result: TestResult) -> dict:
    """The ``results`` row for one test result."""
    extra = dict(result.extra)
    row = {
        "run_id": run_id, "nodeid": result.nodeid, "file": result.file, "lineno": result.lineno,
        "outcome": result.outcome, "duration_s": result.duration_s,
        "longrepr": result.longrepr, "stdout": result.stdout, "stderr": result.stderr,
        "log": result.log, "worker": result.worker, "finished_at": now_iso(),
        "metadata": json.dumps(result.metadata) if result.metadata else None,
    }
    for phase in ("setup", "call", "teardown"):
        report = result.phases.get(phase)
        row[f"{phase}_s"] = report.duration_s if report else None
        row[f"{phase}_outcome"] = report.outcome if report else None
    for column in _EXTRA_COLUMNS:
        row[column] = extra.pop(column, None)
    top = extra.pop("top_allocations", None)
    row["top_allocations"] = json.dumps(top) if top else None
    row["extra"] = json.dumps(extra) if extra else None
    return row


def count_outcomes(outcomes: Iterable[str]) -> dict[str, int]:
    """A count for every outcome, zeros included, as the ``runs`` table stores them."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _file_id(path: Path | None) -> tuple[int, int] | None:
    """What tells one file from another at the same path (None when there is none)."""
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st else None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The history files (device, inode) this process holds open, with how many ``History`` objects
# hold each. Opening one again skips the check of its header: closing any descriptor of a file
# drops every POSIX lock the process holds on it, SQLite's too (https://sqlite.org/howtocorrupt.html,
# 2.2). The app holds the history open on its main thread when its controller thread opens it:
# that close let another testwatch that closed its own connection (``testwatch affected`` in a
# second terminal) take itself for the file's last user, checkpoint it and delete the write-ahead
# log under the app, whose next writes failed ("file is not a database") and whose exit then wrote
# stale pages over the file.
_OPEN_HERE: collections.Counter[tuple[int, int]] = collections.Counter()


def open_history(path: Path, retries: int = _LOCKED_RETRIES) -> History:
    """Open (creating, migrating or setting aside) the history at ``path``.

    Raises HistoryError only for a file from a newer testwatch, which must not be touched.
    Any other failure falls back to an in-memory history with a warning.
    """
    if not _OPEN_HERE[_file_id(path)]:
        refuse_foreign_file(path)
    if path.is_file() and not os.access(path.parent, os.W_OK):
        return _read_only(path)
    db = None
    try:
        _create_private(path)
        opened = os.stat(path)
        db = _connect(path)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            db.close()
            raise HistoryError(
                f"{path} was written by a newer testwatch (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade testwatch or point --db at another file"
            )
        history = History(db, path)
        if version < SCHEMA_VERSION:
            _migrate_alone(history, path)
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            if db is not None:
                db.close()
            return _set_aside_and_reopen(path, opened, exc)
        if "locked" in str(exc) and retries > 0:
            # Another testwatch is creating or migrating the same file: wait for it, then go on.
            if db is not None:
                db.close()
            time.sleep(_LOCKED_WAIT_S)
            return open_history(path, retries - 1)
        return _in_memory(f"history {path} cannot be used ({exc}); results are kept in memory only")
    except OSError as exc:
        return _in_memory(
            f"history {path} cannot be created ({exc.strerror}); results are kept in memory only"
        )
    history.mark_interrupted_runs()
    history.hold_open()
    return history


def _read_only(path: Path) -> History:
    """A history in a folder that cannot be written, opened to be read: nothing is marked,
    migrated or saved there."""
    try:
        db = sqlite3.connect(read_only_uri(path), uri=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return _in_memory(f"history {path} cannot be used ({exc}); results are kept in memory only")
    if version != SCHEMA_VERSION:
        db.close()
        return _in_memory(f"history {path} has schema {version}, not {SCHEMA_VERSION}, and its folder "
                          "cannot be written to update it; results are kept in memory only")
    history = History(db, path)
    history.warnings.append(f"history {path} is in a folder that cannot be written: it is read, "
                            "and new results are kept in memory only")
    return history



def refuse_foreign_file(path: Path) -> None:
    """Raise HistoryError when ``path`` is something other than a SQLite file (or an empty file
    named like one): a wrong --db must never move or write over one of the user's files."""
    try:
        found = os.stat(path)
        if not stat.S_ISREG(found.st_mode):
            reason = "is not a regular file"
        else:
            # Size and header from one open file: another testwatch may set a corrupt history
            # aside and start an empty one between a stat of the path and its opening.
            with open(path, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                header = file.read(len(SQLITE_HEADER))
            if size == 0 and path.suffix not in DATABASE_SUFFIXES:
                reason = "is empty and not named like a database"
            elif size and header != SQLITE_HEADER:
                reason = "is not a SQLite database"
            else:
                reason = None
    except FileNotFoundError:
        return
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror})"
    if reason:
        raise HistoryError(
            f"{path} {reason}, so it cannot be a testwatch history; it was left untouched: choose "
            f"another file with --db (a new file, or one ending in {DATABASE_SUFFIXES[0]})"
        )


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock file: one testwatch at a time migrates or sets aside a history."""
    fd = os.open(f"{path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _migrate_alone(history: History, path: Path) -> None:
    """Migrate under the lock, so that testwatches starting together on a new or old file
    migrate it once; the others then find it current (``migrate`` rereads the version)."""
    with _lock(path):
        migrate(history.db)


def _set_aside_and_reopen(path: Path, opened: os.stat_result, exc: Exception) -> History:
    """Keep the unreadable history under a new name, then start a new one. Under the lock, and
    only if ``path`` is still the file found unreadable: testwatches that found it together set it
    aside once, and no name is reused, so no kept file is ever overwritten."""
    aside = None
    with _lock(path), contextlib.suppress(FileNotFoundError):
        now = os.stat(path)
        if (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino):
            aside = _new_aside_name(path)
            for suffix in ("-wal", "-shm", ""):  # the main file last: its name is what others check
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    history = open_history(path)
    if aside is not None:
        history.warnings.append(
            f"history {path} was unreadable ({exc}); kept it as {aside} and started a new one"
        )
    return history


def _new_aside_name(path: Path) -> Path:
    """A name next to ``path`` that nothing has, reserved by creating it (O_EXCL)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for number in range(1, 10_000):
        aside = path.with_name(f"{path.name}.corrupt-{stamp}" + (f"-{number}" if number > 1 else ""))
        try:
            os.close(os.open(aside, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        return aside
    raise HistoryError(f"{path}: no free name left to keep the unreadable history aside")


def _in_memory(warning: str) -> History:
    history = History(_connect(":memory:"), None)
    migrate(history.db)
    history.warnings.append(warning)
    return history
