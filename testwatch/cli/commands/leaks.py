"""``testwatch leaks NODEID``: run one test many times in one process and look for growth.

Prints the RSS after each iteration, the growth slope after the warm-up (least squares, bytes
per iteration) and, with memray, the locations whose allocations were never freed. Growth
above ``--threshold`` is a finding (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from testwatch.cli.project import add_project_arguments, open_project
from testwatch.collectors.in_pytest import leak_hunt
from testwatch.config.units import format_size, parse_size
from testwatch.model.terminal_text import one_line, safe
from testwatch.model.wording import counted
from testwatch.run.child_command import with_plugin_path

DEFAULT_THRESHOLD = "10 KB"
_SHOWN_ITERATIONS = 12


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "leaks", help="run one test N times in one process and report memory growth",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("nodeid", help="the test, as pytest names it: tests/test_a.py::test_x")
    add_project_arguments(parser)
    parser.add_argument("--repeat", type=int, default=50, help="iterations (default 50)")
    parser.add_argument(
        "--threshold", default=DEFAULT_THRESHOLD,
        help=f"growth per iteration that counts as a leak (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--no-memray", action="store_true", help="do not track with memray")
    parser.set_defaults(handler=run)


def growth_slope(values: list[int]) -> float:
    """Least-squares slope of ``values`` against their index (0 for fewer than two)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    return numerator / sum((x - mean_x) ** 2 for x in range(n))


def run(args: argparse.Namespace) -> int:
    if args.repeat < 2:
        print("testwatch: --repeat must be at least 2", file=sys.stderr)
        return 4
    try:
        threshold_bytes = parse_size(args.threshold)
    except ValueError as exc:
        print(f"testwatch: --threshold: {exc}", file=sys.stderr)
        return 4
    project = open_project(args)
    project.history.close()
    config = project.config
    python = config.python or sys.executable
    with tempfile.TemporaryDirectory(prefix="tw-leaks-") as workdir:
        output = Path(workdir) / "leaks.json"
        env = dict(os.environ)
        env.update({
            leak_hunt.ENV_REPEAT: str(args.repeat), leak_hunt.ENV_OUTPUT: str(output),
            leak_hunt.ENV_MEMRAY: "" if args.no_memray else "1",
        })
        env = with_plugin_path(env, python, Path(workdir))
        argv = [
            python, "-m", "pytest", "-p", "testwatch.collectors.in_pytest.leak_hunt",
            "-p", "no:cacheprovider", "-q", *config.pytest_args, *args.pytest_args, args.nodeid,
        ]
        child = subprocess.run(argv, cwd=config.root, env=env, capture_output=True, text=True)
        if not output.exists():
            print(f"testwatch: {one_line(args.nodeid)} did not run; pytest said:", file=sys.stderr)
            print(safe(child.stdout[-3000:] + child.stderr[-2000:]), file=sys.stderr)
            return 4
        record = json.loads(output.read_text())
    return _report(record, threshold_bytes)


def _report(record: dict, threshold_bytes: int) -> int:
    rss = record["rss_bytes"]
    warmup = record["warmup"]
    print(f"{one_line(record['nodeid'])}: {counted(len(rss), 'iteration')} in one process")
    print("iteration  rss after       change")
    shown = set(range(_SHOWN_ITERATIONS // 2)) | set(range(len(rss) - _SHOWN_ITERATIONS // 2, len(rss)))
    for i, value in enumerate(rss):
        if i in shown:
            change = format_size(value - rss[i - 1]) if i else ""
            print(f"{i + 1:>9}  {format_size(value):>9}  {change:>11}")
        elif i == _SHOWN_ITERATIONS // 2:
            print(f"{'...':>9}")
    slope = growth_slope(rss[warmup:])
    print(f"growth after {warmup} warm-up iterations: {format_size(slope)} per iteration")
    locations = record.get("leaked_locations")
    if locations:
        tracked = max(1, record["tracked_iterations"])
        print(f"memray: never freed during the last {counted(tracked, 'iteration')}:")
        for location in locations:
            per = format_size(location["bytes"] / tracked)
            print(f"  {format_size(location['bytes']):>9} ({per}/iteration)  {safe(location['location'])}")
    if record["outcome"] != "passed":
        print(f"the test failed on iteration {len(rss)}; run it alone to see why")
        return 1
    if slope > threshold_bytes:
        print(f"LEAK: grows {format_size(slope)} per iteration (threshold {format_size(threshold_bytes)})")
        return 1
    print(f"no leak found (threshold {format_size(threshold_bytes)} per iteration)")
    return 0
