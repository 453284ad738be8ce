"""Scenario 11: a history that is corrupt, truncated, from a newer schema, read-only or on a full
disk. testwatch gives a clear message or falls back to memory with a warning, never a traceback,
and never loses the old file: it is kept aside or left untouched."""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = {"tests/test_one.py": """
    import pytest

    @pytest.mark.parametrize("n", range(3))
    def test_one(n):
        pass
"""}

# Tests whose captured output (64 KiB each, the default cap) fills a small disk quickly.
LOUD_SUITE = {"tests/test_loud.py": """
    import pytest

    @pytest.mark.parametrize("n", range(40))
    def test_loud(n):
        print("z" * 100_000)
"""}


def _run(*args: str, preexec_fn=None, tmpdir: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run(
        [sys.executable, "-m", "testwatch", "run", *args], env=env, capture_output=True, text=True,
        timeout=120, preexec_fn=preexec_fn,
    )


def _kept_aside(db: Path) -> list[Path]:
    """The damaged history files set aside (not their -wal/-shm companions)."""
    return sorted(p for p in db.parent.glob(f"{db.name}.corrupt-*") if p.name[-1].isdigit())


@pytest.mark.parametrize("damage", ["pages", "truncated"])
def test_unreadable_history_is_kept_aside_and_a_new_one_started(damage, make_project, history_of, query):
    root = make_project(SUITE)
    db = history_of(root)
    assert _run(str(root)).returncode == 0
    if damage == "pages":  # SQLite's header, garbage after it
        db.write_bytes(db.read_bytes()[:16] + b"this is not sqlite " * 500)
    else:
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    damaged = db.read_bytes()

    done = _run(str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [aside] = _kept_aside(db)
    assert f"kept it as {aside}" in done.stdout and "started a new one" in done.stdout
    assert aside.read_bytes() == damaged
    assert query(db, "select status, passed from runs") == [("finished", 3)]


def test_a_history_that_is_not_sqlite_at_all_is_left_untouched(make_project, history_of):
    root = make_project(SUITE)
    db = history_of(root)
    assert _run(str(root)).returncode == 0
    db.write_bytes(b"this is not sqlite " * 500)
    done = _run(str(root))
    assert done.returncode == 4
    assert f"{db} is not a SQLite database" in done.stderr
    assert db.read_bytes() == b"this is not sqlite " * 500
    assert _kept_aside(db) == []


def test_history_from_a_newer_schema_is_left_untouched(make_project, history_of):
    root = make_project(SUITE)
    db = history_of(root)
    assert _run(str(root)).returncode == 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = db.read_bytes()

    done = _run(str(root))
    assert done.returncode == 4
    assert "Traceback" not in done.stderr
    assert "written by a newer testwatch (schema 99" in done.stderr and str(db) in done.stderr
    assert db.read_bytes() == before
    assert _kept_aside(db) == []


@pytest.mark.parametrize("flags", [[], ["--deps"], ["--affected"]], ids=["plain", "recorded", "affected"])
def test_a_refused_history_stops_the_pytest_started_before_it(
    flags, make_project, history_of, processes_mentioning, tmp_path
):
    # `testwatch run` (with --deps too) starts pytest before it opens the history
    # (testwatch.run.launch); the recorded run has begun its recording by then. With --affected
    # pytest starts waiting for its selection.
    root = make_project({"tests/test_mark.py": MARKING_TEST})
    db = history_of(root)
    assert _run(str(root), *flags).returncode == 0
    (root / "ran").unlink()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    temp = tmp_path / "temp"
    temp.mkdir()

    done = _run(str(root), *flags, tmpdir=temp)
    assert done.returncode == 4, done.stdout + done.stderr
    assert processes_mentioning(str(root)) == []
    assert not (root / "ran").exists()  # killed before it reached the test
    assert list(temp.iterdir()) == []  # the event socket's and the recording's folders


MARKING_TEST = """
import pathlib


def test_mark():
    pathlib.Path("ran").write_text("x")
"""


def _mount_tmpfs(mount_point: Path) -> bool:
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True
    )
    return mounted.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, the real full disk; only where this user may mount (root in a container/CI)."""
    mount_point = tmp_path / "small disk"
    mount_point.mkdir()
    if not _mount_tmpfs(mount_point):
        pytest.skip("cannot mount a tmpfs here; the RLIMIT_FSIZE variant covers a full disk")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_read_only_history_falls_back_to_memory_and_keeps_the_file(make_project, small_disk):
    root = make_project(SUITE)
    db = small_disk / "history.db"
    assert _run(str(root), "--db", str(db)).returncode == 0
    before = db.read_bytes()
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    assert remounted.returncode == 0, remounted.stderr

    done = _run(str(root), "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    # Opened read-only (issue 14, item 13): read, never written.
    assert f"history {db} is in a folder that cannot be written" in done.stdout
    assert "kept in memory only" in done.stdout
    assert done.stdout.count("PASS") == 3  # the run itself still happened and was reported
    assert db.read_bytes() == before
    with contextlib.closing(sqlite3.connect(f"file:{db}?immutable=1", uri=True)) as conn:
        assert conn.execute("select status from runs").fetchall() == [("finished",)]


def _assert_full_disk_run_is_reported_and_history_intact(done, db, query):
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot write the history" in done.stdout
    assert "could not be written to the history" in done.stdout  # nothing lost silently
    assert done.stdout.count("PASS") == 40
    assert query(db, "pragma integrity_check") == [("ok",)]
    assert query(db, "select id, status, passed from runs where id = 1") == [(1, "finished", 3)]


def test_full_disk_mid_run_is_reported_and_the_history_stays_intact(make_project, small_disk, query):
    root = make_project({**SUITE, **LOUD_SUITE})
    db = small_disk / "history.db"
    assert _run(str(root), "--db", str(db), "--", "tests/test_one.py").returncode == 0
    filler = small_disk / "filler"
    free_bytes = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * max(free_bytes - 160 * 1024, 0))

    done = _run(str(root), "--db", str(db), "--", "tests/test_loud.py")
    _assert_full_disk_run_is_reported_and_history_intact(done, db, query)

    filler.unlink()  # with space again, the same history carries on
    again = _run(str(root), "--db", str(db), "--", "tests/test_one.py")
    assert again.returncode == 0 and "cannot" not in again.stdout, again.stdout
    assert query(db, "select status from runs order by id desc limit 1") == [("finished",)]


def test_file_size_limit_acts_like_a_full_disk(make_project, history_of, query, tmp_path):
    probe = tmp_path / "mount probe"
    probe.mkdir()
    if _mount_tmpfs(probe):
        subprocess.run(["umount", "-l", str(probe)], check=False)
        pytest.skip("a real small tmpfs is available: the full-disk test above covers this")
    root = make_project({**SUITE, **LOUD_SUITE})
    db = history_of(root)
    assert _run(str(root), "--", "tests/test_one.py").returncode == 0
    limit_bytes = db.stat().st_size + 200 * 1024

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    done = _run(str(root), "--", "tests/test_loud.py", preexec_fn=limit_file_size)
    _assert_full_disk_run_is_reported_and_history_intact(done, db, query)
