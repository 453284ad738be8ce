"""The index beside ``test_deps`` that lets a selection read only the rows of the files that changed.

``test_deps`` holds, per test (or test file), each dependency with the fingerprint it had when the
test ran; ``file_state`` holds each file's fingerprint as last recorded. Two small tables, kept in
the same transaction as every write to ``test_deps``, answer the rest without reading it whole:

- ``dep_owners``: each owner and its number of dependency rows (who has recorded dependencies);
- ``stale_dep_paths``: the paths with a row that disagrees with the path's ``file_state`` (a test
  that did not run again after a later run recorded the file, a ``changed-during-run`` row, a path
  with no ``file_state``).

A row can be changed now only if its path's file differs from ``file_state`` (the selection sees
that from a stat and a hash) or if its path is stale, so those paths' rows are all it reads.
Plain ``sqlite3`` and ``json``: this runs on ``testwatch affected``'s path and in a migration.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

CHANGED_DURING_RUN = "changed-during-run"
# The path of a test's dependency on a Python process it started whose code could not be recorded
# (kind ``subprocess``, the fingerprint says how it was started): no file state ever matches it,
# so the path stays stale and the test is selected on every change.
UNRECORDED_PROCESS = "<unrecorded process>"
# The name of a Python file's module-level code among its block hashes (``file_state.blocks``).
MODULE_BLOCK = "<module>"
_CHUNK = 500  # bound parameters per statement

CREATE_SQL = (
    "create table if not exists dep_owners (nodeid text primary key, deps integer)",
    "create table if not exists stale_dep_paths (path text primary key)",
)


def dep_changed(kind: str, fingerprint: str, sha: str | None, hashes: dict[str, str]) -> bool:
    """True when a dependency row no longer matches a file state (``sha`` None: the file is gone)."""
    if sha is None or fingerprint == CHANGED_DURING_RUN:
        return True
    if kind == "file":
        return sha != fingerprint
    block = MODULE_BLOCK if kind == "module" else kind.removeprefix("block:")
    return hashes.get(block) != fingerprint


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(values)
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i : i + _CHUNK]


def _path_is_stale(conn: sqlite3.Connection, path: str) -> bool:
    stored = conn.execute("select sha, blocks from file_state where path = ?", [path]).fetchone()
    rows = conn.execute("select distinct kind, fingerprint from test_deps where path = ?", [path])
    if stored is None:
        return rows.fetchone() is not None
    sha, hashes = stored[0], json.loads(stored[1]) if stored[1] else {}
    return any(dep_changed(kind, fingerprint, sha, hashes) for kind, fingerprint in rows)


def refresh(conn: sqlite3.Connection, owners: Iterable[str], paths: Iterable[str]) -> None:
    """After ``test_deps`` rows of ``owners`` and ``file_state`` of ``paths`` were rewritten (call it
    inside the same transaction): recount those owners and recheck those paths and every stale one."""
    for chunk in _chunks(set(owners)):
        marks = ",".join("?" * len(chunk))
        conn.execute(f"delete from dep_owners where nodeid in ({marks})", chunk)
        conn.execute(
            f"insert into dep_owners (nodeid, deps) select nodeid, count(*) from test_deps "
            f"where nodeid in ({marks}) group by nodeid", chunk,
        )
    recheck = set(paths) | {path for (path,) in conn.execute("select path from stale_dep_paths")}
    stale = [path for path in sorted(recheck) if _path_is_stale(conn, path)]
    for chunk in _chunks(recheck):
        conn.execute(f"delete from stale_dep_paths where path in ({','.join('?' * len(chunk))})", chunk)
    conn.executemany("insert into stale_dep_paths (path) values (?)", [[path] for path in stale])


def rebuild(conn: sqlite3.Connection) -> None:
    """Create the index tables and fill them from the whole of ``test_deps`` (the migration)."""
    for sql in CREATE_SQL:
        conn.execute(sql)
    conn.execute("delete from dep_owners")
    conn.execute("delete from stale_dep_paths")
    owners = [nodeid for (nodeid,) in conn.execute("select distinct nodeid from test_deps")]
    paths = [path for (path,) in conn.execute("select distinct path from test_deps")]
    refresh(conn, owners, paths)


def owner_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Every owner with recorded dependencies -> its number of dependency rows."""
    return dict(conn.execute("select nodeid, deps from dep_owners"))


def stale_paths(conn: sqlite3.Connection) -> set[str]:
    """The paths whose rows must be compared even though their file matches ``file_state``."""
    return {path for (path,) in conn.execute("select path from stale_dep_paths")}


def groups_of(conn: sqlite3.Connection, path: str) -> list[tuple[str, str, list[str]]]:
    """One path's dependency rows grouped: (kind, fingerprint, owners)."""
    sql = (
        "select kind, fingerprint, group_concat(nodeid, char(0)) from test_deps where path = ? "
        "group by kind, fingerprint"
    )
    rows = conn.execute(sql, [path])
    return [(kind, fingerprint, owners.split("\0")) for kind, fingerprint, owners in rows]
