"""The ``testwatch`` command line: subcommands, and the TUI when none is given."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from testwatch import __version__
from testwatch.config.settings import ConfigError
from testwatch.history.errors import HistoryError

# Imported only when chosen, so `testwatch run` does not pay for the TUI's or coverage's imports.
COMMAND_MODULES = {
    name: f"testwatch.cli.commands.{name}"
    for name in (
        "run", "watch", "affected", "check", "leaks", "export", "history", "demo", "tui", "serve",
        "bundle", "seed",
    )
}
DEFAULT_COMMAND = "tui"

USAGE_ERROR = 4
INTERRUPTED = 2  # pytest's own code for an interrupted session
BROKEN_PIPE = 141  # what a shell reports for a command SIGPIPE ended (128 + 13)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with just ``only`` (the one being run)."""
    parser = argparse.ArgumentParser(
        prog="testwatch",
        description="Rerun the affected pytest tests on every save; keep a history of results.",
        epilog="Arguments after -- are passed to pytest unchanged.",
    )
    parser.add_argument("--version", action="version", version=f"testwatch {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in [only] if only else COMMAND_MODULES:
        importlib.import_module(COMMAND_MODULES[name]).add_parser(subparsers)
    return parser


def split_pytest_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the first ``--`` belongs to pytest."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def main(argv: list[str] | None = None) -> int:
    own, pytest_args = split_pytest_args(list(sys.argv[1:] if argv is None else argv))
    if own and own[0] in ("-h", "--help", "--version"):
        parser = build_parser()
    else:
        if not own or own[0] not in COMMAND_MODULES:
            own = [DEFAULT_COMMAND, *own]  # no command: open the app on PATH (default .)
        parser = build_parser(own[0])
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


def entry() -> None:
    """The console script and ``python -m testwatch``: ``main``, then a quick exit.

    By the time ``main`` returns, results are committed, the child is gone and the terminal is
    restored; tearing down every imported module would only add a tenth of a second or more to
    each command, which scripts and CI pay on every call.
    """
    _reopen_closed_standard_fds()
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before a command's own handling took over
        print("testwatch: interrupted", file=sys.stderr)
        code = INTERRUPTED
    except BrokenPipeError:  # ``testwatch history | head``: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = BROKEN_PIPE
    for stream in filter(None, (sys.stdout, sys.stderr)):  # None when started without one
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (| head) has nothing to flush
            stream.flush()
    os._exit(code)


def _reopen_closed_standard_fds() -> None:
    """``testwatch run >&-``: a closed stdin, stdout or stderr becomes /dev/null, so that the
    history file or a socket opened later cannot take its number and receive what is printed."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
