"""A selection bundle: one complete dependency recording in a file that travels to another checkout.

A gzip-compressed SQLite file (format ``testwatch-selection-bundle``, ``FORMAT_VERSION``) that
``testwatch run --deps --bundle`` and ``testwatch bundle`` write and ``testwatch seed`` reads (the
dependency rows repeat their fingerprints: gzip makes the file about nine times smaller). Its tables are the
history's own, trimmed to what a selection needs, with every path relative to the project root:
``test_deps`` (what each test ran and opened, with the fingerprints it had), ``file_state`` (each
recorded file's content hash and block hashes, no stat), ``results`` (each test's newest outcome and
duration), ``left_out_test_files`` (test files that were there and pytest did not collect, with
their hash) and ``bundle_info`` (format, when and at which git revision the recorded run started,
the environment's fingerprint and its parts). docs/ci-seeding.md describes it.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from testwatch.history.errors import HistoryError

FORMAT = "testwatch-selection-bundle"
FORMAT_VERSION = 1
_TABLES = {
    "test_deps": {"nodeid": str, "path": str, "kind": str, "fingerprint": str},
    "file_state": {"path": str, "sha": str, "blocks": str},
    "results": {"nodeid": str, "outcome": str, "duration_s": float},
    "left_out_test_files": {"path": str, "sha": str},
}


class BundleError(HistoryError):
    """A bundle cannot be written or read as asked; the message names the file and says why."""


@dataclass
class Bundle:
    """What a bundle holds (the rows of its tables as tuples, in their columns' order)."""

    recorded_at: str  # when the recorded run started, UTC ISO text as the history stores it
    git_revision: str | None
    python: str | None
    environment: str  # environment_fingerprint of the recorded run
    environment_parts: list[str]  # what it is made of; empty when not known
    deps: list[tuple[str, str, str, str]] = field(default_factory=list)
    states: list[tuple[str, str, str | None]] = field(default_factory=list)
    results: list[tuple[str, str, float | None]] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # test file -> content hash
    testwatch_version: str = ""

    def info(self) -> dict[str, str]:
        """The ``bundle_info`` rows."""
        return {
            "format": FORMAT, "format_version": str(FORMAT_VERSION),
            "testwatch_version": self.testwatch_version, "recorded_at": self.recorded_at,
            "git_revision": self.git_revision or "", "python": self.python or "",
            "environment": self.environment, "environment_parts": json.dumps(self.environment_parts),
        }


def write_bundle(bundle: Bundle, path: Path) -> int:
    """Write ``bundle`` to ``path`` (replaced whole, never half-written); returns its size in bytes.

    An existing file there is replaced only when it is a bundle itself.
    """
    import sqlite_utils  # not on the path of commands that never write one

    if path.exists():
        try:
            read_bundle(path)
        except BundleError:
            raise BundleError(f"{path} exists and is not a selection bundle; it was left untouched: "
                              "choose another output file") from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tempfile.TemporaryDirectory(prefix="tw-bundle-") as folder:
            database = Path(folder) / "bundle.db"
            _write_tables(bundle, sqlite_utils.Database(database))
            with open(database, "rb") as source, gzip.open(temporary, "wb") as packed:
                shutil.copyfileobj(source, packed)
        os.replace(temporary, path)
    except (OSError, sqlite3.Error) as exc:
        temporary.unlink(missing_ok=True)
        raise BundleError(f"cannot write the bundle {path}: {exc}") from exc
    return path.stat().st_size


def _write_tables(bundle: Bundle, db) -> None:
    db["bundle_info"].create({"key": str, "value": str}, pk="key")
    db["bundle_info"].insert_all([{"key": k, "value": v} for k, v in bundle.info().items()])
    rows = {
        "test_deps": bundle.deps, "file_state": bundle.states, "results": bundle.results,
        "left_out_test_files": sorted(bundle.left_out.items()),
    }
    for table, columns in _TABLES.items():
        db[table].create(columns)
        names = list(columns)
        db[table].insert_all((dict(zip(names, row, strict=True)) for row in rows[table]), batch_size=2000)
    db.vacuum()
    db.close()


def read_bundle(path: Path) -> Bundle:
    """The bundle at ``path``, checked whole before anything uses it; raises BundleError."""
    if not path.is_file():
        raise BundleError(f"{path}: no such bundle file")
    with tempfile.TemporaryDirectory(prefix="tw-bundle-") as folder:
        database = Path(folder) / "bundle.db"
        try:
            with gzip.open(path, "rb") as packed, open(database, "wb") as unpacked:
                shutil.copyfileobj(packed, unpacked)
            conn = sqlite3.connect(database)
        except (OSError, EOFError, zlib.error, sqlite3.Error) as exc:
            raise BundleError(f"{path} is not a testwatch selection bundle (not a complete gzip file: "
                              f"{exc}); nothing was written") from exc
        try:
            return _read(conn, path)
        except (sqlite3.Error, ValueError) as exc:
            raise BundleError(f"{path} is not a testwatch selection bundle (damaged, or another kind "
                              f"of file: {exc}); nothing was written") from exc
        finally:
            conn.close()


def _read(conn: sqlite3.Connection, path: Path) -> Bundle:
    if conn.execute("pragma quick_check").fetchone()[0] != "ok":
        raise BundleError(f"{path} is damaged (SQLite's quick_check fails); nothing was written")
    tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
    info = dict(conn.execute("select key, value from bundle_info")) if "bundle_info" in tables else {}
    if info.get("format") != FORMAT:
        raise BundleError(f"{path} is a SQLite file but not a testwatch selection bundle; "
                          "nothing was written")
    if info.get("format_version") != str(FORMAT_VERSION):
        raise BundleError(
            f"{path} has bundle format version {info.get('format_version')}, this testwatch reads "
            f"version {FORMAT_VERSION} (written by testwatch {info.get('testwatch_version') or '?'}); "
            "nothing was written"
        )
    missing = sorted(set(_TABLES) - tables)
    if missing or not info.get("recorded_at") or not info.get("environment"):
        what = ", ".join(missing) or "its recording time or environment"
        raise BundleError(f"{path} is an incomplete selection bundle (missing {what}); nothing was written")
    rows = {table: conn.execute(f"select {', '.join(columns)} from {table}").fetchall()
            for table, columns in _TABLES.items()}
    for table in ("test_deps", "file_state", "left_out_test_files"):
        column = list(_TABLES[table]).index("path")
        for row in rows[table]:
            _check_relative(path, row[column])
    return Bundle(
        recorded_at=info["recorded_at"], git_revision=info.get("git_revision") or None,
        python=info.get("python") or None, environment=info["environment"],
        environment_parts=json.loads(info.get("environment_parts") or "[]"),
        deps=rows["test_deps"], states=rows["file_state"], results=rows["results"],
        left_out=dict(rows["left_out_test_files"]), testwatch_version=info.get("testwatch_version", ""),
    )


def _check_relative(path: Path, recorded: object) -> None:
    """A recorded path must name a file under the project root, whatever the root is."""
    pure = PurePosixPath(recorded) if isinstance(recorded, str) else None
    if pure is None or pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BundleError(f"{path} records a path outside the project ({recorded!r}); "
                          "nothing was written")
