"""testwatch's folders in the temp folder (``tw-*``: a run's event socket, ``tw-deps-*``: recorded
dependencies, ``tw-warm-*``: the warm process). Each holds an owner file naming the testwatch
process that made it; a SIGKILL gives that process no chance to remove them, so a later start
removes the folders whose owner is gone, after ending any process still running from them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from testwatch.collectors.in_pytest.leftovers import end_leftovers

PREFIX = "tw-"
OWNER_FILE = "owner"


def make_workdir(prefix: str) -> Path:
    """A new private folder ``prefix*`` in the temp folder, marked as this process's."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER_FILE).write_text(_owner_of(os.getpid()))
    return path


def _owner_of(pid: int) -> str:
    """A process's identity that a reused pid does not share: its pid and start time ('' if gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ""
    except PermissionError:
        pass  # another user's: alive
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            started = f.read().rsplit(b")", 1)[1].split()[19].decode()  # field 22, in clock ticks
    except (OSError, IndexError):
        started = "-"  # no /proc: the pid alone
    return f"{pid} {started}"


def remove_stale_workdirs() -> int:
    """Remove this user's testwatch folders whose owner process is gone; returns how many.

    Only folders with our prefix, owned by this user, not links, holding an owner file (a folder
    just made by a testwatch starting now has none yet, and is left alone).
    """
    removed = 0
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        try:
            if (not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False)
                    or entry.stat(follow_symlinks=False).st_uid != os.getuid()):
                continue
            owner = (Path(entry.path) / OWNER_FILE).read_text()
        except (OSError, UnicodeDecodeError):
            continue
        pid = owner.split(" ", 1)[0]
        if pid.isdigit() and _owner_of(int(pid)) == owner:
            continue  # its testwatch still runs
        end_leftovers(os.path.join(entry.path, "events.sock"), killed_group=-1)
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed
