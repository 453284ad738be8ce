"""testwatch's own cost on a big suite: CPU (% of one core) and peak RSS of the testwatch process
during a full ``testwatch run`` of 10,000 tests in 500 files, alone and with ``-- -n 2``.

Only the testwatch process is measured (sampled with psutil), not the pytest child or its xdist
workers, whose work is the tests'. Plain ``pytest`` on the same suite is timed in the same rounds,
alternating, so the wall-time ratio shows whether testwatch keeps up; the results rows each run
left in its history show that the history writes kept up. Targets (issue 7): CPU < 25% of one
core, RSS < 300 MB.

``--parametrized`` generates 50,000 parametrized cases instead (500 files x 10 test functions x 10
parameters, every test calling its file's module and one of 5 shared modules), measures the same
figures, then records dependencies once (``testwatch run --deps``, its CPU and RSS too) and times
the selection after a one-line edit as ``benchmarks/selection_speed.py`` does (target < 100 ms).

    /work/venv/bin/python benchmarks/big_suite.py [--tests 10000 --files 500 --rounds 3]
    /work/venv/bin/python benchmarks/big_suite.py --parametrized [--rounds 1 --edit-rounds 5]
        [--work DIR]   # keep the suite and the recorded history in DIR; reuse them next time
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite  # sibling scripts, not a package
from selection_speed import SHARED_MODULES, Contenders, time_edits

CPU_TARGET_PERCENT = 25.0
RSS_TARGET_BYTES = 300 * 10**6
SAMPLE_INTERVAL_S = 0.05
PARAMETRIZED_TEST = """

@pytest.mark.parametrize("case", range({params}))
def test_case_{index}_{test}(case):
    assert add_{index}(case, {test}) == case + {test}
    assert clamp_{shared}(case, 0, case + 1) == case
"""


def generate_parametrized(root: Path, files: int, tests_per_file: int, params: int) -> Path:
    """A suite of ``files * tests_per_file * params`` cases: each test file's functions are
    parametrized and call the file's module and one shared module (``generate_suite``'s layout)."""
    generate_suite(root, 0, files, SHARED_MODULES)
    for index in range(files):
        path = root / "tests" / f"test_mod_{index}.py"
        body = [path.read_text(encoding="utf-8"), "import pytest\n"]
        body += [
            PARAMETRIZED_TEST.format(index=index, test=test, params=params, shared=index % SHARED_MODULES)
            for test in range(tests_per_file)
        ]
        path.write_text("".join(body), encoding="utf-8")
    return root


def results_rows(db: Path) -> int:
    """Rows in the history's results table."""
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from results").fetchone()[0]


def measure_testwatch(
    root: Path, db: Path, pytest_args: list[str], run_args: tuple[str, ...] = ()
) -> dict[str, float]:
    """Run ``testwatch run`` once; its wall time, own CPU % of one core, peak RSS, results rows."""
    argv = [sys.executable, "-m", "testwatch", "run", str(root), "--db", str(db), *run_args]
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
    return {"wall_s": wall_s, "cpu_percent": 100 * cpu_s / wall_s, "peak_rss": peak_rss,
            "rows": results_rows(db)}


def time_pytest(root: Path, pytest_args: list[str]) -> float:
    """Wall seconds of plain ``python -m pytest -q`` on the suite."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return time.perf_counter() - started


def verdicts(cpu: float, rss: float) -> str:
    """The CPU and RSS figures with their targets."""
    cpu_verdict = "met" if cpu < CPU_TARGET_PERCENT else "MISSED"
    rss_verdict = "met" if rss < RSS_TARGET_BYTES else "MISSED"
    return (f"testwatch CPU {cpu:.1f}% of one core (target < {CPU_TARGET_PERCENT:.0f}%: {cpu_verdict}), "
            f"peak RSS {rss / 1e6:.0f} MB (target < {RSS_TARGET_BYTES / 1e6:.0f} MB: {rss_verdict})")


def compare(root: Path, folder: Path, rounds: int, cases: int) -> None:
    """Alone and with ``-n 2``: testwatch run and plain pytest in alternating rounds; one line each."""
    for label, pytest_args in (("single process", []), ("-n 2", ["-n", "2"])):
        runs, plain = [], []
        for round_number in range(rounds):
            db = folder / f"history-{label}-{round_number}.db"
            for stale in folder.glob(f"{db.name}*"):
                stale.unlink()  # each round's rows are its own
            runs.append(measure_testwatch(root, db, pytest_args))
            plain.append(time_pytest(root, pytest_args))
        cpu = statistics.median(r["cpu_percent"] for r in runs)
        rss = max(r["peak_rss"] for r in runs)
        wall = statistics.median(r["wall_s"] for r in runs)
        pytest_wall = statistics.median(plain)
        rows = "/".join(f"{r['rows']:,}" for r in runs)
        print(f"  {label:<14}: {verdicts(cpu, rss)}; wall {wall:.1f} s vs plain pytest {pytest_wall:.1f} s "
              f"({wall / pytest_wall:.2f}x); results rows {rows} of {cases:,}")


def record_and_select(root: Path, folder: Path, files: int, edit_rounds: int) -> None:
    """One ``testwatch run --deps`` (measured), then selection times after one-line edits."""
    db = folder / "history-deps.db"
    recorded = None if db.exists() else measure_testwatch(root, db, [], ("--deps",))
    with sqlite3.connect(db) as conn:
        deps_rows = conn.execute("select count(*) from test_deps").fetchone()[0]
    if recorded is None:
        print(f"  run --deps    : reused {db}; test_deps rows {deps_rows:,}")
    else:
        print(f"  run --deps    : {verdicts(recorded['cpu_percent'], recorded['peak_rss'])}; "
              f"wall {recorded['wall_s']:.1f} s; results rows {recorded['rows']:,}, "
              f"test_deps rows {deps_rows:,}")
    contenders = Contenders(root, db)
    try:
        print("  selection after a one-line edit, " + "\n  ".join(time_edits(contenders, files, edit_rounds)))
    finally:
        contenders.history.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=None, help="default 3, or 1 with --parametrized")
    parser.add_argument("--parametrized", action="store_true",
                        help="50,000 parametrized cases (files x --functions x --params), then selection")
    parser.add_argument("--functions", type=int, default=10, help="test functions per file (--parametrized)")
    parser.add_argument("--params", type=int, default=10, help="parameters per function (--parametrized)")
    parser.add_argument("--edit-rounds", type=int, default=5,
                        help="selection rounds per edit (--parametrized)")
    parser.add_argument("--work", type=Path, help="keep the suite and histories here and reuse them")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.parametrized else 3)
    with tempfile.TemporaryDirectory(prefix="tw-big-") as scratch:
        folder = args.work or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if args.parametrized:
            cases = args.files * args.functions * args.params
            root = folder / "suite"
            if not root.exists():
                generate_parametrized(root, args.files, args.functions, args.params)
            shape = (f"{cases:,} parametrized cases ({args.files} files x {args.functions} functions x "
                     f"{args.params} params)")
        else:
            cases = args.tests
            root = folder / "suite"
            if not root.exists():
                generate_suite(root, args.tests, args.files)
            shape = f"{args.tests:,} tests in {args.files} files"
        print(f"big suite: {shape}, {rounds} interleaved rounds, {os.cpu_count()} cores")
        compare(root, folder, rounds, cases)
        if args.parametrized:
            record_and_select(root, folder, args.files, args.edit_rounds)


if __name__ == "__main__":
    main()
