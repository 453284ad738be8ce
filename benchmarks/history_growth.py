"""How much the history file grows per run: bytes per ``testwatch run`` of the generated suite.

Runs the real ``testwatch run`` N times (default 20) on 2,000 passing tests (benchmarks/
generate_suite.py) with the default config: the default ``max_output`` cap and sample downsampling.
After each run the WAL is checkpointed into the file and the bytes in use (pages minus free pages)
are read; the figure is the median growth between consecutive runs, the first run excluded (it
creates the schema). Also prints the rows each table gains per run.

    /work/venv/bin/python benchmarks/history_growth.py [--tests 2000 --files 40 --runs 20]
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite  # a sibling script, not a package


def used_bytes_and_rows(db: Path) -> tuple[int, dict[str, int]]:
    """Checkpoint the WAL, then (bytes in use, row count of each table)."""
    connection = sqlite3.connect(db)
    try:
        connection.execute("pragma wal_checkpoint(truncate)")
        pages = connection.execute("pragma page_count").fetchone()[0]
        free = connection.execute("pragma freelist_count").fetchone()[0]
        size = connection.execute("pragma page_size").fetchone()[0]
        tables = [row[0] for row in connection.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")]
        rows = {name: connection.execute(f'select count(*) from "{name}"').fetchone()[0] for name in tables}
        return (pages - free) * size, rows
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-growth-") as folder:
        root = generate_suite(Path(folder) / "suite", args.tests, args.files)
        db = Path(folder) / "history.db"
        sizes, rows, walls = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "testwatch", "run", str(root), "--db", str(db)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            walls.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"testwatch run failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
            size, counts = used_bytes_and_rows(db)
            sizes.append(size)
            rows.append(counts)
        growth = [after - before for before, after in itertools.pairwise(sizes)]
        per_run = statistics.median(growth)
        print(f"{args.runs} runs of testwatch run, {args.tests:,} passing tests in {args.files} files "
              f"(default max_output and sampling), median run {statistics.median(walls):.1f} s:")
        print(f"  history after run 1: {sizes[0] / 1024:.0f} KiB; after run {args.runs}: "
              f"{sizes[-1] / 1024:.0f} KiB")
        print(f"  growth per run (runs 2..{args.runs}, median): {per_run:,.0f} bytes = "
              f"{per_run / 1024:.1f} KiB = {per_run / args.tests:.0f} bytes per test result")
        gained = {name: (rows[-1][name] - rows[0][name]) / (args.runs - 1) for name in rows[-1]}
        print("  rows per run: " + ", ".join(f"{name} {count:g}" for name, count in sorted(gained.items())
                                             if count))


if __name__ == "__main__":
    main()
