"""What testwatch's measurements cost, against plain pytest, pytest-monitor and pytest-memray.

Run it with an interpreter that has testwatch, pytest-monitor and pytest-memray installed (never
/work/venv: pytest-monitor slows every pytest run in its environment):

    /work/benchvenv-measure/bin/python benchmarks/measure_overhead.py --rounds 5

Part 1, speed: the generated suite of ``generate_suite.py`` (2,000 tests in 40 files); each round
times every tool once, in an order that rotates per round; prints medians and ratios to plain
pytest. Targets: testwatch default <= 1.05x; testwatch --memray's extra cost <= half of
pytest-memray's. Plugins the tool under test does not use are disabled with ``-p no:``.

Part 2, accuracy: a few tests with known allocations run under ``testwatch run --memray``; each
test's kernel peak (``peak_rss_bytes``) is compared with memray's heap peak for the same test.
Target: within 10%.
"""

from __future__ import annotations

import argparse
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


def time_command_s(argv: list[str], cwd: Path) -> float:
    """Wall time of one command, which must exit 0."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed_s


def commands(db: Path) -> dict[str, list[str]]:
    py = sys.executable
    quiet = ["-q", "-p", "no:cacheprovider"]
    testwatch = [py, "-m", "testwatch", "run", ".", "--db", str(db)]
    return {
        "plain pytest": [py, "-m", "pytest", *quiet, "-p", "no:monitor", "-p", "no:memray"],
        "testwatch": [*testwatch, "--", *quiet, "-p", "no:monitor", "-p", "no:memray"],
        "testwatch --memray": [*testwatch, "--memray", "--", *quiet, "-p", "no:monitor", "-p", "no:memray"],
        "pytest-monitor": [py, "-m", "pytest", *quiet, "-p", "no:memray"],
        "pytest-memray": [py, "-m", "pytest", *quiet, "-p", "no:monitor", "--memray"],
    }


def speed(tmp: Path, tests: int, files: int, rounds: int) -> None:
    suite = generate_suite(tmp / "suite", tests, files)
    tools = commands(tmp / "history.db")
    for argv in tools.values():  # warm the file cache and bytecode once
        time_command_s(argv, suite)
    times_s: dict[str, list[float]] = {name: [] for name in tools}
    names = list(tools)
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[: round_index % len(names)]
        for name in order:
            times_s[name].append(time_command_s(tools[name], suite))
        print(f"round {round_index + 1}: " + ", ".join(f"{n} {times_s[n][-1]:.2f} s" for n in names))
    medians_s = {name: statistics.median(values) for name, values in times_s.items()}
    plain_s = medians_s["plain pytest"]
    print(f"\n{tests} tests in {files} files, {rounds} rounds, median wall time and ratio to plain pytest:")
    for name, median_s in medians_s.items():
        print(f"  {name:<20} {median_s:7.2f} s  {median_s / plain_s:6.2f}x")
    ratio = medians_s["testwatch"] / plain_s
    print(f"testwatch default: {ratio:.3f}x ({'meets' if ratio <= DEFAULT_TARGET else 'misses'} "
          f"the {DEFAULT_TARGET:.2f}x target)")
    extra_memray_s = medians_s["pytest-memray"] - plain_s
    extra_ours_s = medians_s["testwatch --memray"] - medians_s["testwatch"]
    share = extra_ours_s / extra_memray_s if extra_memray_s > 0 else float("inf")
    print(f"testwatch --memray adds {extra_ours_s:.2f} s, pytest-memray adds {extra_memray_s:.2f} s: "
          f"{share:.2f} of its cost ({'meets' if share <= MEMRAY_SHARE_TARGET else 'misses'} "
          f"the {MEMRAY_SHARE_TARGET:.1f} target)")


def accuracy(tmp: Path) -> None:
    project = tmp / "alloc"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_alloc.py").write_text(textwrap.dedent(ALLOCATION_TESTS))
    db = tmp / "alloc.db"
    argv = [sys.executable, "-m", "testwatch", "run", ".", "--db", str(db), "--memray",
            "--", "-p", "no:monitor", "-p", "no:memray", "-p", "no:cacheprovider"]
    time_command_s(argv, project)
    rows = sqlite3.connect(db).execute(
        "select nodeid, peak_rss_bytes, retained_bytes, heap_peak_bytes, leaked_bytes from results"
    ).fetchall()
    print("\nallocation tests: testwatch's kernel peak (always on) vs memray's heap peak")
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tw-measure-") as tmp:
        accuracy(Path(tmp))
        speed(Path(tmp), args.tests, args.files, args.rounds)


if __name__ == "__main__":
    main()
