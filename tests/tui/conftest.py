"""Fixtures for the TUI tests: the real app on a real SQLite history, driven by a fake controller
that records what the app asks for and lets the test play engine events into the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from testwatch.config.settings import Config, load_config
from testwatch.history.store import History, open_history
from testwatch.model.events import RunFinished, RunStarted, TestFinished, TestsCollected, TestStarted
from testwatch.model.results import PhaseReport, TestResult
from testwatch.tui.app import TestwatchApp, make_app

from .svg_snapshots import SNAPSHOT_DIR, UPDATE_OPTION, compare_with_stored

FROZEN_CLOCK_S = 1000.0


def pytest_addoption(parser) -> None:
    parser.addoption(UPDATE_OPTION, action="store_true", help="store the TUI screenshots this run takes")


class FakeController:
    """A ``Controller`` (tests/tui/test_controller.py checks it); records what the app asks for instead
    of running pytest, and hands the test the listener to play events into."""

    def __init__(self, config: Config, history: History, listener: Callable[[object], None]) -> None:
        self.listener = listener
        self.requests: list[tuple[str, list[str] | None]] = []
        self.marker_expression = ""
        self.memray = config.memray
        self.paused = False
        self.cancels = 0
        self.stopped = False

    async def run(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            self.stopped = True

    def request(self, kind: str, nodeids: list[str] | None = None) -> None:
        self.requests.append((kind, nodeids))

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def cancel_run(self) -> None:
        self.cancels += 1

    def set_memray(self, on: bool) -> None:
        self.memray = on

    def marker_filter(self) -> str:
        return self.marker_expression

    def set_marker_filter(self, expression: str) -> None:
        self.marker_expression = expression


def result(nodeid: str, outcome: str = "passed", longrepr: str = "", duration_s: float = 0.01, **fields):
    """A finished test as the engine reports it."""
    call = "failed" if outcome == "failed" else "passed"
    phases = {"setup": PhaseReport("passed", 0.0), "call": PhaseReport(call, duration_s, longrepr),
              "teardown": PhaseReport("passed", 0.0)}
    return TestResult(nodeid=nodeid, outcome=outcome, phases=phases, longrepr=longrepr, **fields)


def run_events(results: list[TestResult], run_id: int | None = None, trigger: str = "all") -> list:
    """The events of a whole run of ``results``, in the engine's order."""
    events: list = [RunStarted(run_id, trigger, None), TestsCollected({r.nodeid: [] for r in results})]
    for r in results:
        events += [TestStarted(r.nodeid), TestFinished(r)]
    bad = sum(r.is_bad for r in results)
    events.append(RunFinished(run_id, {"passed": len(results) - bad, "failed": bad}, 1 if bad else 0, 0.5))
    return events


async def until(pilot, condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Let the app work until ``condition()`` holds; fail after a generous deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await pilot.pause(0.02)


def run_drawn(app: TestwatchApp, after: int | None = None) -> bool:
    """Whether a run (newer than run id ``after``) has finished and all its news been applied."""
    run = app.state.run
    return run is not None and run.run_id != after and run.finished is not None and not app.bridge.pending


def reads_done(app: TestwatchApp) -> bool:
    """Whether every read of the history the panes started (in worker threads) has been drawn."""
    return not any(pane.reads_pending for pane in app.panes)


async def play(pilot, app: TestwatchApp, events: list) -> None:
    """Report ``events`` to the app as the engine would, and wait until they are drawn."""
    await until(pilot, lambda: app.controller is not None)  # built in its own thread
    for event in events:
        app.controller.listener(event)
    await until(pilot, lambda: not app.bridge.pending)
    await pilot.pause()


def detail_text(app: TestwatchApp) -> str:
    """The tests pane's details as plain text: the head (name, status, headline), then the body."""
    return "\n".join(str(app.query_one(part).content) for part in ("#detail", "#detail-body"))


def log_lines(app: TestwatchApp) -> list[str]:
    """The log pane's lines as shown (a notice wider than the pane takes several)."""
    return [strip.text.rstrip() for strip in app.query_one("#log").lines]


@pytest.fixture
def project(make_project) -> Path:
    return make_project({"tests/test_a.py": "def test_ok():\n    pass\n"})


@pytest.fixture
def history(project) -> History:
    history = open_history(project / ".testwatch" / "history.db")
    yield history
    history.close()


@pytest.fixture
def build_app(project, history) -> Callable[..., TestwatchApp]:
    """``build_app()`` -> the real app with a FakeController and a frozen clock."""

    def build(**config_overrides) -> TestwatchApp:
        config = load_config(project, config_overrides)
        return make_app(config, history, FakeController, clock=lambda: FROZEN_CLOCK_S)

    return build


@pytest.fixture
def matches_snapshot(request, tmp_path) -> Callable[[str], None]:
    """``matches_snapshot(svg)``: compare with this test's stored screenshot (see svg_snapshots)."""
    stored_path = SNAPSHOT_DIR / request.path.stem / f"{request.node.name}.svg"
    update = request.config.getoption(UPDATE_OPTION)
    return lambda svg: compare_with_stored(svg, stored_path, tmp_path, update)
