"""A served app's lifeline: when the server on the other end of its pipes is gone, the app quits.

Under textual-serve the app talks through stdin and stdout. If the server dies (SIGKILL, a crash),
nobody sends the app its "quit": the pipes hang up instead, which ``poll`` reports.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable


def on_hangup(fds: tuple[int, ...], callback: Callable[[], None]) -> threading.Thread | None:
    """Call ``callback`` (from a thread) once any of ``fds`` hangs up; None where poll is missing."""
    if not hasattr(select, "poll"):
        return None

    def wait() -> None:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, 0)  # no events asked: poll still reports POLLHUP, POLLERR, POLLNVAL
        while not poller.poll():
            pass
        callback()

    thread = threading.Thread(target=wait, name="testwatch-lifeline", daemon=True)
    thread.start()
    return thread
