"""``testwatch serve [PATH]``: the same app in a browser, through textual-serve.

Bound to 127.0.0.1 unless ``--host`` says otherwise: the app runs tests and opens files, so it is
not shared with the network by default. Each browser tab starts its own ``testwatch tui`` process.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from testwatch.config import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the app to a browser (127.0.0.1 only, unless --host)",
        description="Serve the testwatch app to a web browser with textual-serve. It listens on "
        f"{DEFAULT_HOST} (this machine only) unless --host is given; anyone who can reach it can "
        "run the project's tests.",
    )
    parser.add_argument("path", nargs="?", default=".", help="project root (default: .)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--db", help="history file (default: .testwatch/history.db)")
    parser.set_defaults(handler=run)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return int(text)


def app_command(args: argparse.Namespace) -> list[str]:
    """The argument list of the process each browser session runs."""
    argv = [sys.executable, "-m", "testwatch", "tui", str(Path(args.path).resolve())]
    if args.db:
        argv += ["--db", str(Path(args.db).resolve())]
    if args.pytest_args:
        argv += ["--", *args.pytest_args]
    return argv


def run(args: argparse.Namespace) -> int:
    if not Path(args.path).is_dir():
        raise ConfigError(f"{args.path}: no such folder")
    # As for the TUI itself, the UI layer is imported only when this command runs.
    from testwatch.tui.serve import serve_app

    try:
        serve_app(app_command(args), args.host, args.port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        why = exc.strerror or exc
        raise ConfigError(f"--port {args.port}: cannot listen on {args.host}: {why}") from None
    return 0
