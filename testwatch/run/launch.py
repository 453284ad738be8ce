"""Start pytest before the engine is imported, so testwatch's own start-up overlaps pytest's.

``testwatch run`` spends about a tenth of a second importing asyncio, SQLite and the engine,
opening the history and recording the run before it could start pytest (``run --deps`` a quarter
of a second more: coverage.py, the recorder, the selection); on a suite of a few seconds that is
a few percent of the whole. With only the config in hand this module binds the
event socket (the plugin's connection waits in its backlog until the engine accepts it) and
starts the child; the engine then adopts both for its first attempt. If anything goes wrong
before that, ``discard`` kills the child, and if testwatch dies first the child finds the socket
closed and stops itself (the plugin's watchdog).

``testwatch run --affected`` cannot know its pytest arguments before the selection, which needs
the history: its child starts waiting (``launch_waiting``), imports pytest, the plugins and the
tracer meanwhile, and takes the rest of its arguments when the engine adopts it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from testwatch.collectors.in_pytest.protocol import ENV_ARGS_ON_STDIN
from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.config.settings import Config
from testwatch.run.child_command import DEFAULT_PLUGINS, DEPS_PLUGIN, child_env, pytest_command
from testwatch.run.process_group import end_group, start_in_group
from testwatch.run.recording_start import Recording, start_recording
from testwatch.run.stale_bytecode import remove_stale_bytecode
from testwatch.run.workdirs import make_workdir
from testwatch.select.environment import environment_fingerprint


@dataclass
class EarlyChild:
    """A started pytest child with its listening event socket and work folder."""

    process: subprocess.Popen
    server: socket.socket
    workdir: Path
    env: dict[str, str]
    adopted: bool = False  # the engine owns it from then on
    waiting: bool = False  # started without its run's arguments: ``release`` gives them

    def release(self, argv: list[str], env: dict[str, str]) -> bool:
        """Give a waiting child the rest of its run: the whole ``argv`` it must run (False, and
        nothing sent, unless it begins with the child's own) and the variables ``env`` adds."""
        started = list(self.process.args)
        if argv[: len(started)] != started:
            return False
        message = json.dumps({"args": argv[len(started):], "env": env}) + "\n"
        try:
            self.process.stdin.write(message.encode())
            self.process.stdin.close()
        except OSError:  # the child died already: the session reports how it ended
            pass
        self.env = {**self.env, **env}
        self.waiting = False
        return True

    def discard(self) -> None:
        """Kill the child's process group and remove what was made for it, unless it was adopted."""
        if self.adopted:
            return
        self.adopted = True
        if self.process.stdin is not None:
            self.process.stdin.close()
        end_group(self.process)
        self.server.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def launch_early(
    config: Config, pytest_args: list[str], plugins: tuple[str, ...] = DEFAULT_PLUGINS,
    waiting: bool = False,
) -> EarlyChild | None:
    """Start the pytest child of a run of every test now; None when it cannot start (the engine
    then says why). ``plugins`` with ``DEPS_PLUGIN`` records dependencies (``pytest_args`` then
    hold a ``recording_start.Recording``'s arguments). A ``waiting`` child takes the rest of its
    arguments from ``EarlyChild.release``."""
    if not waiting:  # it imports the project at once; a waiting child once the engine releases it
        remove_stale_bytecode(IgnoreRules(config.root, config.ignore, config.history_path))
    workdir = make_workdir("tw-")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    python = config.python or sys.executable
    try:
        server.bind(str(workdir / "events.sock"))
        server.listen()
        argv = pytest_command(
            python, list(plugins), [*config.pytest_args, *pytest_args],
            config.history_path.parent, config.root,
        )
        env = child_env(config, python, workdir)
        started_env = {**env, ENV_ARGS_ON_STDIN: "1"} if waiting else env
        process = start_in_group(
            argv, config.root, started_env, stdout=subprocess.PIPE,
            stdin=subprocess.PIPE if waiting else subprocess.DEVNULL,
        )
    except OSError:
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)
        return None
    return EarlyChild(process, server, workdir, env, waiting=waiting)


def launch_waiting(config: Config) -> EarlyChild | None:
    """Start the recording pytest child of a run not chosen yet (``testwatch run --affected``):
    it waits for its arguments, which the engine gives as it adopts it (``EarlyChild.release``);
    if nothing is run, ``discard`` ends it."""
    return launch_early(config, [], (*DEFAULT_PLUGINS, DEPS_PLUGIN), waiting=True)


@dataclass
class RecordedStart:
    """A recorded run of every test begun before the engine was imported: its recording, the
    environment's fingerprint and its pytest child (None when it could not start)."""

    recording: Recording
    environment: str
    child: EarlyChild | None

    def discard(self) -> None:
        """Kill the child unless adopted; remove the recording's folder unless it was stored."""
        if self.child is not None:
            self.child.discard()
        shutil.rmtree(self.recording.out_dir, ignore_errors=True)  # gone once stored


def launch_recorded(config: Config, pytest_args: list[str]) -> RecordedStart:
    """Begin a recording of every test and start its pytest now (``testwatch run --deps``). The
    project's stats and the environment are taken first, as a recording taken by the engine
    takes them: whatever changes after them is noticed, never stored as what the tests ran."""
    rules = IgnoreRules(config.root, config.ignore, config.history_path)
    recording = start_recording(rules, config.branch)
    environment = environment_fingerprint(config.root, config.python)
    child = launch_early(config, [*pytest_args, *recording.pytest_args], (*DEFAULT_PLUGINS, DEPS_PLUGIN))
    return RecordedStart(recording, environment, child)
