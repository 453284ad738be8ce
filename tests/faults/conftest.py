"""Helpers for the fault suite: read a real history file, find orphans, run a headless watch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


def query(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` from the history at ``db_path``, opened read-only the way a user would."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def outcomes(db_path: Path, run_id: int | None = None) -> dict[str, str]:
    """nodeid -> outcome of one run (the newest when ``run_id`` is None)."""
    if run_id is None:
        run_id = query(db_path, "select max(id) from runs")[0][0]
    rows = query(db_path, "select nodeid, outcome from results where run_id = ?", (run_id,))
    return dict(rows)


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Live (not zombie) processes whose command line or working folder mentions ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (text in cmdline or text in cwd):
            found.append((int(entry.name), cmdline))
    return found


class HeadlessWatch:
    """``testwatch watch --headless`` on a project; its output goes to a file outside the tree."""

    def __init__(
        self, root: Path, log: Path, wait_for: Callable, args: Sequence[str] = (), env: dict | None = None
    ) -> None:
        self.root, self.log, self.wait_for = root, log, wait_for
        self.db = root / ".testwatch" / "history.db"
        base = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "testwatch", "watch", "--headless", str(root), *args],
                env={**base, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def waiting(self) -> bool:
        """The loop said it waits for changes since the last run began."""
        output = self.output()
        return output.rfind("waiting for changes") > output.rfind("\nrun ")

    def runs(self, recording: bool = False) -> list[tuple[int, str, str]]:
        """(id, trigger, status) of every run in the history so far; without the runs that only
        record what a results-first run's tests depend on (trigger ``record``, Python 3.11)
        unless ``recording``."""
        if not self.db.exists():
            return []
        try:
            runs = query(self.db, "select id, trigger, status from runs order by id")
        except Exception:  # the file exists but its tables are being created
            return []
        return [run for run in runs if recording or run[1] != "record"]

    def idle(self, count: int) -> bool:
        """``count`` runs (not counting ``record`` runs) have ended in the history (finished or
        cancelled) and the loop waits.

        A change nothing depends on may still be printed after the wait began (a file a test
        wrote, seen after its run ended): it starts no run, so the loop is still waiting.
        """
        ended = all(status != "running" for _, _, status in self.runs(recording=True))
        return len(self.runs()) >= count and ended and self.waiting()

    def wait_until_done(self, count: int) -> list[tuple[int, str, str]]:
        """Wait until ``count`` runs have ended and the loop is idle; return every run."""
        self.wait_for(lambda: self.idle(count), what=lambda: f"{count} runs to end; output:\n{self.output()}")
        return self.runs()

    def wait_idle(self, runs: int) -> None:
        """``runs`` runs ended as the output tells (for a session whose history is taken away)
        and the loop waits for changes."""
        def idle() -> bool:
            output = self.output()
            return output.count("(exit ") + output.count("(cancelled)") >= runs and self.waiting()

        self.wait_for(idle, what=lambda: f"{runs} runs to end; output:\n{self.output()[-3000:]}")

    def descriptors(self) -> list[str]:
        """What the process's open descriptors point at."""
        targets = []
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                targets.append(os.readlink(fd))
            except OSError:
                continue
        return targets

    def inotify_watches(self) -> int:
        """Watches held by all of the process's inotify instances."""
        count = 0
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                if os.readlink(fd) == "anon_inode:inotify":
                    info = Path(f"/proc/{self.process.pid}/fdinfo/{fd.name}").read_text()
                    count += info.count("inotify wd:")
            except OSError:
                continue
        return count

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def headless_watch(tmp_path, wait_for):
    """``headless_watch(root, args=(), env=None)`` starts a HeadlessWatch; each is stopped at the end."""
    started = []

    def start(root: Path, args: Sequence[str] = (), env: dict | None = None) -> HeadlessWatch:
        started.append(HeadlessWatch(root, tmp_path / f"watch-{len(started)}.log", wait_for, args, env))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def history_of():
    """The default history file of a project root."""
    return lambda root: root / ".testwatch" / "history.db"


# The suite runs with --import-mode=importlib, where test modules cannot import this file:
# the helpers reach them as fixtures.


@pytest.fixture(name="query")
def query_fixture():
    return query


@pytest.fixture(name="outcomes")
def outcomes_fixture():
    return outcomes


@pytest.fixture(name="processes_mentioning")
def processes_mentioning_fixture():
    return processes_mentioning
