"""Scenarios 13 and the rendering half of 3: the real app with the real watch loop and real pytest
at 60x20, resized mid-run, with NO_COLOR, showing hostile test ids literally; the real binary in a
pseudo-terminal hung up (SIGHUP, an SSH disconnect) mid-run; and TERM=dumb."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from textual.widgets import RichLog, Tree

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.terminal_text import safe
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.app import make_app

HOSTILE_IDS = ["case_a", "[red]", "[/]", "[/tmp/x]", "[bold unclosed", "esc\x1b[31m"]
HOSTILE_TESTS = f"""
import time

import pytest


@pytest.mark.parametrize("case", {HOSTILE_IDS!r}, ids=str)
def test_x(case):
    time.sleep(0.2)
    print("[red]not markup[/] \\x1b[2J", case)
    assert case != "[/]", "[bold]message[/bold] [/tmp/x]"
"""

SLOW_TESTS = """
import time

import pytest


@pytest.mark.parametrize("n", range(200))
def test_slow(n):
    time.sleep(0.05)
"""


def _leaf_labels(tree: Tree) -> list[str]:
    labels = []
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        labels.append(node.label.plain)
        stack.extend(node.children)
    return labels


async def test_real_run_in_a_60x20_app_resized_mid_run_with_no_color(make_project, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    root = make_project({"tests/test_hostile.py": HOSTILE_TESTS})
    history = open_history(root / ".testwatch" / "history.db")
    app = make_app(load_config(root), history, WatchLoop)
    try:
        async with app.run_test(size=(60, 20)) as pilot:
            tree = app.query_one("#tests-tree", Tree)
            deadline = time.monotonic() + 120
            resized = done = False
            while not done and time.monotonic() < deadline:
                labels = _leaf_labels(tree)
                if not resized and any("test_x" in label for label in labels):
                    await pilot.resize_terminal(100, 30)  # mid-run
                    resized = True
                done = sum(label.startswith(("✓", "✗")) for label in labels) >= len(HOSTILE_IDS)
                await pilot.pause(0.05)
            log = "\n".join(strip.text for strip in app.query_one(RichLog).lines)
            assert resized and done, f"tests pane: {_leaf_labels(tree)}\nlog pane:\n{log}"
            labels = _leaf_labels(tree)
            for case in HOSTILE_IDS:
                assert any(f"test_x[{safe(case)}]" in label for label in labels), (case, labels)
            assert any(label.startswith("✗") and "test_x[[/]]" in label for label in labels)
            await pilot.resize_terminal(60, 20)
            app.export_screenshot()  # every visible cell renders
            assert app.is_running
    finally:
        history.close()


class PtyApp:
    """The real ``testwatch`` binary in a pseudo-terminal of a given size."""

    def __init__(self, root: Path, env: dict[str, str], columns: int = 60, rows: int = 20) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full_env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "testwatch", str(root)], stdin=slave, stdout=slave, stderr=slave,
            env={**full_env, **env}, start_new_session=True,
            # As from a login shell: SIGHUP at its default even if this suite runs under nohup.
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
        )
        os.close(slave)
        self.screen = b""

    def read(self) -> str:
        """Everything the app has written so far (escape sequences included)."""
        while select.select([self.master], [], [], 0)[0]:
            try:
                self.screen += os.read(self.master, 65536)
            except OSError:
                break
        return self.screen.decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def _stored_results(db: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("select count(*) from results").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def _hang_up_mid_run(root: Path, wait_for, processes_mentioning, env: dict[str, str]) -> PtyApp:
    app = PtyApp(root, env)
    db = root / ".testwatch" / "history.db"
    wait_for(lambda: app.read() is not None and _stored_results(db) >= 5,
             what=lambda: f"results to stream in; screen:\n{app.read()[-2000:]}")
    app.process.send_signal(signal.SIGHUP)  # what the terminal does when SSH drops
    app.process.wait(timeout=60)
    wait_for(lambda: not processes_mentioning(str(root)), timeout_s=15, what="orphans to exit")
    return app


def test_sighup_mid_run_leaves_no_orphans_and_an_intact_history(
    make_project, cli, query, wait_for, processes_mentioning
):
    root = make_project({"tests/test_slow.py": SLOW_TESTS})
    app = _hang_up_mid_run(root, wait_for, processes_mentioning, {"TERM": "xterm-256color"})
    try:
        assert "Traceback" not in app.read()
    finally:
        app.close()
    db = root / ".testwatch" / "history.db"
    assert query(db, "pragma integrity_check") == [("ok",)]
    cli("run", str(root), "--", "-k", "test_slow and 1]")  # the next start tidies up
    [(status,)] = query(db, "select status from runs where id = 1")
    assert status in ("cancelled", "interrupted")


def test_sighup_closes_the_run_cleanly(make_project, query, wait_for, processes_mentioning):
    root = make_project({"tests/test_slow.py": SLOW_TESTS})
    app = _hang_up_mid_run(root, wait_for, processes_mentioning, {"TERM": "xterm-256color"})
    app.close()
    assert query(root / ".testwatch" / "history.db", "select status from runs") == [("cancelled",)]


def test_term_dumb_falls_back_to_headless_lines(make_project, wait_for):
    root = make_project({"tests/test_one.py": "def test_one():\n    pass\n"})
    app = PtyApp(root, {"TERM": "dumb"})
    try:
        wait_for(lambda: "test_one" in app.read() or app.process.poll() is not None,
                 what=lambda: f"output; screen:\n{app.read()[-2000:]}")
        assert "\x1b[?1049h" not in app.read()  # no full-screen (alternate screen) app
        wait_for(lambda: "PASS" in app.read(), what="a headless result line")
    finally:
        app.close()
