"""``testwatch serve [PATH]``: the same app in a browser, through textual-serve.

Bound to 127.0.0.1 unless ``--host`` says otherwise: the app runs tests and opens files, so it is
not shared with the network by default. Every request needs the token printed in the address (made
at start, or ``--token`` / $TESTWATCH_TOKEN); a WebSocket must come from the served page; at most
``--max-apps`` apps run at once, each ending with its connection and with serve.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from testwatch.config.serve_access import TOKEN_ENV, choose_token, network_warning
from testwatch.config.settings import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_APPS = 1  # one project, one history, one watcher


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the app to a browser (127.0.0.1 only, unless --host)",
        description="Serve the testwatch app to a web browser with textual-serve. It listens on "
        f"{DEFAULT_HOST} (this machine only) unless --host is given; every request needs the token "
        "printed in the address; anyone who has it can run the project's tests.",
    )
    parser.add_argument("path", nargs="?", default=".", help="project root (default: .)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--db", help="history file (default: .testwatch/history.db)")
    parser.add_argument(
        "--token", help=f"the access token (default: ${TOKEN_ENV}, else a random one made at start)"
    )
    parser.add_argument(
        "--max-apps", type=int, default=DEFAULT_MAX_APPS,
        help=f"apps open at once, one per browser tab (default {DEFAULT_MAX_APPS})",
    )
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
    if args.max_apps < 1:
        raise ConfigError(f"--max-apps {args.max_apps}: give 1 or more")
    token = choose_token(args.token)
    if importlib.util.find_spec("textual_serve") is None:
        raise ConfigError("testwatch serve needs textual-serve: pip install 'testwatch[serve]'")
    # As for the TUI itself, the UI layer is imported only when this command runs.
    from testwatch.tui.serve import GuardedServer

    server = GuardedServer(app_command(args), args.host, args.port, token, args.max_apps)
    if warning := network_warning(args.host):
        print(warning, file=sys.stderr, flush=True)
    where = "the network" if network_warning(args.host) else "this machine only"
    try:
        server.serve(on_listening=lambda: print(
            f"testwatch serve: {server.address} (listening on {args.host}: {where})", flush=True
        ))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        why = exc.strerror or exc
        raise ConfigError(f"--port {args.port}: cannot listen on {args.host}: {why}") from None
    return 0
