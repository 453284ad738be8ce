"""What testwatch's measurements cost, against plain pytest, pytest-monitor and pytest-memray.

Run it with an interpreter that has testwatch, pytest-monitor and pytest-memray installed (never
/work/venv: pytest-monitor slows every pytest run in its environment):

    /work/benchvenv-measure/bin/python -u benchmarks/measure_overhead.py --rounds 3 --monitor-rounds 1

Part 1, speed (wall and CPU time): the generated suite of ``generate_suite.py`` (2,000 tests in
40 files); each round times every tool once, in an order that rotates per round; prints medians
and ratios to plain pytest. "pytest + measuring plugins" is plain pytest with testwatch's two
per-test measuring plugins loaded (peak memory; memray, idle without markers), the part of
testwatch's default cost that grows with the suite. Targets: testwatch default <= 1.05x;
testwatch --memray's extra cost <= half of pytest-memray's. Plugins the tool under test does not
use are disabled with ``-p no:``.

Part 2, accuracy: a few tests with known allocations run under ``testwatch run --memray``; each
test's kernel peak growth (``peak_growth_bytes``) is compared with memray's heap peak for the same test.
Target: within 10%.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite
from user_env import user_env

DEFAULT_TARGET = 1.05
MEMRAY_SHARE_TARGET = 0.5
ACCURACY_TARGET = 0.10
MIB = 1024 * 1024

ALLOCATION_TESTS = '''
KEPT = []


def touch(size):
    data = bytearray(size)
    data[::4096] = b"\\1" * len(data[::4096])
    return data


def test_200mb_freed():
    data = touch(200 * 1024 * 1024)
    del data


def test_50mb_kept():
    KEPT.append(touch(50 * 1024 * 1024))


def test_20mb_in_pieces():
    pieces = [touch(1024 * 1024) for _ in range(20)]
    del pieces
'''


def time_command_s(argv: list[str], cwd: Path, fresh_db: Path | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the whole process tree) of one command.

    The command must exit 0 (pytest-monitor: 0 or 1, see below). CPU time is the steadier figure
    on a shared, loaded machine: other people's processes stretch wall time, not our CPU time.
    """
    if fresh_db is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{fresh_db}{suffix}").unlink(missing_ok=True)
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=user_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed_s = time.perf_counter() - started
    # pytest-monitor 1.6.6 errors in its own module-scope fixture under pytest 8 (exit 1).
    allowed = (0, 1) if "no:monitor" not in argv and "--memray" not in argv else (0,)
    if done.returncode not in allowed:
        raise SystemExit(f"{' '.join(argv[:6])} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed_s, _children_cpu_s() - cpu_before


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


FIRST_MEMRAY = "testwatch --memray, 1st"
RERUN_MEMRAY = "testwatch --memray, rerun"
MONITOR = "pytest-monitor"
PLUGINS = "pytest + measuring plugins"  # the per-test part of testwatch's default cost, alone
MEASURING_PLUGINS = (
    "testwatch.collectors.in_pytest.peak_memory",
    "testwatch.collectors.in_pytest.memray_plugin",
)


def commands(tmp: Path) -> dict[str, list[str]]:
    """Each tool's command. The memray modes keep their own history: "1st" starts from an empty
    one every time (every test tracked), "rerun" reuses it (known-small tests left untracked)."""
    py = sys.executable
    quiet = ["-q", "-p", "no:cacheprovider"]
    only_ours = [*quiet, "-p", "no:monitor", "-p", "no:memray"]
    testwatch = [py, "-m", "testwatch", "run", "."]
    return {
        "plain pytest": [py, "-m", "pytest", *only_ours],
        PLUGINS: [py, "-m", "pytest", *only_ours, *(f"-p{plugin}" for plugin in MEASURING_PLUGINS)],
        "testwatch": [*testwatch, "--db", str(tmp / "default.db"), "--", *only_ours],
        FIRST_MEMRAY: [*testwatch, "--db", str(tmp / "first.db"), "--memray", "--", *only_ours],
        RERUN_MEMRAY: [*testwatch, "--db", str(tmp / "rerun.db"), "--memray", "--", *only_ours],
        "pytest-memray": [py, "-m", "pytest", *quiet, "-p", "no:monitor", "--memray"],
        MONITOR: [py, "-m", "pytest", *quiet, "-p", "no:memray"],
    }


def speed(tmp: Path, tests: int, files: int, rounds: int, monitor_rounds: int) -> None:
    suite = generate_suite(tmp / "suite", tests, files)
    tools = commands(tmp)
    fresh = {FIRST_MEMRAY: tmp / "first.db"}
    for name, argv in tools.items():  # warm the file cache and bytecode once
        if name != MONITOR:
            time_command_s(argv, suite)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
    names = list(tools)
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[: round_index % len(names)]
        for name in order:
            if name == MONITOR and round_index >= monitor_rounds:
                continue  # about 0.1 s per test: a few rounds are enough to place it
            times[name].append(time_command_s(tools[name], suite, fresh.get(name)))
        print(f"round {round_index + 1} (wall/cpu s): " + ", ".join(
            f"{n} {times[n][-1][0]:.2f}/{times[n][-1][1]:.2f}" for n in names if len(times[n]) > round_index
        ), flush=True)
    print(f"\n{tests} tests in {files} files, {rounds} rounds ({MONITOR}: {min(rounds, monitor_rounds)})")
    timed = {name: ts for name, ts in times.items() if ts}  # --monitor-rounds 0 leaves one empty
    for column, label in ((0, "wall time"), (1, "CPU time")):
        _verdicts(label, {name: statistics.median(t[column] for t in ts) for name, ts in timed.items()})


def _verdicts(label: str, medians_s: dict[str, float]) -> None:
    plain_s = medians_s["plain pytest"]
    print(f"median {label} and ratio to plain pytest:")
    for name, median_s in medians_s.items():
        print(f"  {name:<26} {median_s:7.2f} s  {median_s / plain_s:6.2f}x")
    print(f"  measuring plugins alone: {medians_s[PLUGINS] / plain_s:.3f}x plain pytest")
    ratio = medians_s["testwatch"] / plain_s
    print(f"  testwatch default: {ratio:.3f}x ({'meets' if ratio <= DEFAULT_TARGET else 'misses'} "
          f"the {DEFAULT_TARGET:.2f}x target)")
    extra_memray_s = medians_s["pytest-memray"] - plain_s
    for name in (FIRST_MEMRAY, RERUN_MEMRAY):
        share = (medians_s[name] - plain_s) / extra_memray_s if extra_memray_s > 0 else float("inf")
        verdict = "meets" if share <= MEMRAY_SHARE_TARGET else "misses"
        print(f"  {name}: extra cost over plain pytest = {share:.2f} of pytest-memray's "
              f"({verdict} the {MEMRAY_SHARE_TARGET:.1f} target)")


def accuracy(tmp: Path) -> None:
    project = tmp / "alloc"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_alloc.py").write_text(textwrap.dedent(ALLOCATION_TESTS))
    db = tmp / "alloc.db"
    argv = [sys.executable, "-m", "testwatch", "run", ".", "--db", str(db), "--memray",
            "--", "-p", "no:monitor", "-p", "no:memray", "-p", "no:cacheprovider"]
    time_command_s(argv, project)
    rows = sqlite3.connect(db).execute(
        "select nodeid, peak_growth_bytes, retained_bytes, heap_peak_bytes, leaked_bytes from results"
    ).fetchall()
    print("allocation tests: testwatch's kernel peak (always on) vs memray's heap peak")
    worst = 0.0
    for nodeid, peak, retained, heap_peak, leaked in rows:
        error = abs(peak - heap_peak) / heap_peak
        worst = max(worst, error)
        print(f"  {nodeid.split('::')[1]:<22} peak {peak / MIB:7.1f} MiB  memray {heap_peak / MIB:7.1f} MiB"
              f"  ({error:5.1%})  retained {retained / MIB:6.1f} MiB  memray leaked {leaked / MIB:6.1f} MiB")
    verdict = "meets" if worst <= ACCURACY_TARGET else "misses"
    print(f"largest difference {worst:.1%} ({verdict} the {ACCURACY_TARGET:.0%} target)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--monitor-rounds", type=int, default=2, help="rounds that include pytest-monitor")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tw-measure-") as tmp:
        accuracy(Path(tmp))
        speed(Path(tmp), args.tests, args.files, args.rounds, args.monitor_rounds)


if __name__ == "__main__":
    main()
