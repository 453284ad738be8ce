"""What the stale-bytecode sweep adds to the start of every run: ``remove_stale_bytecode`` over a
project tree whose ``.pyc`` files are all current (the usual case: nothing to remove).

Before each pytest child imports the project, testwatch visits the project's folders and checks
each ``__pycache__/*.pyc`` against its source (``testwatch/run/stale_bytecode.py``): two stats a
file, and a 16-byte read of the ones written before their source changed. Reported: the first
sweep (the folders not yet in the OS's cache) and the median of the next ``--rounds``, with the
number of folders and ``.pyc`` files visited.

    python benchmarks/stale_bytecode_cost.py [--rounds N] ROOT [ROOT ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.run.stale_bytecode import CACHE_FOLDER, remove_stale_bytecode


def _counts(rules: IgnoreRules) -> tuple[int, int, int]:
    """(folders, ``__pycache__`` folders, ``.pyc`` files) the sweep visits: the project's folders."""
    folders = caches = files = 0
    for _, entries in rules.folders():
        folders += 1
        for entry in entries:
            if entry.name == CACHE_FOLDER and entry.is_dir(follow_symlinks=False):
                caches += 1
                files += sum(name.endswith(".pyc") for name in os.listdir(entry.path))
    return folders, caches, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    for root in args.roots:
        rules = IgnoreRules(root)
        times = []
        removed = 0
        for _ in range(args.rounds + 1):
            started = time.perf_counter()
            removed += remove_stale_bytecode(rules)
            times.append(time.perf_counter() - started)
        folders, caches, files = _counts(rules)
        print(
            f"{root}: first sweep {times[0] * 1000:.1f} ms, median of {args.rounds} "
            f"{statistics.median(times[1:]) * 1000:.1f} ms; {folders} folders visited, "
            f"{files} .pyc files in {caches} __pycache__ folders; removed {removed}"
        )


if __name__ == "__main__":
    main()
