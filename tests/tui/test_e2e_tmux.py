"""End to end: the real ``testwatch`` in a real 80x24 terminal (tmux) on a temp project. Save a change
that breaks a test: its assertion shows with no key pressed; open the failure in $EDITOR; quit with no
leftovers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import psutil
import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

CALC = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
BROKEN = "def add(a, b):\n    raise ValueError('broken add')\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


class Terminal:
    """A detached 80x24 tmux session on its own server socket."""

    def __init__(self, command: list[str], cwd, env: dict[str, str]) -> None:
        self.socket = f"tw-{uuid.uuid4().hex[:8]}"
        self.session = "tw"
        script = " ".join(_quote(part) for part in command)
        self._tmux("new-session", "-d", "-s", self.session, "-x", "80", "-y", "24", "-c", str(cwd),
                   *(f"-e{k}={v}" for k, v in env.items()), f"{script}; echo EXITED $?; sleep 600")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=True).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, text: str, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear within {timeout_s} s; screen:\n{screen}")
            time.sleep(0.2)

    def own_processes(self) -> set[int]:
        """The tmux server, the pane's shell and the shell's ``sleep`` (what the test itself started)."""
        shell = psutil.Process(int(self._tmux("display-message", "-p", "-t", self.session, "#{pane_pid}")))
        return {shell.pid, shell.ppid(), *(c.pid for c in shell.children() if c.name() == "sleep")}

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"


def _processes_under(root) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if process.info["cwd"] == str(root) or str(root) in " ".join(process.info["cmdline"] or []):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_save_rerun_open_failure_and_quit(make_project, tmp_path):
    # test_a_first.py lists first until test_calc.py fails: the cursor then moves to another file's test
    root = make_project({"calc.py": CALC, "tests/test_calc.py": TEST, "conftest.py": "",
                         "tests/test_a_first.py": "def test_first():\n    pass\n"})
    opened = tmp_path / "editor-argv.txt"
    editor = tmp_path / "fake-editor"
    editor.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {opened}\n")
    editor.chmod(0o755)
    env = {"EDITOR": str(editor), "VISUAL": "", "TESTWATCH_DB": "", "PATH": os.environ["PATH"]}
    terminal = Terminal([sys.executable, "-m", "testwatch", str(root)], root, env)
    try:
        terminal.wait_for("✓ test_add")
        terminal.wait_for("waiting for changes")
        (root / "calc.py").write_text(WRONG)
        screen = terminal.wait_for("✗ test_add")
        assert "changed: calc.py" in screen
        # No key pressed: the cursor went to the failure and its assertion is on screen, full width.
        screen = terminal.wait_for("assert -1 == 3", timeout_s=10)
        assert "tests/test_calc.py::test_add" in screen
        (root / "calc.py").write_text(BROKEN)
        terminal.wait_for("ValueError: broken add")  # the details follow the new failure, no key pressed
        terminal.keys("o")
        deadline = time.monotonic() + 30
        # Until the fake editor has written its arguments (the file exists before they are in it).
        while not (opened.exists() and opened.read_text().count("\n") >= 2) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert opened.read_text().split("\n")[:2] == ["+2", str(root / "calc.py")]
        terminal.wait_for("✗ test_add")  # the app came back after the editor
        (root / "calc.py").write_text(CALC)
        terminal.wait_for("✓ test_add")
        terminal.wait_for("green")
        terminal.keys("q")
        terminal.wait_for("EXITED 0", timeout_s=30)
        def leftovers() -> list[psutil.Process]:
            return [p for p in _processes_under(root) if p.pid not in terminal.own_processes()]

        deadline = time.monotonic() + 10
        while leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert leftovers() == []
    finally:
        terminal.close()
