"""The name a run records as the machine it ran on: ``TESTWATCH_MACHINE`` when set (a CI job can
name itself ``ci-linux-py312``), else the host name."""

from __future__ import annotations

import os
import socket

MACHINE_ENV = "TESTWATCH_MACHINE"


def machine_name() -> str:
    """This machine's name for the history's ``runs.machine``."""
    return os.environ.get(MACHINE_ENV, "").strip() or socket.gethostname()
