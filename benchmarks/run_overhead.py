"""What a headless ``testwatch run`` costs over plain ``pytest`` on a suite of small tests.

Generates a suite (default 2,000 tests in 40 files), then times, in alternating order per round,
``python -m pytest -q`` and ``python -m testwatch run`` (which records every result in its
SQLite history), both with output to /dev/null. Prints each round, the medians and their ratio
of wall time (the target: <= 1.05) and of CPU time (user + system of the command and its
children), and the median of each round's own ratio. Both run with bytecode caching on, as on a
developer's machine (``user_env.py``).

    python benchmarks/run_overhead.py --rounds 7
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite
from user_env import user_env

TARGET_RATIO = 1.05


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command_s(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall time, CPU time) of one command and its children; the command must exit 0."""
    cpu_before_s = _children_cpu_s()
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=user_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed_s, _children_cpu_s() - cpu_before_s


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
        wall_s: dict[str, list[float]] = {name: [] for name in commands}
        cpu_s: dict[str, list[float]] = {name: [] for name in commands}
        for round_index in range(args.rounds):
            order = list(commands) if round_index % 2 == 0 else list(reversed(commands))
            for name in order:
                wall, cpu = time_command_s(commands[name], suite)
                wall_s[name].append(wall)
                cpu_s[name].append(cpu)
            print(f"round {round_index + 1}: " + ", ".join(
                f"{n} {wall_s[n][-1]:.3f} s (cpu {cpu_s[n][-1]:.3f} s)" for n in commands))
        print(f"{args.tests} tests in {args.files} files, {args.rounds} rounds, medians:")
        for label, series in (("wall", wall_s), ("cpu", cpu_s)):
            pytest_s, testwatch_s = (statistics.median(series[name]) for name in commands)
            ratio = testwatch_s / pytest_s
            # The two commands of a round ran back to back: their ratio cancels the machine's
            # slow and fast spells, which move single runs here by up to a third.
            rounds = zip(series["pytest"], series["testwatch"], strict=True)
            paired = statistics.median(t / p for p, t in rounds)
            verdict = "meets" if ratio <= TARGET_RATIO else "misses"
            print(f"  {label:<4}  plain pytest {pytest_s:.3f} s  testwatch run {testwatch_s:.3f} s  "
                  f"ratio {ratio:.3f}x ({verdict} the {TARGET_RATIO:.2f}x target); "
                  f"median of the rounds' ratios {paired:.3f}x")


if __name__ == "__main__":
    main()
