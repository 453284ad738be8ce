"""Soak test (not in CI): watch the demo project for N minutes with an edit every few seconds and
report testwatch's own RSS, open file descriptors and thread count at the start and the end.

    python benchmarks/soak.py --minutes 30 --edit-every 3

The start figures are taken after warm-up edits (imports and caches filled by the first runs are a
one-time cost; the figures after the first run are printed too); the target is no growth beyond
10% from start to end. Only the testwatch process itself
is measured, not its pytest children.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from testwatch.demo import copy_demo

# Two equivalent bodies of one function: each edit is a real change that reruns its tests.
EDIT_FILE = "shop/pricing.py"
BODIES = ("return round(net * (1 + rate), 2)", "return round((1 + rate) * net, 2)")
TARGET_GROWTH = 0.10


def figures(process: psutil.Process) -> dict[str, float]:
    """The watched process's own resident memory, open file descriptors and threads."""
    return {
        "rss_bytes": process.memory_info().rss,
        "open_fds": process.num_fds(),
        "threads": process.num_threads(),
    }


def runs_finished(log: Path) -> int:
    """Runs that ended (a summary line with ``(exit N)`` or ``(cancelled)``) in the watch log."""
    return len(re.findall(r"\((?:exit \d+|cancelled)\)$", log.read_text(errors="replace"), re.MULTILINE))


def wait_for_runs(log: Path, count: int, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while runs_finished(log) < count:
        if process.poll() is not None:
            sys.exit(f"testwatch exited with {process.returncode}; see {log}")
        if time.monotonic() > deadline:
            sys.exit(f"no run ended within {timeout_s:g} s; see {log}")
        time.sleep(0.1)


def wait_idle(log: Path, process: subprocess.Popen, timeout_s: float = 120) -> None:
    """Wait until the loop has run everything and waits for changes (no run, no recording open)."""
    deadline = time.monotonic() + timeout_s
    while not log.read_text(errors="replace").rstrip().endswith("waiting for changes"):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"testwatch did not go idle; see {log}")
        time.sleep(0.1)


def edit(root: Path, number: int) -> None:
    """Swap the function body for its equivalent twin (an editor's plain save)."""
    path = root / EDIT_FILE
    old, new = BODIES[number % 2], BODIES[(number + 1) % 2]
    path.write_text(path.read_text().replace(old, new))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to edit (default 30)")
    parser.add_argument("--edit-every", type=float, default=3.0, help="seconds between edits (default 3)")
    parser.add_argument("--warmup-edits", type=int, default=20, help="edits before the start figures")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="testwatch-soak-"))
    root = copy_demo(workdir / "shop-demo")
    log = workdir / "watch.log"  # outside the watched tree
    with log.open("w") as out:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "testwatch", "watch", "--headless", str(root)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    process = psutil.Process(watcher.pid)
    try:
        wait_for_runs(log, 1, watcher)
        wait_idle(log, watcher)
        first = figures(process)
        edits = 0
        for _ in range(args.warmup_edits):
            edit(root, edits)
            edits += 1
            wait_for_runs(log, 1 + edits, watcher)
        wait_idle(log, watcher)
        start = figures(process)
        started = time.monotonic()
        while time.monotonic() - started < args.minutes * 60:
            edit(root, edits)
            edits += 1
            time.sleep(args.edit_every)
        wait_idle(log, watcher)
        end = figures(process)
        descriptors = sorted(os.listdir(f"/proc/{watcher.pid}/fd"), key=int)
        targets = [os.readlink(f"/proc/{watcher.pid}/fd/{fd}") for fd in descriptors]
        total_runs = runs_finished(log)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=60)

    print(f"soak: {args.minutes:g} min, an edit every {args.edit_every:g} s, {edits} edits, "
          f"{total_runs} runs ended (log: {log})")
    worst = 0.0
    for name, before in start.items():
        after = end[name]
        growth = (after - before) / before if before else 0.0
        worst = max(worst, growth)
        print(f"  {name:<10} first run {first[name]:>12,.0f}  start {before:>12,.0f}  "
              f"end {after:>12,.0f}  growth {growth:+.1%}")
    verdict = "within" if worst <= TARGET_GROWTH else "OVER"
    print(f"  worst growth {worst:+.1%}: {verdict} the {TARGET_GROWTH:.0%} target")
    print(f"  open at the end: {', '.join(targets)}")
    shutil.rmtree(root)  # the log stays for a look at what ran


if __name__ == "__main__":
    main()
