"""Edit latency: from a file write to the first and last result of the affected tests in the history.

Runs the real ``testwatch watch --headless`` on the sample project (benchmarks/sample_shop.py),
edits a function body many times (each edit selects the tests calling it), and reads the results'
``finished_at`` from the history. Interleaved with the edits, it times plain pytest collecting and
running one of those tests: the target is first result <= 0.5 s + that time.

    python benchmarks/edit_latency.py [--edits 20]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sample_shop import write_sample

WORK = Path(__file__).parent / ".work" / "latency"
TARGET = "shop/text.py"
BODIES = ('return text.upper() + "!"', 'return text.upper() + "!" + ""')
ONE_TEST = "tests/test_text.py::test_shout"
DEADLINE_S = 120


def _query(db: Path, sql: str, params=()) -> list[tuple]:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # the history is still being created
        return []


def _wait(condition, what: str):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _one_edit(root: Path, db: Path, n: int) -> tuple[float, float, int]:
    last_run = _query(db, "select coalesce(max(id), 0) from runs")[0][0]
    path = root / TARGET
    text = path.read_text()
    written = time.time()
    path.write_text(text.replace(BODIES[n % 2], BODIES[(n + 1) % 2], 1))
    run_id = _wait(lambda: _query(db, "select max(id) from runs where id > ?", [last_run])[0][0], "a run")
    _wait(lambda: _query(db, "select 1 from runs where id = ? and status != 'running'", [run_id]),
          "the run to finish")
    times = [_epoch(t) for (t,) in _query(db, "select finished_at from results where run_id = ?", [run_id])]
    if not times:
        raise SystemExit(f"run {run_id} recorded no result")
    return min(times) - written, max(times) - written, len(times)


def _pytest_one(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_TEST],
                   cwd=root, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    root = WORK / "project"
    write_sample(root)
    db = WORK / "history.db"
    watcher = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "watch", str(root), "--headless", "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: db.exists() and _query(db, "select 1 from runs where status = 'finished'"),
              "the first run")
        time.sleep(1.0)  # dependencies of the first run are stored after it finishes
        first, last, pytest_one, counts = [], [], [], []
        for n in range(args.edits):
            a, b, count = _one_edit(root, db, n)
            first.append(a)
            last.append(b)
            counts.append(count)
            pytest_one.append(_pytest_one(root))
            time.sleep(0.3)
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
    med_first, med_pytest = statistics.median(first), statistics.median(pytest_one)
    print(f"{args.edits} edits of {TARGET} (each selects {statistics.median(counts):.0f} test):")
    print(f"  write -> first result in history: median {med_first:.3f} s")
    print(f"  write -> last result in history:  median {statistics.median(last):.3f} s")
    print(f"  plain pytest collecting and running {ONE_TEST}: median {med_pytest:.3f} s")
    print(f"  testwatch's own share (first result - pytest): {med_first - med_pytest:+.3f} s "
          "(target <= 0.5 s)")


if __name__ == "__main__":
    main()
