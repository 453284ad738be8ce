"""Run a coroutine so that SIGINT, SIGTERM and SIGHUP cancel it (and so kill any pytest child)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

CANCELLED_EXIT = 2


def run_cancellable(coro: Coroutine[Any, Any, int]) -> int:
    """``asyncio.run`` with termination signals turned into cancellation; returns the exit code."""

    async def main() -> int:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)
        return await coro

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        return CANCELLED_EXIT
