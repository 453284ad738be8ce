"""testwatch's own cost on a big suite: CPU (% of one core) and peak RSS of the testwatch process
during a full ``testwatch run`` of 10,000 tests in 500 files, alone and with ``-- -n 2``.

Only the testwatch process is measured (sampled with psutil), not the pytest child or its xdist
workers, whose work is the tests'. Plain ``pytest`` on the same suite is timed in the same rounds,
alternating, so the wall-time ratio shows whether testwatch keeps up. Targets (issue 7): CPU < 25%
of one core, RSS < 300 MB.

    /work/venv/bin/python benchmarks/big_suite.py [--tests 10000 --files 500 --rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite  # a sibling script, not a package

CPU_TARGET_PERCENT = 25.0
RSS_TARGET_BYTES = 300 * 10**6
SAMPLE_INTERVAL_S = 0.05


def measure_testwatch(root: Path, db: Path, pytest_args: list[str]) -> dict[str, float]:
    """Run ``testwatch run`` once; its wall time, own CPU % of one core, peak RSS and exit code."""
    argv = [sys.executable, "-m", "testwatch", "run", str(root), "--db", str(db)]
    if pytest_args:
        argv += ["--", *pytest_args]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched = psutil.Process(process.pid)
    peak_rss = cpu_s = 0.0
    while process.poll() is None:
        try:
            with watched.oneshot():
                peak_rss = max(peak_rss, watched.memory_info().rss)
                times = watched.cpu_times()
                cpu_s = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(SAMPLE_INTERVAL_S)
    wall_s = time.perf_counter() - started
    code = process.wait()
    if code not in (0, 1):
        raise SystemExit(f"testwatch run failed ({code}): {process.stderr.read().decode()[-2000:]}")
    return {"wall_s": wall_s, "cpu_percent": 100 * cpu_s / wall_s, "peak_rss": peak_rss}


def time_pytest(root: Path, pytest_args: list[str]) -> float:
    """Wall seconds of plain ``python -m pytest -q`` on the suite."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-big-") as folder:
        root = generate_suite(Path(folder) / "suite", args.tests, args.files)
        print(f"big suite: {args.tests:,} tests in {args.files} files, {args.rounds} interleaved rounds, "
              f"{os.cpu_count()} cores")
        for label, pytest_args in (("single process", []), ("-n 2", ["-n", "2"])):
            runs, plain = [], []
            for round_number in range(args.rounds):
                db = Path(folder) / f"history-{label}-{round_number}.db"
                runs.append(measure_testwatch(root, db, pytest_args))
                plain.append(time_pytest(root, pytest_args))
            cpu = statistics.median(r["cpu_percent"] for r in runs)
            rss = max(r["peak_rss"] for r in runs)
            wall = statistics.median(r["wall_s"] for r in runs)
            pytest_wall = statistics.median(plain)
            cpu_verdict = "met" if cpu < CPU_TARGET_PERCENT else "MISSED"
            rss_verdict = "met" if rss < RSS_TARGET_BYTES else "MISSED"
            print(
                f"  {label:<14}: testwatch CPU {cpu:.1f}% of one core (target < {CPU_TARGET_PERCENT:.0f}%: "
                f"{cpu_verdict}), peak RSS {rss / 1e6:.0f} MB (target < {RSS_TARGET_BYTES / 1e6:.0f} MB: "
                f"{rss_verdict}); wall {wall:.1f} s vs plain pytest {pytest_wall:.1f} s "
                f"({wall / pytest_wall:.2f}x)"
            )


if __name__ == "__main__":
    main()
