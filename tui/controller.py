"""What the app asks of the thing that runs the tests: the watch loop in a session, a fake in the tests.

The app only calls these methods; it never reaches into the controller's config or arguments.
``runtime_checkable`` lets a test check that an implementation has every member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.run.watch_loop import RunKind


@runtime_checkable
class Controller(Protocol):
    """Runs the tests the app asks for and reports everything to the listener it was built with."""

    async def run(self) -> None:
        """Watch and run until cancelled."""

    def request(self, kind: RunKind, nodeids: list[str] | None = None) -> None:
        """Queue a run of ``kind``; ``tests`` runs the given node ids."""

    def cancel_run(self) -> None:
        """Stop the run in progress, if there is one."""

    @property
    def paused(self) -> bool:
        """Whether changes are kept without starting runs."""

    def pause(self) -> None:
        """Keep changes without starting runs (requests still run)."""

    def resume(self) -> None:
        """Run what the kept changes affect, and go on watching."""

    @property
    def memray(self) -> bool:
        """Whether runs measure allocations with memray."""

    def set_memray(self, on: bool) -> None:
        """Measure allocations with memray (or stop) from the next run."""

    def marker_filter(self) -> str:
        """The pytest ``-m`` expression runs are given ("" for none)."""

    def set_marker_filter(self, expression: str) -> None:
        """Give runs ``-m expression`` from the next run ("" for none)."""


# How the app builds its controller: from the config, the history and the listener news goes to.
ControllerFactory = Callable[[Config, History, Callable[[object], None]], Controller]
