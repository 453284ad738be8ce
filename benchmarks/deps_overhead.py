"""Dependency-recording overhead on a full run, beside pytest-testmon's on the same suite.

Interleaved rounds on the generated suite (benchmarks/generate_suite.py, 2,000 fast tests):
plain pytest; pytest with testwatch's recorder plugin (the in-child cost); ``testwatch run`` and
``testwatch run --deps`` (which also stores test_deps/file_state/coverage); and, from testmon's
venv, plain pytest and ``pytest --testmon`` on a fresh .testmondata (a full recording run).
Prints wall and CPU medians (CPU time is steadier on a loaded machine) and each tool's ratio
against its own plain-pytest anchor measured in the same run. ``--python`` runs pytest and
testwatch on another interpreter (one with testwatch installed); on Python 3.12+, where the
recorder uses ``sys.monitoring``, the recorder forced onto coverage.py's tracer is measured too.

    python benchmarks/deps_overhead.py [--tests 2000] [--rounds 5] [--python PATH] [--testmon-python PATH]
"""

from __future__ import annotations

import argparse
import resource
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


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and everything it waited for)."""
    started, cpu = time.perf_counter(), _cpu_s()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, _cpu_s() - cpu


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--testmon-python", default="/work/benchvenv-watch/bin/python")
    parser.add_argument("--python", default=sys.executable, help="interpreter for pytest and testwatch")
    args = parser.parse_args()
    suite = generate_suite(_fresh(WORK / "suite"), args.tests, max(1, args.tests // 50))
    testmon = args.testmon_python if Path(args.testmon_python).exists() else None
    py = args.python
    monitored = subprocess.run([py, "-c", "import sys; print(hasattr(sys, 'monitoring'))"],
                               capture_output=True, text=True, check=True).stdout.strip() == "True"
    scratch = Path(tempfile.mkdtemp(prefix="tw-overhead-"))

    def testmon_run() -> list[str]:
        for stale in suite.glob(".testmondata*"):
            stale.unlink()
        return [testmon, "-m", "pytest", "-q", "--testmon"]

    def deps_child(*extra: str):
        def argv() -> list[str]:
            return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "-p", "testwatch.collectors.in_pytest.deps_plugin",
                    f"--testwatch-deps={_fresh(scratch / 'deps')}", *extra]
        return argv

    def testwatch(*extra: str):
        def argv() -> list[str]:
            db = scratch / "history.db"
            for stale in scratch.glob("history.db*"):
                stale.unlink()
            return [py, "-m", "testwatch", "run", str(suite), "--db", str(db), *extra]
        return argv

    variants = {
        "pytest": lambda: [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        "pytest + recorder plugin": deps_child(),
        "testwatch run": testwatch(),
        "testwatch run --deps": testwatch("--deps"),
    }
    if monitored:
        variants["recorder on coverage.py"] = deps_child("--testwatch-tracer=coverage")
    if testmon:
        variants["pytest (testmon venv)"] = lambda: [testmon, "-m", "pytest", "-q"]
        variants["pytest --testmon"] = testmon_run
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for round_number in range(args.rounds):
        order = list(variants) if round_number % 2 == 0 else list(reversed(variants))
        for name in order:
            times[name].append(_timed(variants[name](), suite))
    print(f"{args.tests} tests, {args.rounds} interleaved rounds on {py}, medians (wall, CPU):")
    for measure, index in (("wall", 0), ("CPU", 1)):
        median = {name: statistics.median(v[index] for v in values) for name, values in times.items()}
        if index == 0:
            for name in median:
                cpu = statistics.median(v[1] for v in times[name])
                print(f"  {name:<26} {median[name]:6.2f} s wall  {cpu:6.2f} s CPU")
        child = median["pytest + recorder plugin"] / median["pytest"]
        deps = median["testwatch run --deps"]
        line = (f"{measure:>4}: recorder plugin {child:.2f}x pytest; testwatch run --deps "
                f"{deps / median['pytest']:.2f}x pytest, {deps / median['testwatch run']:.2f}x testwatch run")
        if monitored:
            forced = median["recorder on coverage.py"] / median["pytest"]
            line += f"; recorder on coverage.py {forced:.2f}x pytest"
        if testmon:
            ratio = median["pytest --testmon"] / median["pytest (testmon venv)"]
            line += f"; pytest --testmon {ratio:.2f}x pytest"
        print(line)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
