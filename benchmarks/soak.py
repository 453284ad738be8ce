"""Soak test (not in CI): watch the demo project for N minutes with an edit every few seconds and
report what testwatch holds: its own RSS, open file descriptors, threads and inotify instances,
the folders in its temp folder and the processes the tests left running.

    python benchmarks/soak.py --minutes 30 --edit-every 2

The demo project gets one more test file whose tests make and remove a top-level folder and start
a detached child (``start_new_session=True``) on every run: the faults that leaked watchers and
processes. Figures are taken with the loop idle (edits paused until it waits for changes) after
the first minute and at the end, and at every ``--sample-every`` minutes between; the target is
under 10% RSS growth from the first minute to the end, with every count flat. Only the testwatch
process itself is measured, not its pytest children; testwatch runs with its own TMPDIR.

``--probe DIR`` runs testwatch through ``benchmarks/soak_probe.py``, which writes a report of where
its memory is (mappings, malloc, SQLite, Python objects) at every sample, for
``python benchmarks/soak_probe.py compare DIR FIRST LAST``; the probe adds a thread of its own.
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
from soak_probe import take

from testwatch.cli.demo_copy import copy_demo

# Two equivalent bodies of one function: each edit is a real change that reruns its tests.
EDIT_FILE = "shop/pricing.py"
BODIES = ("return round(net * (1 + rate), 2)", "return round((1 + rate) * net, 2)")
TARGET_GROWTH = 0.10
# Selected with the pricing tests (they run the edited function); MARKER names their children.
FAULTS_TEST = """
import shutil
import subprocess
import sys
import time
from pathlib import Path

from shop import pricing

MARKER = {marker!r}


def test_makes_and_removes_a_top_level_folder():
    assert pricing.with_vat(10.0) > 10  # runs the edited line: every edit selects this test
    root = Path(__file__).parent.parent
    for left in root.glob("scratch_*"):  # what a cancelled run left
        shutil.rmtree(left)
    folder = root / f"scratch_{{time.monotonic_ns()}}"
    folder.mkdir()
    (folder / "data.txt").write_text("x")
    time.sleep(0.4)
    shutil.rmtree(folder)


def test_starts_a_detached_child():
    assert pricing.with_vat(10.0) > 10
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", MARKER],
                     start_new_session=True)
"""


def figures(process: psutil.Process, temp: Path, marker: str) -> dict[str, float]:
    """What the watching process holds, and what the runs left around it."""
    inotify = 0
    for fd in os.listdir(f"/proc/{process.pid}/fd"):
        try:
            inotify += os.readlink(f"/proc/{process.pid}/fd/{fd}") == "anon_inode:inotify"
        except OSError:
            continue
    ours = [name for name in os.listdir(temp) if name.startswith(("tw-", "testwatch-"))]
    return {
        "rss_bytes": process.memory_info().rss,
        "open_fds": process.num_fds(),
        "threads": process.num_threads(),
        "inotify": inotify,
        "tw_temp_dirs": len(ours),
        "other_temp": len(os.listdir(temp)) - len(ours),  # other pytest plugins' (not ours)
        "leftovers": len(leftover_processes(marker)),
    }


def leftover_processes(marker: str) -> list[psutil.Process]:
    """Live detached children of the soak's tests (their command line carries ``marker``)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if marker in (process.info["cmdline"] or []) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def runs_finished(log: Path) -> int:
    """Runs that ended (a summary line with ``(exit N)`` or ``(cancelled)``) in the watch log."""
    return len(re.findall(r"\((?:exit \d+|cancelled)\)$", log.read_text(errors="replace"), re.MULTILINE))


