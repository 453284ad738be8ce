"""A long history: 10,000 runs and 1,000,000 results in the real schema, then the queries the app
makes on it, timed (median of several rounds), and ``testwatch export --table results`` to CSV.

The suite behind the history has 2,000 tests in 100 files; each run ran 100 of them (as a
watch-mode selection does), with call durations, peak memory, 2% failures with tracebacks and some
captured output. Targets (issue 7): every query under 100 ms; export at least 200,000 rows/s
without loading the table (the exporter's peak RSS is printed). The export is timed as the real
CLI command writing a real file, wall clock from start to exit; its CPU time and the load average
are printed beside it, since other processes on the machine stretch the wall time.

    /work/venv/bin/python benchmarks/long_history.py [--keep /tmp/long.db] [--export-only]
        [--export-rounds 3] [--export-workers auto 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from testwatch.history.store import History, open_history
from testwatch.measure.latency import recent_latencies

RUNS = 10_000
RESULTS_PER_RUN = 100
TESTS = 2_000
FILES = 100
TARGET_MS = 100.0
TARGET_ROWS_PER_S = 200_000
TRACEBACK = "def test_case():\n>       assert total(items) == expected\nE       assert 41 == 42\n" * 6

# The queries the TUI makes (tui/app.py, tui/panes/*.py), copied here so the benchmark says what it times.
FLAKY_SQL = """
select nodeid, count(distinct outcome) as outcomes, count(*) as runs, sum(outcome = 'failed') as failures
from results join runs on runs.id = results.run_id
where outcome in ('passed', 'failed') and run_id in (select id from runs order by id desc limit 200)
group by nodeid, coalesce(git_revision, '') having outcomes > 1 order by failures desc limit 100
"""
TREND_SQL = "select duration_s, peak_rss_bytes from results where nodeid = ? order by id desc limit ?"
MEMORY_SQL = (
    "select nodeid, peak_growth_bytes, peak_rss_bytes, memory_precision, retained_bytes, "
    "top_allocations from results "
    "where run_id = (select max(run_id) from results where peak_growth_bytes is not null) "
    "and peak_growth_bytes is not null order by peak_growth_bytes desc limit ?"
)


def nodeid(index: int) -> str:
    file = index % FILES
    return f"tests/test_mod_{file}.py::test_case_{file}_{index // FILES}"


def generate(path: Path, seed: int = 7) -> None:
    """Write RUNS runs and RUNS * RESULTS_PER_RUN results into a new history at ``path``."""
    open_history(path).close()  # the real schema, every migration applied
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    base_s = [rng.uniform(0.0005, 0.05) for _ in range(TESTS)]
    with conn:
        for run_id in range(1, RUNS + 1):
            first = (run_id * RESULTS_PER_RUN) % TESTS
            rows = []
            for offset in range(RESULTS_PER_RUN):
                test = (first + offset) % TESTS
                failed = rng.random() < 0.02
                call_s = base_s[test] * rng.uniform(0.8, 1.3)
                name = nodeid(test)
                rows.append((
                    run_id, name, name.split("::")[0], 10 + test // FILES, "failed" if failed else "passed",
                    call_s + 0.0004, 0.0002, call_s, 0.0002, "passed", "failed" if failed else "passed",
                    "passed", TRACEBACK if failed else "", "output line\n" if test % 10 == 0 else "", "",
                    rng.randint(40, 90) * 1024 * 1024, rng.randint(0, 4) * 4096, "process",
                    f"2026-01-01T00:00:{run_id % 60:02d}.000+00:00",
                ))
            conn.executemany(
                "insert into results (run_id, nodeid, file, lineno, outcome, duration_s, setup_s, call_s,"
                " teardown_s, setup_outcome, call_outcome, teardown_outcome, longrepr, stdout, stderr,"
                " peak_growth_bytes, retained_bytes, memory_precision, finished_at)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            failures = sum(row[4] == "failed" for row in rows)
            conn.execute(
                "insert into runs (id, started_at, finished_at, trigger, status, exit_status, duration_s,"
                " selected, collected, passed, failed, error, skipped, xfailed, xpassed, crashed, timeout,"
                " python, git_revision, pid, args) values (?, ?, ?, 'watch', 'finished', ?, 1.5, ?, ?, ?, ?,"
                " 0, 0, 0, 0, 0, 0, '/usr/bin/python3', ?, 1, '[]')",
                (run_id, rows[0][-1], rows[-1][-1], int(failures > 0), RESULTS_PER_RUN, RESULTS_PER_RUN,
                 RESULTS_PER_RUN - failures, failures, f"{run_id // 50:07x}"),
            )
    conn.close()


def median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def time_queries(path: Path, rounds: int) -> list[tuple[str, float]]:
    """Median milliseconds of each query the app makes on a long history."""
    figures = [("open the history", median_ms(lambda: open_history(path).close(), rounds))]
    history: History = open_history(path)
    suite = [nodeid(i) for i in range(TESTS)]
    try:
        queries: list[tuple[str, Callable[[], object]]] = [
            ("TUI start: last outcome of every test", history.last_outcomes),
            ("history pane: 100 recent runs", lambda: history.recent_runs(100)),
            ("history pane: flaky tests (200 runs)", lambda: list(history.rows(FLAKY_SQL))),
            ("a test's trend (50 runs)", lambda: list(history.rows(TREND_SQL, [suite[7], 50]))),
            ("memory pane: top tests of newest run", lambda: list(history.rows(MEMORY_SQL, [20]))),
            ("latency pane: p50/p95 of 2,000 tests", lambda: recent_latencies(history, suite)),
            ("latency of a 100-test run", lambda: recent_latencies(history, suite[:100])),
        ]
        for label, query in queries:
            figures.append((label, median_ms(query, rounds)))
    finally:
        history.close()
    return figures


def time_export(path: Path, out: Path, workers: str) -> tuple[float, float, int, int]:
    """Run the real CLI, ``testwatch export --table results -o FILE --workers N``, in a child process.

    Returns (wall seconds, CPU seconds of the child and its workers, data rows read back from the
    file, peak RSS bytes of the child or its largest worker).
    """
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "export", "--db", str(path), "--table", "results",
         "-o", str(out), *(["--workers", workers] if workers != "auto" else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own usage, its workers included
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"export failed: {child.stderr.read().strip()}")
    child.stderr.close()
    with out.open(newline="", encoding="utf-8") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1  # the header
    return seconds, usage.ru_utime + usage.ru_stime, rows, usage.ru_maxrss * 1024


def report_export(path: Path, folder: str, rounds: int, variants: list[str]) -> None:
    """Export once per variant of ``--workers`` each round (alternating), then print each one's
    median and best rate against the target, and the ratio of the medians to the first variant."""
    total = RUNS * RESULTS_PER_RUN
    rates: dict[str, list[float]] = {variant: [] for variant in variants}
    for round_number in range(1, rounds + 1):
        for variant in variants:
            load = os.getloadavg()[0]
            seconds, cpu_s, rows, peak_bytes = time_export(path, Path(folder) / "results.csv", variant)
            if rows != total:
                raise SystemExit(f"export wrote {rows:,} rows, expected {total:,}")
            rates[variant].append(total / seconds)
            print(f"  export round {round_number}, --workers {variant}: {total:,} rows in {seconds:.2f} s = "
                  f"{rates[variant][-1]:,.0f} rows/s; CPU {cpu_s:.2f} s = {cpu_s / total * 1e6:.2f} us/row; "
                  f"{rows:,} CSV rows read back; peak RSS {peak_bytes / 2**20:.0f} MiB; load {load:.1f}")
    first = statistics.median(rates[variants[0]])
    for variant, variant_rates in rates.items():
        best = max(variant_rates)
        median = statistics.median(variant_rates)
        verdict = "met" if best >= TARGET_ROWS_PER_S else "MISSED"
        print(f"  export --table results to CSV (real CLI, --workers {variant}, {rounds} rounds): median "
              f"{median:,.0f} rows/s ({median / first:.2f}x), best {best:,.0f} rows/s "
              f"(target >= {TARGET_ROWS_PER_S:,}: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="history file to reuse (generated if missing)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--export-rounds", type=int, default=3, help="exports of the whole table (default 3)")
    parser.add_argument("--export-only", action="store_true", help="skip the query timings")
    parser.add_argument("--export-workers", nargs="+", default=["auto"], metavar="N",
                        help="export with each --workers N in turn ('auto': the default); e.g. auto 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-long-") as folder:
        path = args.keep or Path(folder) / "history.db"
        if not path.exists():
            started = time.perf_counter()
            generate(path)
            print(f"generated {RUNS:,} runs, {RUNS * RESULTS_PER_RUN:,} results in "
                  f"{time.perf_counter() - started:.1f} s")
        size = os.path.getsize(path)
        print(f"history {path}: {size / 2**20:.0f} MiB, {size / RUNS / 1024:.1f} KiB per run")
        if not args.export_only:
            for label, ms in time_queries(path, args.rounds):
                verdict = "met" if ms < TARGET_MS else "MISSED"
                print(f"  {label:<40} {ms:8.1f} ms  (target < {TARGET_MS:.0f} ms: {verdict})")
        report_export(path, folder, args.export_rounds, args.export_workers)

if __name__ == "__main__":
    main()
