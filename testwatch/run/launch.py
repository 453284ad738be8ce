"""Start pytest before the engine is imported, so testwatch's own start-up overlaps pytest's.

``testwatch run`` spends about a tenth of a second importing asyncio, SQLite and the engine,
opening the history and recording the run before it could start pytest; on a suite of a few
seconds that is a few percent of the whole. With only the config in hand this module binds the
event socket (the plugin's connection waits in its backlog until the engine accepts it) and
starts the child; the engine then adopts both for its first attempt. If anything goes wrong
before that, ``discard`` kills the child, and if testwatch dies first the child finds the socket
closed and stops itself (the plugin's watchdog).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from testwatch.config.settings import Config
from testwatch.run.child_command import DEFAULT_PLUGINS, child_env, pytest_command
from testwatch.run.process_group import end_group, start_in_group
from testwatch.run.workdirs import make_workdir


@dataclass
class EarlyChild:
    """A started pytest child with its listening event socket and work folder."""

    process: subprocess.Popen
    server: socket.socket
    workdir: Path
    env: dict[str, str]
    adopted: bool = False  # the engine owns it from then on

    def discard(self) -> None:
        """Kill the child's process group and remove what was made for it, unless it was adopted."""
        if self.adopted:
            return
        self.adopted = True
        end_group(self.process)
        self.server.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def launch_early(config: Config, pytest_args: list[str]) -> EarlyChild | None:
    """Start a plain run's pytest child now; None when it cannot start (the engine then says why)."""
    workdir = make_workdir("tw-")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    python = config.python or sys.executable
    try:
        server.bind(str(workdir / "events.sock"))
        server.listen()
        argv = pytest_command(
            python, list(DEFAULT_PLUGINS), [*config.pytest_args, *pytest_args],
            config.history_path.parent, config.root,
        )
        env = child_env(config, python, workdir)
        process = start_in_group(argv, config.root, env, stdout=subprocess.PIPE)
    except OSError:
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)
        return None
    return EarlyChild(process, server, workdir, env)
