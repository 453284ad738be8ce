"""Dependency-recording overhead on a full run, beside pytest-testmon's on the same suite.

Interleaved rounds on the generated suite (benchmarks/generate_suite.py, 2,000 fast tests):
plain pytest; pytest with testwatch's recorder plugin (the in-child cost); ``testwatch run`` and
``testwatch run --deps`` (which also stores test_deps/file_state/coverage); and, from testmon's
venv, plain pytest and ``pytest --testmon`` on a fresh .testmondata (a full recording run).
Prints medians and each tool's ratio against its own plain-pytest anchor measured in the same run.

    python benchmarks/deps_overhead.py [--tests 2000] [--rounds 5] [--testmon-python PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite

WORK = Path(__file__).parent / ".work" / "deps_overhead"


def _timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--testmon-python", default="/work/benchvenv-watch/bin/python")
    args = parser.parse_args()
    suite = generate_suite(_fresh(WORK / "suite"), args.tests, max(1, args.tests // 50))
    testmon = args.testmon_python if Path(args.testmon_python).exists() else None
    py = sys.executable
    scratch = Path(tempfile.mkdtemp(prefix="tw-overhead-"))

    def testmon_run() -> list[str]:
        for stale in suite.glob(".testmondata*"):
            stale.unlink()
        return [testmon, "-m", "pytest", "-q", "--testmon"]

    def deps_child() -> list[str]:
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                "testwatch.collectors.deps_plugin", f"--testwatch-deps={_fresh(scratch / 'deps')}"]

    def testwatch(*extra: str):
        def argv() -> list[str]:
            db = scratch / "history.db"
            for stale in scratch.glob("history.db*"):
                stale.unlink()
            return [py, "-m", "testwatch", "run", str(suite), "--db", str(db), *extra]
        return argv

    variants = {
        "pytest": lambda: [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        "pytest + recorder plugin": deps_child,
        "testwatch run": testwatch(),
        "testwatch run --deps": testwatch("--deps"),
    }
    if testmon:
        variants["pytest (testmon venv)"] = lambda: [testmon, "-m", "pytest", "-q"]
        variants["pytest --testmon"] = testmon_run
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(args.rounds):
        order = list(variants) if round_number % 2 == 0 else list(reversed(variants))
        for name in order:
            times[name].append(_timed(variants[name](), suite))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.tests} tests, {args.rounds} interleaved rounds, medians:")
    for name, value in median.items():
        print(f"  {name:<26} {value:6.2f} s")
    child = median["pytest + recorder plugin"] / median["pytest"]
    print(f"recorder plugin in the child:   {child:.2f}x pytest")
    print(f"testwatch run --deps:           {median['testwatch run --deps'] / median['pytest']:.2f}x pytest, "
          f"{median['testwatch run --deps'] / median['testwatch run']:.2f}x testwatch run")
    if testmon:
        print(f"pytest --testmon (full record): "
              f"{median['pytest --testmon'] / median['pytest (testmon venv)']:.2f}x pytest")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
