"""``testwatch demo``: copy the bundled demo project to a temp folder and run testwatch on it."""

from __future__ import annotations

import argparse
import asyncio
import shutil
from pathlib import Path

from testwatch.cli.demo_copy import autoplay, copy_demo
from testwatch.cli.project import open_project
from testwatch.cli.reporter import LineReporter
from testwatch.model.events import RunFinished
from testwatch.run.engine import RunRequest, measured_engine
from testwatch.run.signals import run_cancellable

TESTS_FAILED = 1  # pytest's exit code when a test failed
SETTLE_S = 60.0  # after the last scripted edit, how long headless autoplay waits for its run


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="try testwatch on a bundled demo project",
        description="Copy the bundled demo project (a small shop library with about 30 tests) "
        "to a new temp folder, say where, and open testwatch on it.",
    )
    parser.add_argument("--dir", type=Path, help="copy the demo here instead (must not exist; kept)")
    parser.add_argument("--keep", action="store_true", help="keep the temp copy when the demo ends")
    parser.add_argument(
        "--headless", action="store_true", help="print results as lines instead of opening the TUI"
    )
    parser.add_argument(
        "--autoplay", action="store_true",
        help="also apply a scripted series of edits (a fix, a regression, a memory spike)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = copy_demo(args.dir.resolve() if args.dir else None)
    print(f"testwatch demo: copied the demo project to {root}")
    try:
        return _run_demo(args, root)
    finally:
        if not (args.dir or args.keep):
            shutil.rmtree(root.parent, ignore_errors=True)
            print(f"testwatch demo: removed {root} (--keep keeps it)")


def _run_demo(args: argparse.Namespace, root: Path) -> int:
    args.path = str(root)
    project = open_project(args)
    if args.headless:
        go = _watch_with_autoplay(project, root) if args.autoplay else _run_once(project)
        try:
            code = run_cancellable(go)
        finally:
            project.history.close()
        if code == TESTS_FAILED:
            print(f"testwatch demo: exit {code}, as expected: the demo plants a failing test")
        return code
    # The CLI is the one place the core starts the UI; the import stays lazy so that headless
    # commands never load Textual.
    from testwatch.tui.app import run_tui

    script = (lambda say: autoplay(root, say)) if args.autoplay else None
    return run_tui(project.config, project.history, autoplay=script)


async def _run_once(project) -> int:
    engine = measured_engine(project.config, project.history, LineReporter())
    try:
        return (await engine.run(RunRequest(trigger="demo"))).exit_status
    finally:
        engine.close()


async def _watch_with_autoplay(project, root: Path) -> int:
    """Watch headless while the scripted edits play; stop once the last edit's run finished."""
    from testwatch.run.watch_loop import WatchLoop

    reporter = LineReporter()
    finished: list[RunFinished] = []
    run_ended = asyncio.Event()

    def listen(event) -> None:
        reporter(event)
        if isinstance(event, RunFinished):
            finished.append(event)
            run_ended.set()

    loop = WatchLoop(project.config, project.history, listen)
    watching = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(run_ended.wait(), SETTLE_S)  # the first run, before any edit
        await autoplay(root, lambda text: print(text, flush=True))
        run_ended.clear()
        await asyncio.wait_for(run_ended.wait(), SETTLE_S)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    return finished[-1].exit_status
