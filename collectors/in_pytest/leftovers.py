"""Processes a run left behind outside pytest's process group (a server a test started with
``start_new_session=True``, a daemon that called ``setsid``), found by what every descendant
inherits: the run's event-socket path in its environment, and the test that was running.

Standard library only: the engine ends them after each attempt, the plugin's watchdog ends them
when the engine itself was killed. Linux reads ``/proc``; elsewhere nothing is found.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass

from testwatch.collectors.in_pytest.protocol import ENV_SOCKET, ENV_TEST


@dataclass(frozen=True)
class Leftover:
    """A live process of a run: its pid, the test that started it ('' if unknown), its command."""

    pid: int
    nodeid: str
    command: str


def _environment(pid: str) -> dict[bytes, bytes]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = f.read().split(b"\0")
    return dict(pair.split(b"=", 1) for pair in pairs if b"=" in pair)


def _state_and_group(pid: str) -> tuple[bytes, int]:
    with open(f"/proc/{pid}/stat", "rb") as f:
        state, _parent, group = f.read().rsplit(b")", 1)[1].split()[:3]
    return state, int(group)


def find_leftovers(socket_path: str, killed_group: int) -> list[Leftover]:
    """Live processes other than this one whose environment names the run's ``socket_path``,
    outside ``killed_group`` (the child's process group, which is killed as a whole)."""
    wanted = os.fsencode(socket_path)
    found = []
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit() and int(name) != os.getpid()]
    except OSError:
        return []
    for pid in pids:
        try:
            env = _environment(pid)
            if env.get(os.fsencode(ENV_SOCKET)) != wanted:
                continue
            state, group = _state_and_group(pid)
            if state == b"Z" or group == killed_group:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").strip()
        except (OSError, ValueError):
            continue  # gone, or another user's
        nodeid = env.get(os.fsencode(ENV_TEST), b"")
        found.append(Leftover(int(pid), os.fsdecode(nodeid), os.fsdecode(command)))
    return found


def end_leftovers(socket_path: str, killed_group: int) -> list[Leftover]:
    """SIGKILL every leftover of the run at ``socket_path``; returns those that were found."""
    found = find_leftovers(socket_path, killed_group)
    for leftover in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(leftover.pid, signal.SIGKILL)
    return found
