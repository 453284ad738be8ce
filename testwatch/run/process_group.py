"""Processes testwatch starts in a process group of their own (pytest children, the warm
process), so that one SIGKILL to the group ends every descendant: xdist workers and anything a
test started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path


def start_in_group(
    argv: Sequence[str], cwd: Path, env: dict[str, str], stdout: int, stderr: int = subprocess.STDOUT,
    pass_fds: Sequence[int] = (), stdin: int = subprocess.DEVNULL,
) -> subprocess.Popen:
    """Start ``argv`` as the leader of a new session and process group, its stdin empty unless
    ``stdin`` says otherwise."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=stderr,
        pass_fds=pass_fds, start_new_session=True,
    )


def kill_group(leader_pid: int) -> None:
    """SIGKILL the process group ``leader_pid`` leads; a group already gone is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader_pid, signal.SIGKILL)


def end_group(process: subprocess.Popen) -> None:
    """Kill ``process``'s group and reap ``process``."""
    kill_group(process.pid)
    process.wait()
