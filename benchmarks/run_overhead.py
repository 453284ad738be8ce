"""What a headless ``testwatch run`` costs over plain ``pytest`` on a suite of small tests.

Generates a suite (default 2,000 tests in 40 files), then times, in alternating order per round,
``python -m pytest -q`` and ``python -m testwatch run`` (which records every result in its
SQLite history), both with output to /dev/null. Prints each round, the medians and their ratio.
Target: ratio <= 1.05.

    python benchmarks/run_overhead.py --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite

TARGET_RATIO = 1.05


def time_command_s(argv: list[str], cwd: Path) -> float:
    """Wall time of one command, which must exit 0."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tw-overhead-") as tmp:
        suite = generate_suite(Path(tmp) / "suite", args.tests, args.files)
        db = Path(tmp) / "history.db"
        commands = {
            "pytest": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            "testwatch": [sys.executable, "-m", "testwatch", "run", ".", "--db", str(db),
                          "--", "-p", "no:cacheprovider"],
        }
        for command in commands.values():  # warm the file cache and bytecode once
            time_command_s(command, suite)
        times_s: dict[str, list[float]] = {name: [] for name in commands}
        for round_index in range(args.rounds):
            order = list(commands) if round_index % 2 == 0 else list(reversed(commands))
            for name in order:
                times_s[name].append(time_command_s(commands[name], suite))
            print(f"round {round_index + 1}: " + ", ".join(f"{n} {times_s[n][-1]:.3f} s" for n in commands))
        medians_s = {name: statistics.median(values) for name, values in times_s.items()}
        ratio = medians_s["testwatch"] / medians_s["pytest"]
        print(f"{args.tests} tests in {args.files} files, {args.rounds} rounds, median wall time:")
        print(f"  plain pytest     {medians_s['pytest']:.3f} s")
        print(f"  testwatch run    {medians_s['testwatch']:.3f} s")
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"  ratio            {ratio:.3f}x ({verdict} the {TARGET_RATIO:.2f}x target)")


if __name__ == "__main__":
    main()
