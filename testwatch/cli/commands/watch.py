"""``testwatch watch [PATH] --headless``: the watch loop without a TUI, a line per event and result."""

from __future__ import annotations

import argparse
from typing import TextIO, get_args

from testwatch.cli.project import add_project_arguments, open_project
from testwatch.cli.reporter import LineReporter, stop_printing
from testwatch.config.settings import OnChange
from testwatch.model.events import ChangesDetected, SelectionMade, WatchStatus
from testwatch.model.terminal_text import one_line, safe
from testwatch.run.signals import run_cancellable

HELP = """Watch the project and rerun the tests each saved change affects, until interrupted.

Prints one line per change, selection, result and status (for dumb terminals, logs, CI boxes).
Arguments after -- go to pytest unchanged, e.g. testwatch watch --headless -- -x -q.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "watch", help="rerun the affected tests on every save (headless)", description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_project_arguments(parser)
    parser.add_argument("--headless", action="store_true",
                        help="print lines instead of opening the TUI (the TUI is `testwatch [PATH]`)")
    parser.add_argument("--poll", action="store_true", default=None,
                        help="poll for changes instead of OS file events (config: poll = true)")
    parser.add_argument("--debounce", help="quiet time that ends a burst of changes (default 50 ms)")
    parser.add_argument("--on-change", choices=get_args(OnChange), default=None,
                        help="a change during a run: cancel it and restart (default) or wait")
    parser.set_defaults(handler=run)


class WatchReporter:
    """The run lines of ``testwatch run`` plus a line per change, selection and status."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.lines = LineReporter(out)
        self.out = self.lines.out

    def __call__(self, event: object) -> None:
        try:
            self._report(event)
        except OSError:  # as in ``testwatch run``: printing fails, watching and recording go on
            self.out = self.lines.out = stop_printing(self.out)

    def _report(self, event: object) -> None:
        if isinstance(event, ChangesDetected):
            shown = ", ".join(one_line(p) for p in event.paths[:5])
            more = f" and {len(event.paths) - 5} more" if len(event.paths) > 5 else ""
            self.out.write(f"changed: {shown}{more}\n")
        elif isinstance(event, SelectionMade):
            scope = "every test" if event.everything else f"{len(event.selected)} of {event.total_known}"
            self.out.write(f"selected {scope} in {event.elapsed_s * 1000:.0f} ms\n")
        elif isinstance(event, WatchStatus):
            self.out.write(f"{event.severity}: {safe(event.message)}\n")
        else:
            self.lines(event)
            return
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        from testwatch.cli.commands import tui

        return tui.run(args)
    project = open_project(args, poll=args.poll, debounce=args.debounce, on_change=args.on_change)
    for warning in project.history.warnings:
        print(f"warning: {warning}")
    from testwatch.run.watch_loop import WatchLoop

    loop = WatchLoop(project.config, project.history, WatchReporter())
    loop.pytest_args = list(args.pytest_args)

    async def go() -> int:
        await loop.run()
        return 0

    try:
        return run_cancellable(go())
    finally:
        project.history.close()