def wait_idle(log: Path, process: subprocess.Popen, timeout_s: float = 180) -> None:
    """Wait until the loop has run everything and waits for changes (no run, no recording open)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(errors="replace")
        if runs_finished(log) and text.rfind("waiting for changes") > text.rfind("\nrun "):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"testwatch did not go idle; see {log}")
        time.sleep(0.2)


def settle(log: Path, process: subprocess.Popen, quiet_s: float = 3.0) -> None:
    """Idle, and still idle ``quiet_s`` later with no new run: the last edit's run has been made."""
    while True:
        wait_idle(log, process)
        runs = log.read_text(errors="replace").count("\nrun ")
        time.sleep(quiet_s)
        wait_idle(log, process)
        if log.read_text(errors="replace").count("\nrun ") == runs:
            return


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
    parser.add_argument("--edit-every", type=float, default=2.0, help="seconds between edits (default 2)")
    parser.add_argument("--sample-every", type=float, default=5.0, help="minutes between idle samples")
    parser.add_argument("--probe", type=Path, help="write memory reports here (benchmarks/soak_probe.py)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="testwatch-soak-"))
    root = copy_demo(workdir / "shop-demo")
    marker = f"soak-child-{workdir.name}"
    (root / "tests" / "test_soak_faults.py").write_text(FAULTS_TEST.format(marker=marker))
    temp = workdir / "tmp"  # testwatch's TMPDIR: what it leaves there is counted
    temp.mkdir()
    log = workdir / "watch.log"  # outside the watched tree
    env = {**os.environ, "TMPDIR": str(temp)}
    program = ["-m", "testwatch"]
    if args.probe:
        args.probe.mkdir(parents=True, exist_ok=True)
        env["SOAK_PROBE_DIR"] = str(args.probe)
        program = [str(Path(__file__).with_name("soak_probe.py"))]
    with log.open("w") as out:
        watcher = subprocess.Popen(
            [sys.executable, *program, "watch", "--headless", str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    process = psutil.Process(watcher.pid)
    samples: list[tuple[float, dict[str, float]]] = []
    edits = 0
    try:
        wait_idle(log, watcher)
        started = time.monotonic()
        next_sample = 1.0
        while (elapsed_min := (time.monotonic() - started) / 60) < args.minutes:
            if elapsed_min >= next_sample:
                settle(log, watcher)
                samples.append((elapsed_min, figures(process, temp, marker)))
                if args.probe:
                    take(args.probe, f"{elapsed_min:05.1f}")
                next_sample = args.sample_every * (1 + int(elapsed_min // args.sample_every))
            edit(root, edits)
            edits += 1
            time.sleep(args.edit_every)
        settle(log, watcher)
        samples.append(((time.monotonic() - started) / 60, figures(process, temp, marker)))
        if args.probe:
            take(args.probe, "end")
        descriptors = sorted(os.listdir(f"/proc/{watcher.pid}/fd"), key=int)
        targets = [os.readlink(f"/proc/{watcher.pid}/fd/{fd}") for fd in descriptors]
        total_runs = runs_finished(log)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=60)
        for leftover in leftover_processes(marker):  # a failed soak must not leave them either
            leftover.kill()

    print(
        f"soak: {args.minutes:g} min, an edit every {args.edit_every:g} s, {edits} edits, "
        f"{total_runs} runs ended (log: {log})"
    )
    names = list(samples[0][1])
    print("  minute " + "".join(f"{name:>14}" for name in names))
    for minute, sample in samples:
        print(f"  {minute:6.1f} " + "".join(f"{sample[name]:>14,.0f}" for name in names))
    first, end = samples[0][1], samples[-1][1]
    growth = (end["rss_bytes"] - first["rss_bytes"]) / first["rss_bytes"]
    grew = [name for name in names[1:] if end[name] > first[name]]
    verdict = "within" if growth <= TARGET_GROWTH else "OVER"
    print(
        f"  RSS growth from minute 1 to the end {growth:+.1%}: {verdict} the {TARGET_GROWTH:.0%} target; "
        f"{'grew: ' + ', '.join(grew) if grew else 'every count flat or lower'}"
    )
    print(f"  open at the end: {', '.join(targets)}")
    shutil.rmtree(root)  # the log stays for a look at what ran


if __name__ == "__main__":
    main()
