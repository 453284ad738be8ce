"""The app in a browser: textual-serve runs one ``testwatch tui`` process per browser session."""

from __future__ import annotations

import shlex

from testwatch.config import ConfigError


def serve_app(command: list[str], host: str, port: int) -> None:
    """Serve ``command`` (an argument list) until interrupted; says where it listens."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ConfigError("testwatch serve needs textual-serve: pip install 'testwatch[serve]'") from None
    # textual-serve takes one command string; shlex.join quotes every argument.
    server = Server(shlex.join(command), host=host, port=port, title="testwatch")
    where = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else "the network"
    print(f"testwatch serve: http://{host}:{port} (listening on {host}: {where})", flush=True)
    server.serve()
