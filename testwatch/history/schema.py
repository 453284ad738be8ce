"""The history's tables, created and migrated by version (``PRAGMA user_version``).

Each migration is a function from one version to the next; never edit a released one, add a new
one at the end. docs/history-schema.md documents these tables.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

    import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": int, "started_at": str, "finished_at": str, "trigger": str, "status": str,
            "exit_status": int, "duration_s": float, "selected": int, "collected": int,
            "passed": int, "failed": int, "error": int, "skipped": int, "xfailed": int,
            "xpassed": int, "crashed": int, "timeout": int, "python": str, "git_revision": str,
            "pid": int, "args": str, "message": str,
        },
        pk="id",
        defaults={"status": "running"},
        if_not_exists=True,
    )
    db["results"].create(
        {
            "id": int, "run_id": int, "nodeid": str, "file": str, "lineno": int, "outcome": str,
            "duration_s": float, "setup_s": float, "call_s": float, "teardown_s": float,
            "setup_outcome": str, "call_outcome": str, "teardown_outcome": str,
            "longrepr": str, "stdout": str, "stderr": str, "log": str, "worker": str,
            "peak_rss_bytes": int, "retained_bytes": int, "memory_precision": str,
            "heap_peak_bytes": int, "leaked_bytes": int, "top_allocations": str,
            "extra": str, "metadata": str, "finished_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        if_not_exists=True,
    )
    db["results"].create_index(["run_id"], if_not_exists=True)
    db["results"].create_index(["nodeid", "run_id"], if_not_exists=True)
    db["samples"].create(
        {
            "id": int, "run_id": int, "t_s": float, "rss_bytes": int, "cpu_percent": float,
            "threads": int, "processes": int, "nodeid": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        if_not_exists=True,
    )
    db["samples"].create_index(["run_id"], if_not_exists=True)
    db["breaches"].create(
        {
            "id": int, "run_id": int, "nodeid": str, "path": str, "kind": str,
            "value": float, "limit_value": float, "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        if_not_exists=True,
    )
    db["breaches"].create_index(["run_id"], if_not_exists=True)
    db["coverage"].create(
        {
            "run_id": int, "file": str, "statements": int, "covered": int, "percent": float,
            "missing_lines": str, "branches": int, "covered_branches": int,
        },
        pk=("run_id", "file"),
        foreign_keys=[("run_id", "runs", "id")],
        if_not_exists=True,
    )
    # Selection: what each test depended on when it last ran, and the state of those files.
    db["test_deps"].create(
        {"nodeid": str, "path": str, "kind": str, "fingerprint": str, "run_id": int},
        pk=("nodeid", "path", "kind"),
        if_not_exists=True,
    )
    db["test_deps"].create_index(["path"], if_not_exists=True)
    db["file_state"].create(
        {"path": str, "sha": str, "blocks": str, "run_id": int},
        pk="path",
        if_not_exists=True,
    )


def _v2(db: sqlite_utils.Database) -> None:
    """file_state keeps each file's size and mtime, so a file whose stat is unchanged is not re-read."""
    columns = db["file_state"].columns_dict
    for column in ("size_bytes", "mtime_ns"):
        if column not in columns:
            db["file_state"].add_column(column, int)


def _v3(db: sqlite_utils.Database) -> None:
    """A covering index for a test's recent passed call durations (the latency pane, p95 checks)."""
    db["results"].create_index(
        ["nodeid", "outcome", "run_id", "call_s"], index_name="idx_results_latency", if_not_exists=True
    )


def _v4(db: sqlite_utils.Database) -> None:
    """dep_owners and stale_dep_paths (testwatch/history/dep_index.py), so a selection reads only the
    test_deps rows of the files that changed; filled from the existing rows."""
    from testwatch.history import dep_index

    with db.conn:
        dep_index.rebuild(db.conn)


_LATEST_RESULT_SQL = (
    "create table if not exists latest_results "
    "(nodeid text primary key, result_id integer, outcome text, duration_s real)",
    # A result newer than the one held (a higher id) replaces it.
    "create trigger if not exists latest_results_insert after insert on results "
    "when new.id >= coalesce((select result_id from latest_results where nodeid = new.nodeid), 0) begin "
    "insert or replace into latest_results values (new.nodeid, new.id, new.outcome, new.duration_s); end",
    "create trigger if not exists latest_results_update after update of outcome, duration_s on results "
    "when new.id = (select result_id from latest_results where nodeid = new.nodeid) begin "
    "update latest_results set outcome = new.outcome, duration_s = new.duration_s "
    "where nodeid = new.nodeid; end",
    # Pruning the held result falls back to the test's newest remaining one (or none).
    "create trigger if not exists latest_results_delete after delete on results "
    "when old.id = (select result_id from latest_results where nodeid = old.nodeid) begin "
    "delete from latest_results where nodeid = old.nodeid; "
    "insert into latest_results select nodeid, id, outcome, duration_s from results "
    "where nodeid = old.nodeid order by id desc limit 1; end",
)


