"""Telling the user when a run turns red after green or back (config ``notify``)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

from testwatch.config.settings import NotifyMode


def announce_verdict(mode: NotifyMode, green: bool, bell: Callable[[], None]) -> None:
    """``bell`` rings the terminal bell; ``desktop`` uses notify-send, or the bell without it."""
    if mode == "off":
        return
    sender = shutil.which("notify-send") if mode == "desktop" else None
    if sender is None:
        bell()
        return
    message = "tests are green again" if green else "tests turned red"
    try:
        subprocess.Popen([sender, "testwatch", message], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        bell()
