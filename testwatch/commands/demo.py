"""``testwatch demo``: copy the bundled demo project to a temp folder and run testwatch on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from testwatch.demo import copy_demo
from testwatch.engine import RunEngine, RunRequest
from testwatch.project import open_project
from testwatch.reporter import LineReporter
from testwatch.signals import run_cancellable


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="try testwatch on a bundled demo project",
        description="Copy the bundled demo project (a small shop library with about 30 tests) "
        "to a new temp folder, say where, and open testwatch on it.",
    )
    parser.add_argument("--dir", type=Path, help="copy the demo here instead (must not exist)")
    parser.add_argument(
        "--headless", action="store_true", help="run the tests once without the TUI, print results"
    )
    parser.add_argument(
        "--autoplay", action="store_true",
        help="also apply a scripted series of edits (a fix, a regression, a memory spike)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = copy_demo(args.dir.resolve() if args.dir else None)
    print(f"testwatch demo: copied the demo project to {root}")
    args.path = str(root)
    project = open_project(args)
    if args.headless:
        engine = RunEngine(project.config, project.history, LineReporter())

        async def go() -> int:
            return (await engine.run(RunRequest(trigger="demo"))).exit_status

        try:
            return run_cancellable(go())
        finally:
            project.history.close()
    # The CLI is the one place the core starts the UI; the import stays lazy so that headless
    # commands never load Textual.
    from testwatch.tui.app import run_tui

    return run_tui(project.config, project.history, autoplay=args.autoplay)