def _v5(db: sqlite_utils.Database) -> None:
    """latest_results: each test's newest result (outcome, duration), kept by triggers on results, so
    a selection reads one row per test instead of grouping every stored result."""
    with db.conn:
        for sql in _LATEST_RESULT_SQL:
            db.conn.execute(sql)
        db.conn.execute("delete from latest_results")
        db.conn.execute(
            "insert into latest_results select nodeid, id, outcome, duration_s from results "
            "where id in (select max(id) from results group by nodeid)"
        )


def _v6(db: sqlite_utils.Database) -> None:
    """runs.measuring: what measured beside the tests (``testwatch.measure.latency.measuring_mode``), so
    latency baselines compare like with like. Older runs keep NULL: a mode nobody knows."""
    if "measuring" not in db["runs"].columns_dict:
        db["runs"].add_column("measuring", str)


def _v7(db: sqlite_utils.Database) -> None:
    """results.peak_growth_bytes: how far a test's peak RSS rose above its start. Until now
    ``peak_rss_bytes`` held that growth; it now holds the process's true peak during the test.
    Older rows move their figure to the column that names it and keep no peak."""
    if "peak_growth_bytes" in db["results"].columns_dict:
        return
    with db.conn:
        db.conn.execute("alter table results add column peak_growth_bytes integer")
        db.conn.execute(
            "update results set peak_growth_bytes = peak_rss_bytes, peak_rss_bytes = null "
            "where peak_rss_bytes is not null"
        )


# A random (version 4) UUID in SQL, so that every way of adding a run gets one.
_NEW_UUID_SQL = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) "
    "|| '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' "
    "|| hex(randomblob(6)))"
)
_RUN_NAMESPACE = uuid.UUID("6f1d3f0e-6a47-4b8e-9d0c-2b7f6e0a9c41")  # of the uuids of runs before v8


def _v8(db: sqlite_utils.Database) -> None:
    """runs.uuid and runs.machine, so histories from several machines merge
    (``testwatch.history.merge``): a run keeps its uuid wherever it goes, and says where it ran.
    A trigger gives a random uuid to each new run. Existing runs get one derived from what they
    recorded, so two copies of one old history migrate to the same uuids and merge once; their
    machine stays NULL: nobody recorded it."""
    with db.conn:
        columns = db["runs"].columns_dict
        for column in ("uuid", "machine"):
            if column not in columns:
                db.conn.execute(f"alter table runs add column {column} text")
        old_runs = db.conn.execute(
            "select id, started_at, pid, trigger, args from runs where uuid is null"
        ).fetchall()
        db.conn.executemany(
            "update runs set uuid = ? where id = ?",
            [[str(uuid.uuid5(_RUN_NAMESPACE, repr(run))), run[0]] for run in old_runs],
        )
        db.conn.execute("create unique index if not exists idx_runs_uuid on runs (uuid)")
        db.conn.execute(
            "create trigger if not exists runs_uuid after insert on runs when new.uuid is null begin "
            f"update runs set uuid = {_NEW_UUID_SQL} where id = new.id; end"
        )


def _v9(db: sqlite_utils.Database) -> None:
    """results.call_wait_s: how long the test's call phase waited for a CPU (a busy machine), which
    latency leaves out; the covering index of v3 takes it in. Older rows keep NULL: no wait known."""
    with db.conn:
        if "call_wait_s" not in db["results"].columns_dict:
            db.conn.execute("alter table results add column call_wait_s real")
        db.conn.execute("drop index if exists idx_results_latency")
        db.conn.execute(
            "create index if not exists idx_results_call_latency "
            "on results (nodeid, outcome, run_id, call_s, call_wait_s)"
        )


MIGRATIONS = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the file up to ``SCHEMA_VERSION``; migrations are idempotent, so one cut short reruns."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        migration(db)
        with db.conn:
            db.execute(f"PRAGMA user_version = {number}")


def run_tables(conn: sqlite3.Connection, schema: str = "main") -> list[str]:
    """Tables of ``schema`` whose rows belong to a run (a foreign key to ``runs``): results,
    samples, breaches, coverage. test_deps and file_state hold the latest state test selection
    uses, not a run's record."""
    names = [row[0] for row in conn.execute(f"select name from {schema}.sqlite_master where type = 'table'")]
    return [
        name for name in names
        if any(key[2] == "runs" for key in conn.execute(f"PRAGMA {schema}.foreign_key_list(\"{name}\")"))
    ]
