"""Helpers for the warm-start tests: a real engine on a real project, and finding its processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import EngineEvent, EngineNotice, TestFinished
from testwatch.run.engine import measured_engine

DEADLINE_S = 60.0


class EngineProbe:
    """A real measured RunEngine for ``root`` that remembers the notices and results it reported."""

    def __init__(self, root: Path, warm: bool) -> None:
        config = load_config(root, {"warm": warm})
        self.history = open_history(config.history_path)
        self.notices: list[str] = []
        self.results: dict[str, str] = {}
        self.engine = measured_engine(config, self.history, self.listen)

    def listen(self, event: EngineEvent) -> None:
        if isinstance(event, EngineNotice):
            self.notices.append(event.message)
        elif isinstance(event, TestFinished):
            self.results[event.result.nodeid] = event.result.outcome

    def close(self) -> None:
        self.engine.close()
        self.history.close()


@pytest.fixture
def probe():
    """``probe(root, warm=True)`` -> EngineProbe; every engine is closed after the test."""
    made: list[EngineProbe] = []

    def make(root: Path, warm: bool = True) -> EngineProbe:
        made.append(EngineProbe(root, warm))
        return made[-1]

    yield make
    for engine_probe in made:
        engine_probe.close()


async def _wait_until(condition: Callable[[], object], what: str, timeout_s: float = DEADLINE_S):
    """Poll ``condition`` without blocking the event loop; fail after a generous deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")


def _processes_in(folder: Path) -> list[psutil.Process]:
    """Live processes (not zombies) whose working folder is ``folder``, this one excepted."""
    found = []
    for process in psutil.process_iter(["pid", "cwd", "status"]):
        info = process.info
        if info["pid"] == psutil.Process().pid or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if info["cwd"] and Path(info["cwd"]) == folder:
            found.append(process)
    return found


# Test modules are imported with --import-mode=importlib and cannot import this file: the helpers
# reach them as fixtures.


@pytest.fixture
def wait_until():
    return _wait_until


@pytest.fixture
def processes_in():
    return _processes_in
