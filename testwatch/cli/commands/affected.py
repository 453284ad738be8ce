"""``testwatch affected [PATH] [--explain [NODEID]] [--json]``: what the working tree would rerun."""

from __future__ import annotations

import argparse
import json

from testwatch.cli.project import add_project_arguments, open_project
from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.model.terminal_text import one_line, safe
from testwatch.select.file_states import FileStates
from testwatch.select.selection import Selector

HELP = """Print the tests that the changes in the working tree would select, in run order, without
running them. --explain adds each test's reason; --explain NODEID says why that test is or is not
selected. Dependencies are recorded by watch mode, testwatch run --affected and run --deps.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "affected", help="list the tests the current changes would rerun", description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_project_arguments(parser)
    parser.add_argument("--explain", nargs="?", const="", default=None, metavar="NODEID",
                        help="give each test's reason, or why NODEID is (not) selected")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    config, history = project.config, project.history
    try:
        rules = IgnoreRules(config.root, config.ignore, config.history_path)
        selection = Selector(config, history, rules, FileStates(config.root, history)).select()
    finally:
        history.close()
    if args.json:
        record = {
            "selected": selection.selected, "reasons": selection.reasons,
            "everything": selection.everything, "everything_reason": selection.everything_reason,
            "total_known": selection.total_known, "elapsed_s": round(selection.elapsed_s, 4),
        }
        if args.explain:
            record["explain"] = {args.explain: selection.why_not(args.explain)}
        print(json.dumps(record, indent=1))
        return 0
    if args.explain:
        print(f"{one_line(args.explain)}: {safe(selection.why_not(args.explain))}")
        return 0
    if selection.everything:
        print(f"every test ({selection.everything_reason})")
        return 0
    for nodeid in selection.selected:
        line = one_line(nodeid)
        if args.explain is not None:
            line += f"  <- {safe(selection.reasons.get(nodeid, ''))}"
        print(line)
    known = sum(1 for nodeid in selection.selected if nodeid in selection.known)
    new = len(selection.selected) - known  # tests or test files the history has not seen yet
    print(f"{known} of {selection.total_known} known tests selected" + (f", and {new} new" if new else "")
          + f" in {selection.elapsed_s * 1000:.0f} ms")
    return 0
