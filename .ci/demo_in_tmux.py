"""CI: run the README's demo for real in an 80x24 tmux terminal, with this interpreter.

``python3 -m testwatch demo --autoplay`` runs until a failing test is on screen; then ``q`` must end
it with exit status 0 and leave no process behind (nothing in the pane but its shell, nothing
anywhere working in the demo's temp folder). The demo keeps its copied project as it always does;
here it lives in a temp folder of this script's own, removed at the end.

Usage: python3 .ci/demo_in_tmux.py   (tmux on PATH; psutil comes with testwatch)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

FAILURE_ON_SCREEN = re.compile(r"\b\d+ failed\b")
EXITED = re.compile(r"EXITED (\d+)")
FAILURE_TIMEOUT_S = 180.0
QUIT_TIMEOUT_S = 60.0


class Tmux:
    """One detached 80x24 session on a server socket of its own."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.socket = f"tw-ci-{uuid.uuid4().hex[:8]}"
        self.run("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24",
                 *(f"-e{key}={value}" for key, value in env.items()),
                 f"{command}; echo EXITED $?; sleep 600")

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "demo")

    def wait_for(self, pattern: re.Pattern, timeout_s: float, what: str) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.screen()
            found = pattern.search(screen)
            if found:
                return found
            if time.monotonic() > deadline:
                sys.exit(f"demo: {what} did not happen within {timeout_s:.0f} s; the screen:\n{screen}")
            time.sleep(0.25)

    def pane_shell(self) -> psutil.Process:
        return psutil.Process(int(self.run("display-message", "-p", "-t", "demo", "#{pane_pid}")))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def processes_in(folder: Path, ignored: set[int]) -> list[str]:
    """Processes, but the ``ignored`` ones, whose working directory or command line is in ``folder``."""
    found = []
    for process in psutil.process_iter(["pid", "cwd", "cmdline"]):
        if process.info["pid"] in ignored:
            continue
        cwd = process.info["cwd"] or ""
        cmdline = " ".join(process.info["cmdline"] or [])
        if cwd.startswith(str(folder)) or str(folder) in cmdline:
            found.append(f"{process.info['pid']} {cmdline}")
    return found


def main() -> int:
    temp = Path(tempfile.mkdtemp(prefix="tw-ci-demo-")).resolve()
    command = f"{sys.executable} -m testwatch demo --autoplay"
    print(f"demo: {command} in tmux 80x24 (TMPDIR={temp})", flush=True)
    started = time.monotonic()
    terminal = Tmux(command, {"TMPDIR": str(temp), "TERM": "xterm-256color"})
    try:
        terminal.wait_for(FAILURE_ON_SCREEN, FAILURE_TIMEOUT_S, "a failure on screen")
        print(f"demo: a failure is on screen after {time.monotonic() - started:.1f} s:", flush=True)
        print(terminal.screen(), flush=True)
        shell = terminal.pane_shell()
        terminal.run("send-keys", "-t", "demo", "q")
        status = int(terminal.wait_for(EXITED, QUIT_TIMEOUT_S, "the exit after q").group(1))
        left = shell.children(recursive=True)
        left_in_pane = [f"{p.pid} {' '.join(p.cmdline())}" for p in left if p.name() != "sleep"]
        # tmux's server and the pane's shell carry the command line, so the folder's name
        left_in_folder = processes_in(temp, {shell.pid, shell.ppid(), *(p.pid for p in left)})
    finally:
        terminal.close()
        shutil.rmtree(temp, ignore_errors=True)
    print(f"demo: q -> exit status {status}; processes left: {left_in_pane + left_in_folder or 'none'}")
    if status != 0:
        print(f"demo: FAILED, exit status {status} (expected 0)", file=sys.stderr)
        return 1
    if left_in_pane or left_in_folder:
        print("demo: FAILED, processes were left running", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
