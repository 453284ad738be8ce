"""``testwatch [PATH]`` (or ``testwatch tui [PATH]``): open the Textual app on a project."""

from __future__ import annotations

import argparse
import os

from testwatch.cli.project import add_project_arguments, open_project

NAME = "tui"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        NAME, help="open the live terminal app (the default when no command is given)",
        description="Watch the project, rerun the affected tests on every save and show live panes. "
        "Press ? in the app for its keys.",
    )
    add_project_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if os.environ.get("TERM") == "dumb":
        from testwatch.cli.commands import watch

        print("testwatch: TERM=dumb cannot show the app; printing lines as `testwatch watch --headless`")
        args.headless, args.poll, args.debounce, args.on_change = True, None, None, None
        return watch.run(args)
    project = open_project(args)
    project.config.pytest_args = [*project.config.pytest_args, *args.pytest_args]
    # Lazy: only this command loads Textual.
    from testwatch.tui.app import run_tui

    return run_tui(project.config, project.history)
