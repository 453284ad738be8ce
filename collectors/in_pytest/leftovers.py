"""Processes a run left behind outside pytest's process group (a server a test started with
``start_new_session=True``, a daemon that called ``setsid``), found by what every descendant
inherits: the run's event-socket path in its environment, and the test that was running.

Standard library only: the engine ends them after each attempt, the plugin's watchdog ends them
when the engine itself was killed. Linux reads ``/proc``; elsewhere nothing is found.

A process caught in the middle of ``execve`` (a test's ``Popen`` returns once the new program's
memory is in place, before its environment is) shows an empty environment and command line for
a moment, then its command line without its environment (the kernel writes the arguments, then
the environment): such a process is read again after a short pause rather than passed over, and
a sweep repeats until it kills nothing more (a leftover may start another before it is killed).
A command line without an environment is read again briefly only: it is also what a process
that cleared its own shows for good (``setproctitle`` reuses that memory: gunicorn, postgres).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

from testwatch.collectors.in_pytest.protocol import ENV_SOCKET, ENV_TEST

_KERNEL_THREAD = 0x00200000  # PF_KTHREAD in /proc/PID/stat's flags: no environment, ever
_EXEC_PAUSE_S = 0.005
_EXEC_READS = 100  # an exec in progress is read again for up to half a second
_NO_ENVIRONMENT_READS = 10  # a command line without an environment: for up to 50 ms
_IN_EXEC = "in exec"  # nothing of the new program written yet
_NO_ENVIRONMENT = "no environment"  # its arguments written, its environment not (yet)
_SWEEPS = 5  # leftovers that keep starting more are not chased for ever


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


def _stat(pid: str) -> tuple[bytes, int, int]:
    """A process's state, process group and flags."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return fields[0], int(fields[2]), int(fields[6])


def _read(pid: str, wanted: bytes, killed_group: int) -> Leftover | str | None:
    """The leftover ``pid`` is, None if it is none, ``_IN_EXEC`` or ``_NO_ENVIRONMENT`` if it
    may be in the middle of an exec."""
    env = _environment(pid)
    state, group, flags = _stat(pid)
    if state == b"Z" or group == killed_group or flags & _KERNEL_THREAD:
        return None
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        command = f.read().replace(b"\0", b" ").strip()
    if not env:
        return _NO_ENVIRONMENT if command else _IN_EXEC
    if env.get(os.fsencode(ENV_SOCKET)) != wanted:
        return None
    nodeid = env.get(os.fsencode(ENV_TEST), b"")
    return Leftover(int(pid), os.fsdecode(nodeid), os.fsdecode(command))


def find_leftovers(socket_path: str, killed_group: int) -> list[Leftover]:
    """Live processes other than this one whose environment names the run's ``socket_path``,
    outside ``killed_group`` (the child's process group, which is killed as a whole)."""
    wanted = os.fsencode(socket_path)
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit() and int(name) != os.getpid()]
    except OSError:
        return []
    found = []
    for attempt in range(_EXEC_READS):
        if attempt:
            time.sleep(_EXEC_PAUSE_S)
        in_exec = []
        for pid in pids:
            try:
                read = _read(pid, wanted, killed_group)
            except (OSError, ValueError, IndexError):
                continue  # gone, or another user's
            if read is _IN_EXEC or (read is _NO_ENVIRONMENT and attempt < _NO_ENVIRONMENT_READS):
                in_exec.append(pid)
            elif isinstance(read, Leftover):
                found.append(read)
        if not in_exec:
            break
        pids = in_exec
    return found


def end_leftovers(socket_path: str, killed_group: int) -> list[Leftover]:
    """SIGKILL every leftover of the run at ``socket_path``; returns those that were found."""
    ended: dict[int, Leftover] = {}
    for _ in range(_SWEEPS):
        found = [found for found in find_leftovers(socket_path, killed_group) if found.pid not in ended]
        if not found:
            break
        for leftover in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(leftover.pid, signal.SIGKILL)
            ended[leftover.pid] = leftover
    return list(ended.values())
