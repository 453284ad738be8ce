"""The run engine: runs pytest in a child, turns its event stream into results, survives its death.

A library, not a CLI: ``RunEngine.run`` is a coroutine that the headless commands and the TUI
both drive, and everything it learns goes to one listener callback as ``testwatch.model.events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from testwatch.collectors.in_pytest.leftovers import end_leftovers
from testwatch.config.settings import Config
from testwatch.history.store import History, count_outcomes
from testwatch.measure.latency import measuring_mode
from testwatch.measure.measuring import MeasuringListener
from testwatch.measure.memray_mode import write_skip_file
from testwatch.model.events import (
    ChildRestarted,
    ChildStarted,
    CollectionError,
    EngineEvent,
    EngineNotice,
    RunFinished,
    RunStarted,
    TestFinished,
    TestMeasured,
    TestsCollected,
    TestStarted,
)
from testwatch.model.results import PHASES, ResultBuilder, TestResult, nodeid_file
from testwatch.run.child import PytestChild, StartedChild, describe_exit
from testwatch.run.child_command import DEFAULT_PLUGINS, child_env, pytest_command
from testwatch.run.event_lines import EventLines
from testwatch.run.event_schema import problem
from testwatch.run.launch import EarlyChild
from testwatch.run.warm_start import WarmStart
from testwatch.run.workdirs import make_workdir, remove_stale_workdirs

FLUSH_INTERVAL_S = 0.1
# pytest exit statuses that end a session before its tests are done.
_SESSION_STOPPED = {2: "interrupted", 3: "internal error"}


class _CannotStartPython(Exception):
    """The configured interpreter is missing or not executable."""


@dataclass
class RunRequest:
    """What to run: the whole suite, or chosen node ids in the order they should run."""

    trigger: str = "manual"
    select: list[str] | None = None
    pytest_args: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass
class _RunState:
    run_id: int | None
    order: list[str] | None = None
    markers: dict[str, list[str]] = field(default_factory=dict)
    running: dict[str, float] = field(default_factory=dict)
    builders: dict[str, ResultBuilder] = field(default_factory=dict)
    finished: dict[str, TestResult] = field(default_factory=dict)
    unsaved: list[TestResult] = field(default_factory=list)
    remeasured: dict[str, TestResult] = field(default_factory=dict)  # saved, then got figures
    timed_out: set[str] = field(default_factory=set)
    session_finished: bool = False
    session_exit: int | None = None
    child_failure: int | None = None
    unrun: int = 0
    error: str = ""  # why pytest stopped early; kept in the run's history row
    open_connections: int = 0
    last_flush: float = 0.0


class RunEngine:
    """Runs pytest for one project and reports to ``listener``; one run at a time."""

    def __init__(
        self,
        config: Config,
        history: History,
        listener: Callable[[EngineEvent], None] = lambda event: None,
        plugins: list[str] | None = None,
    ) -> None:
        self.config = config
        self.history = history
        self.listener = MeasuringListener(config, history, listener)
        self.plugins = list(plugins or DEFAULT_PLUGINS)
        self.python = config.python or sys.executable
        self.child: PytestChild | None = None
        self._last_tail = ""  # the newest child's last output lines, for crash messages
        self._rootdir = config.root  # pytest's rootdir, which node ids are relative to
        self._history_warned = False
        self._history_error = ""  # the newest reason a history write failed
        stale = remove_stale_workdirs()
        if stale:
            self.listener(EngineNotice(
                f"removed {stale} temporary folders of testwatch processes that were killed", "info"))
        self.warm = WarmStart(
            self.python, config.root, self.plugins, [config.history_path.parent],
            lambda message: self.listener(EngineNotice(message, "info")),
        ) if config.warm else None

    def close(self) -> None:
        """Stop the warm process, if any (a later run starts a new one)."""
        if self.warm is not None:
            self.warm.close()

    async def run(self, request: RunRequest, early: EarlyChild | None = None) -> RunFinished:
        """Run the request to the end (or until cancelled) and return its summary.

        ``early`` is a child already started for this request (``testwatch.run.launch``); its first
        attempt adopts it instead of starting one.
        """
        started = time.monotonic()
        args = [*self.config.pytest_args, *request.pytest_args]
        measuring = measuring_mode(self.config.memray, args)
        run_id = self._start_run(request, args, measuring)
        state = _RunState(run_id=run_id)
        self.listener(RunStarted(run_id, request.trigger, _count(request.select), request.reasons, measuring))
        remaining = request.select
        restarts = 0
        adopt = early
        try:
            if remaining is not None and not remaining:
                return self._finish(state, started, message="no tests selected")
            while True:
                try:
                    code = await self._attempt(state, remaining, args, adopt)
                    adopt = None  # a restart starts a child of its own
                except _CannotStartPython as exc:
                    state.child_failure = 4  # pytest's usage error: nothing can run as configured
                    state.error = str(exc)
                    self.listener(EngineNotice(state.error, "error"))
                    break
                if state.session_finished or state.order is None:
                    if state.order is None and not state.session_finished:
                        state.child_failure = code
                        state.error = self._explain_early_exit(code)
                    elif state.session_exit in _SESSION_STOPPED:
                        self._session_stopped(state)
                    break
                self._end_running_tests(state, code)
                remaining = [n for n in state.order if n not in state.finished]
                if not remaining:
                    break
                if restarts >= self.config.max_restarts:
                    state.unrun = len(remaining)
                    self.listener(EngineNotice(
                        f"pytest died {restarts + 1} times; {len(remaining)} tests were not run "
                        f"(max_restarts = {self.config.max_restarts})", "error"))
                    break
                restarts += 1
                reason = "timed out" if state.timed_out else describe_exit(code)
                self.listener(ChildRestarted(reason, len(remaining)))
            self._count_unrun(state)
            return self._finish(state, started)
        except asyncio.CancelledError:
            self._finish(state, started, cancelled=True)
            raise
        except Exception as exc:  # a bug: the run still ends in a final state, then it surfaces
            state.child_failure = 3
            state.error = f"testwatch failed during the run: {exc!r}"
            with contextlib.suppress(Exception):
                self._finish(state, started)
            raise
        finally:
            if early is not None:  # a no-op once adopted; else no tests were selected, or cancelled
                early.discard()

    # ----- one pytest process

    async def _attempt(
        self, state: _RunState, select: list[str] | None, args: list[str], early: EarlyChild | None
    ) -> int:
        workdir = early.workdir if early else make_workdir("tw-")
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        state.session_finished = False
        state.timed_out.clear()

        def connections(change: int) -> None:
            state.open_connections += change

        def broke(why: str) -> None:
            self.listener(EngineNotice(f"event stream from pytest broke: {why}"))

        where = {"sock": early.server} if early else {"path": str(workdir / "events.sock")}
        server = await asyncio.get_running_loop().create_unix_server(
            lambda: EventLines(queue, connections, broke), **where
        )
        if early:
            early.adopted = True
            child = StartedChild(early.process, self.config.root, early.env)
        else:
            argv, env = self._argv(args, select), self._env(workdir, select)
            child = (
                self.warm.child(argv, self.config.root, env) if self.warm
                else PytestChild(argv, self.config.root, env)
            )
        getter: asyncio.Future | None = None
        try:
            try:
                await child.start()
            except OSError as exc:
                raise _CannotStartPython(
                    f"cannot run the Python interpreter {self.python} ({exc.strerror}); point --python "
                    "(or python in [tool.testwatch]) at a Python that has pytest installed"
                ) from None
            self.child = child
            if child.pid is not None:
                self.listener(ChildStarted(child.pid))
            exit_task = asyncio.ensure_future(child.wait())
            while True:
                # Wake for the next event or the child's exit, whichever comes first.
                getter = getter or asyncio.ensure_future(queue.get())
                waited = {getter} if exit_task.done() else {getter, exit_task}
                await asyncio.wait(waited, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    self._handle_line(state, getter.result())
                    getter = None
                    while not queue.empty():
                        self._handle_line(state, queue.get_nowait())
                self._enforce_timeout(state, child)
                self._flush(state)
                if exit_task.done() and state.open_connections == 0 and queue.empty():
                    if not state.session_finished:
                        await asyncio.sleep(0.05)  # a connection accepted late still drains
                    if state.open_connections == 0 and queue.empty():
                        return exit_task.result()
        finally:
            if getter is not None:
                getter.cancel()
            self.child = None
            child.kill()
            self._end_leftovers(str(workdir / "events.sock"), child.pid)
            child.close_output()  # a process that escaped still holding it must not keep our end
            self._last_tail = child.tail()
            server.close()
            shutil.rmtree(workdir, ignore_errors=True)
            self._flush(state, force=True)

    def _end_leftovers(self, socket_path: str, group: int | None) -> None:
        """End what the tests started outside the child's process group, naming who started it."""
        for leftover in end_leftovers(socket_path, group or -1):
            who = f"test {leftover.nodeid}" if leftover.nodeid else "the pytest run"
            self.listener(EngineNotice(
                f"{who} left process {leftover.pid} running ({leftover.command[:200]}); "
                "testwatch ended it"
            ))

    def _argv(self, args: list[str], select: list[str] | None) -> list[str]:
        paths = []
        if select is not None:
            # Collect only the files holding the chosen tests; the plugin picks the tests.
            paths = sorted({self._collect_path(nodeid) for nodeid in select})
        return pytest_command(
            self.python, self.plugins, [*args, *paths],
            self.config.history_path.parent, self.config.root,
        )

    def _collect_path(self, nodeid: str) -> str:
        """A node id's file as a path from the project root (pytest's rootdir may be elsewhere)."""
        return os.path.relpath(self._rootdir / nodeid_file(nodeid), self.config.root)

    def _env(self, workdir: Path, select: list[str] | None) -> dict[str, str]:
        skip_file = write_skip_file(self.history, workdir) if self.config.memray else None
        return child_env(self.config, self.python, workdir, select, skip_file)

    # ----- events

    def _handle_line(self, state: _RunState, line: bytes | None) -> None:
        if line is None:
            return
        try:
            event = json.loads(line)
        except ValueError:
            self.listener(EngineNotice(f"unreadable event from pytest: {line[:200]!r}"))
            return
        why = problem(event)
        if why is not None:
            self.listener(EngineNotice(f"malformed event from pytest skipped ({why}): {line[:200]!r}"))
            return
        kind = event.get("event")
        if kind == "test":
            for phase in event["phases"]:
                self._on_report(state, {**event, **phase})
        elif kind == "start":
            self._on_start(state, event)
        elif kind == "collected":
            self._on_collected(state, event["items"])
        elif kind == "collect_error":
            self._on_collect_error(state, event)
        elif kind == "figures":
            self._on_figures(state, event)
        elif kind == "notice":
            self.listener(EngineNotice(str(event.get("message", "")), "info"))
        elif kind == "session_start":
            self._rootdir = Path(event.get("rootdir") or self.config.root)
        elif kind == "session_finish":
            state.session_finished = True
            state.session_exit = event.get("exitstatus")

    def _on_collected(self, state: _RunState, items: list) -> None:
        if state.order is not None:
            return  # a restart collects again; the first collection's order stands
        state.order = [nodeid for nodeid, _ in items]
        state.markers = {nodeid: markers for nodeid, markers in items}
        self.listener(TestsCollected(state.markers))

    def _on_collect_error(self, state: _RunState, event: dict) -> None:
        path = event.get("nodeid") or "<collection>"
        if path in state.finished:
            return
        result = TestResult(nodeid=path, outcome="error", longrepr=event.get("longrepr", ""))
        self._record(state, result)
        self.listener(CollectionError(path, result.longrepr))

    def _on_start(self, state: _RunState, event: dict) -> None:
        nodeid = event["nodeid"]
        location = event.get("location") or [None, None, None]
        lineno = location[1] + 1 if isinstance(location[1], int) else None
        state.running[nodeid] = time.monotonic()
        state.builders[nodeid] = ResultBuilder(nodeid, lineno)
        self.listener(TestStarted(nodeid, lineno))

    def _on_report(self, state: _RunState, event: dict) -> None:
        nodeid = event["nodeid"]
        builder = state.builders.get(nodeid) or state.builders.setdefault(
            nodeid, ResultBuilder(nodeid)
        )
        if event["when"] not in PHASES:  # pytest-xdist's report for a worker that died
            elapsed_s = _elapsed_s(state, nodeid)
            self._record(state, builder.end_abnormally("crashed", event.get("longrepr", ""), elapsed_s))
            return
        result = builder.add(event)
        if result is not None:
            self._record(state, result)

    def _on_figures(self, state: _RunState, event: dict) -> None:
        """Figures of a finished test measured after its report (memray's shared capture)."""
        result = state.finished.get(event["nodeid"])
        if result is None:
            return
        result.extra.update(event["extra"])
        if not any(unsaved is result for unsaved in state.unsaved):
            state.remeasured[result.nodeid] = result
        self.listener(TestMeasured(result, list(event["extra"])))

    def _record(self, state: _RunState, result: TestResult) -> None:
        state.running.pop(result.nodeid, None)
        state.builders.pop(result.nodeid, None)
        state.finished[result.nodeid] = result
        state.unsaved.append(result)
        self.listener(TestFinished(result))

    # ----- deaths and hangs

    def _enforce_timeout(self, state: _RunState, child: PytestChild) -> None:
        limit = self.config.timeout
        if limit <= 0 or state.timed_out:
            return
        now = time.monotonic()
        late = {nodeid for nodeid, t0 in state.running.items() if now - t0 > limit}
        if late:
            state.timed_out |= late
            child.kill()

    def _end_running_tests(self, state: _RunState, code: int) -> None:
        """After the child died: blame the tests it was running, requeue the bystanders."""
        tail = self._last_tail
        for nodeid in list(state.running):
            builder, elapsed_s = state.builders[nodeid], _elapsed_s(state, nodeid)
            if state.timed_out:
                if nodeid not in state.timed_out:
                    state.running.pop(nodeid)
                    state.builders.pop(nodeid)
                    continue
                message = f"timed out after {self.config.timeout:g} s; its process group was killed"
                self._record(state, builder.end_abnormally("timeout", message, elapsed_s))
            else:
                message = f"the pytest process died ({describe_exit(code)}) while this test ran"
                if tail:
                    message += f"\n--- last output of pytest ---\n{tail}"
                self._record(state, builder.end_abnormally("crashed", message, elapsed_s))

    def _session_stopped(self, state: _RunState) -> None:
        """pytest ended its session early (INTERNALERROR, pytest.exit): say so, blame, count the rest."""
        why = _SESSION_STOPPED[state.session_exit]
        tail = self._last_tail
        for nodeid in list(state.running):
            message = f"pytest stopped ({why}) while this test ran\n--- last output of pytest ---\n{tail}"
            ended = state.builders[nodeid].end_abnormally("crashed", message, _elapsed_s(state, nodeid))
            self._record(state, ended)
        left = [nodeid for nodeid in state.order or [] if nodeid not in state.finished]
        state.child_failure = state.session_exit
        state.error = f"pytest stopped ({why}); {len(left)} tests were not run:\n{tail}"
        self.listener(EngineNotice(state.error, "error"))

    def _count_unrun(self, state: _RunState) -> None:
        """Collected tests that never reported (pytest -x, a restart that lost them): say so."""
        if state.order is None or state.unrun or state.child_failure is not None:
            return
        left = [nodeid for nodeid in state.order if nodeid not in state.finished]
        if left:
            state.unrun = len(left)
            self.listener(EngineNotice(
                f"{len(left)} collected tests did not run, {left[0]} first (pytest stopped early)"))

    def _explain_early_exit(self, code: int) -> str:
        tail = self._last_tail
        if "No module named pytest" in tail:
            message = f"pytest is not installed for {self.python}: run {self.python} -m pip install pytest"
        elif code == 5 or "no tests ran" in tail:
            return ""
        else:
            message = f"pytest stopped before collecting tests ({describe_exit(code)}):\n{tail}"
        self.listener(EngineNotice(message, "error"))
        return message

    # ----- history

    def _start_run(self, request: RunRequest, args: list[str], measuring: str) -> int | None:
        try:
            return self.history.start_run(
                request.trigger, _count(request.select), args, measuring=measuring,
                python=self.python, git_revision=_git_revision(self.config.root),
            )
        except sqlite3.Error as exc:
            self._warn_history(exc)
            return None

    def _flush(self, state: _RunState, force: bool = False) -> None:
        now = time.monotonic()
        pending = state.unsaved or state.remeasured
        if not pending or (not force and now - state.last_flush < FLUSH_INTERVAL_S):
            return
        state.last_flush = now
        if state.run_id is None:
            state.unsaved.clear()
            state.remeasured.clear()
            return
        try:
            self.history.add_results(state.run_id, state.unsaved)
            state.unsaved.clear()
            self.history.update_figures(state.run_id, state.remeasured.values())
            state.remeasured.clear()
        except sqlite3.Error as exc:
            self._warn_history(exc)  # kept in memory and retried at the next flush

    def _warn_history(self, exc: Exception) -> None:
        self._history_error = str(exc)
        if not self._history_warned:
            self._history_warned = True
            self.listener(EngineNotice(f"cannot write the history ({exc}); results are kept in memory"))

    def _finish(
        self, state: _RunState, started: float, cancelled: bool = False, message: str = ""
    ) -> RunFinished:
        counts = count_outcomes(r.outcome for r in state.finished.values())
        exit_status = _exit_status(state, counts, cancelled)
        duration_s = time.monotonic() - started
        status = "cancelled" if cancelled else "finished"
        self._flush(state, force=True)
        if state.unsaved:
            self.listener(EngineNotice(
                f"{len(state.unsaved)} results of this run could not be written to the history "
                f"{self.config.history_path} ({self._history_error}); they were reported, not saved",
                "error",
            ))
        if state.run_id is not None:
            with contextlib.suppress(sqlite3.Error):
                self.history.finish_run(
                    state.run_id, status=status, exit_status=exit_status, duration_s=duration_s,
                    collected=len(state.order) if state.order is not None else None,
                    message=message or state.error or None, **counts,
                )
        finished = RunFinished(state.run_id, counts, exit_status, duration_s, cancelled, message)
        self.listener(finished)
        return finished


def _count(select: list[str] | None) -> int | None:
    return None if select is None else len(select)


def _elapsed_s(state: _RunState, nodeid: str) -> float:
    """Time since ``nodeid`` started (0 when its start was never seen)."""
    started = state.running.get(nodeid)
    return 0.0 if started is None else time.monotonic() - started


def _exit_status(state: _RunState, counts: dict[str, int], cancelled: bool) -> int:
    """pytest's exit codes: 0 passed, 1 failures, 2 interrupted, 3/4 pytest's own, 5 no tests."""
    if cancelled:
        return 2
    if state.child_failure is not None:
        return state.child_failure or 3
    bad = counts["failed"] + counts["error"] + counts["crashed"] + counts["timeout"]
    if bad or state.unrun:
        return 1
    if not state.finished:
        return 5
    return 0


def _git_revision(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
            text=True, timeout=2,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
