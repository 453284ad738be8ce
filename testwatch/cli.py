"""The ``testwatch`` command line: subcommands, and the TUI when none is given."""

from __future__ import annotations

import argparse
import sys

from testwatch import __version__
from testwatch.commands import affected as affected_command
from testwatch.commands import check as check_command
from testwatch.commands import demo as demo_command
from testwatch.commands import export as export_command
from testwatch.commands import history as history_command
from testwatch.commands import leaks as leaks_command
from testwatch.commands import run as run_command
from testwatch.commands import serve as serve_command
from testwatch.commands import tui as tui_command
from testwatch.commands import watch as watch_command
from testwatch.config import ConfigError
from testwatch.history import HistoryError

COMMANDS = [
    run_command, demo_command, export_command, history_command, check_command, leaks_command, tui_command,
    watch_command, affected_command, serve_command,
]

USAGE_ERROR = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="testwatch",
        description="Rerun the affected pytest tests on every save; keep a history of results.",
        epilog="Arguments after -- are passed to pytest unchanged.",
    )
    parser.add_argument("--version", action="version", version=f"testwatch {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    parser.command_names = set(subparsers.choices)
    return parser


def split_pytest_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the first ``--`` belongs to pytest."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def main(argv: list[str] | None = None) -> int:
    own, pytest_args = split_pytest_args(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    if not own or (own[0] not in parser.command_names and own[0] not in ("-h", "--help", "--version")):
        own = [tui_command.NAME, *own]  # no command: open the app on PATH (default .)
    args = parser.parse_args(own)
    args.pytest_args = pytest_args
    if not hasattr(args, "handler"):
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except (ConfigError, HistoryError) as exc:
        print(f"testwatch: {exc}", file=sys.stderr)
        return USAGE_ERROR
