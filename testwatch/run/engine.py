"""The run engine: runs a request in pytest children until its tests are done, and publishes what
happens as ``testwatch.model.events`` on its bus.

A library, not a CLI: ``RunEngine.run`` is a coroutine that the headless commands and the TUI
both drive. The engine only conducts: ``ChildSession`` runs one pytest process and its event
stream, ``RunModel`` keeps the state of the run and blames tests for deaths and hangs, and
``HistoryWriter`` records the run. Everything else (the reporter, the TUI's bridge, measuring) is
a listener its caller adds to ``engine.events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from testwatch.collectors.in_pytest.node_ids import ProjectIds
from testwatch.collectors.in_pytest.protocol import ENV_HOLD
from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.config.pytest_ini import addopts
from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.measure.latency import measuring_mode
from testwatch.measure.measuring import measuring_listeners
from testwatch.measure.memray_mode import write_skip_file
from testwatch.model.events import (
    ChildRestarted,
    ChildStarted,
    EngineEvent,
    EngineNotice,
    RunEnding,
    RunFinished,
    RunStarted,
    SessionStarted,
)
from testwatch.model.results import nodeid_file
from testwatch.run.child import PytestChild, describe_exit
from testwatch.run.child_command import (
    DEFAULT_PLUGINS,
    DEPS_PLUGIN,
    child_env,
    pytest_command,
    selection_env,
)
from testwatch.run.child_session import CannotStartPython, ChildSession
from testwatch.run.event_schema import problem
from testwatch.run.history_writer import HistoryWriter
from testwatch.run.launch import EarlyChild, launch_early
from testwatch.run.listeners import EventBus, Listener
from testwatch.run.next_session import NextSession
from testwatch.run.run_model import SESSION_STOPPED, RunModel
from testwatch.run.run_phases import split_selection
from testwatch.run.stale_bytecode import remove_stale_bytecode
from testwatch.run.warm_start import WarmStart
from testwatch.run.workdirs import make_workdir, remove_stale_workdirs
from testwatch.select.environment import environment_fingerprint


@dataclass
class RunRequest:
    """What to run: the whole suite, or chosen node ids in the order they should run."""

    trigger: str = "manual"
    select: list[str] | None = None
    pytest_args: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    # The tests the history knows in the selected tests' files, for a selection of affected tests:
    # the child runs the others it collects there too (new tests). None: the selection only.
    known: frozenset[str] | None = None
    # Called with the run's id once its last pytest session has ended, while that pytest may still
    # be exiting (its plugins' records are written by then): work on them can start at once.
    on_sessions_over: Callable[[int | None], None] | None = None


class RunEngine:
    """Runs pytest for one project, one run at a time, and publishes what happens on ``events``.

    ``events`` holds the history writer, then ``listener``; a caller adds more with
    ``engine.events.add``.
    """

    def __init__(
        self,
        config: Config,
        history: History,
        listener: Listener = lambda event: None,
        plugins: list[str] | None = None,
    ) -> None:
        self.config = config
        self.history = history
        self.events = EventBus()
        self.writer = HistoryWriter(history, self.events.publish)
        self.events.add(self.writer, listener)
        self.plugins = list(plugins or DEFAULT_PLUGINS)
        self.python = config.python or sys.executable
        # pytest's node ids -> the project's (``node_ids``), set by each child's session start
        self._project_ids = ProjectIds(str(config.root), str(config.root))
        self._rules = IgnoreRules(config.root, config.ignore, config.history_path)  # stale .pyc files
        stale = remove_stale_workdirs()
        if stale:
            self._notice(f"removed {stale} temporary folders of testwatch processes that were killed", "info")
        self.warm = WarmStart(
            self.python, config.root, self.plugins, [config.history_path.parent],
            lambda message: self._notice(message, "info"),
        ) if config.warm else None
        self._ready: EarlyChild | None = None  # the next run's pytest, started cold ahead of it
        self._ready_environment = ""  # the environment it was started in
        self._on_sessions_over: Callable[[int | None], None] | None = None  # the running request's
        self._known: frozenset[str] | None = None  # the running request's, and the tests it ran

    def close(self) -> None:
        """Stop the warm process and the pytest started ahead, if any (a later run starts new ones)."""
        if self.warm is not None:
            self.warm.close()
        if self._ready is not None:
            self._ready.discard()
            self._ready = None

    def prestart_cold(self) -> None:
        """Between runs that start pytest cold (warm start off or unusable) and record: start the
        next run's pytest now, waiting for its arguments (``launch.launch_waiting``), so that its
        interpreter's start and imports are done before the next edit instead of after it."""
        if self._ready is not None or self.config.memray or DEPS_PLUGIN not in self.plugins:
            return
        if self.warm is not None and not self.warm.disabled:
            return
        self._ready_environment = environment_fingerprint(self.config.root, self.config.python)
        self._ready = launch_early(self.config, [], tuple(self.plugins), waiting=True)

    def _take_ready(self) -> EarlyChild | None:
        """The pytest started ahead, if it can run this run: alive, same environment, no memray."""
        ready, self._ready = self._ready, None
        if ready is None:
            return None
        if (ready.process.poll() is not None or self.config.memray
                or environment_fingerprint(self.config.root, self.config.python) != self._ready_environment):
            ready.discard()
            return None
        return ready

    async def run(self, request: RunRequest, early: EarlyChild | None = None) -> RunFinished:
        """Run the request to the end (or until cancelled) and return its summary.

        ``early`` is a child already started for this request (``testwatch.run.launch``); its first
        attempt adopts it instead of starting one.
        """
        started = time.monotonic()
        args = [*self.config.pytest_args, *request.pytest_args]
        measuring = measuring_mode(self.config.memray, args)
        selected = None if request.select is None else len(request.select)
        run_id = self.writer.start_run(
            request.trigger, selected, args, measuring, self.python, self.config.root
        )
        model = RunModel()
        self._on_sessions_over = request.on_sessions_over
        self._known = request.known
        self.events.publish(RunStarted(run_id, request.trigger, selected, request.reasons, measuring))
        try:
            if request.select is not None and not request.select:
                return self._finish(model, started, message="no tests selected")
            await self._attempts(model, request.select, args, early)
            self._publish(model.count_unrun())
            return self._finish(model, started)
        except asyncio.CancelledError:
            self._finish(model, started, cancelled=True)
            raise
        except Exception as exc:  # a bug: the run still ends in a final state, then it surfaces
            model.child_failure = 3
            model.error = f"testwatch failed during the run: {exc!r}"
            with contextlib.suppress(Exception):
                self._finish(model, started)
            raise
        finally:
            self._on_sessions_over = None
            self._known = None
            if early is not None:  # a no-op once adopted; else no tests were selected, or cancelled
                early.discard()

    async def _attempts(
        self, model: RunModel, select: list[str] | None, args: list[str], early: EarlyChild | None
    ) -> None:
        """Run the selection's sessions in turn (``run_phases``): the first-ranked test's file,
        then the rest. The next session's pytest starts once the one before has collected
        (``next_session``), and runs its tests only when the one before ended as a whole run
        would go on; else it is discarded."""
        if select is None or early is not None:
            phases = [select]
        else:  # the project's addopts may hold an option that needs one session (-x, -n)
            phases = split_selection(select, [*addopts(self.config.root, args, os.environ), *args])
        current: NextSession | None = None
        started: NextSession | None = None
        try:
            for index, phase in enumerate(phases):
                current, started = started, None
                if index + 1 < len(phases):
                    later = phases[index + 1]
                    started = NextSession(lambda later=later: self._session(later, args, None, held=True))
                last = index + 1 == len(phases)
                if not await self._phase(model, phase, args, early, current, started, last):
                    return
                early = None
        finally:
            for session in (current, started):  # a session taken by its phase is closed there
                if session is not None:
                    session.discard()

    async def _phase(
        self, model: RunModel, select: list[str] | None, args: list[str], early: EarlyChild | None,
        current: NextSession | None = None, upcoming: NextSession | None = None, last: bool = True,
    ) -> bool:
        """Start pytest for the tests left until none are left, pytest ends its session, or the
        restarts run out; False when the run must not go on to another session. ``current`` is
        this session's pytest if it was started early; ``upcoming`` is started once this one
        has collected; ``last``: no session follows this phase's."""
        remaining, restarts = select, 0
        while True:
            try:
                code, tail = await self._attempt(model, remaining, args, early, current, upcoming, last)
            except CannotStartPython as exc:
                self._publish(model.cannot_start(
                    f"cannot run the Python interpreter {self.python} ({exc}); point --python "
                    "(or python in [tool.testwatch]) at a Python that has pytest installed"
                ))
                return False
            early = current = None  # a restart starts a child of its own
            if not model.collected_now and not model.session_finished and restarts == 0:
                self._publish(model.early_exit(code, tail, self.python))
                return model.child_failure is None  # only "no tests ran" lets the run go on
            if model.session_finished:
                if model.session_exit in SESSION_STOPPED:
                    self._publish(model.session_stopped(tail))
                    return False
                return True
            self._publish(model.child_died(code, tail, self.config.timeout))
            remaining = model.remaining()
            if self._known is not None:  # the new tests that ran are not new to the next child
                self._known = self._known.union(model.finished)
            if not remaining:
                return True
            if restarts >= self.config.max_restarts:
                self._publish(model.gave_up(restarts + 1, self.config.max_restarts))
                return False
            restarts += 1
            reason = "timed out" if model.timed_out else describe_exit(code)
            self.events.publish(ChildRestarted(reason, len(remaining)))

    async def _attempt(
        self, model: RunModel, select: list[str] | None, args: list[str], early: EarlyChild | None,
        current: NextSession | None = None, upcoming: NextSession | None = None, last: bool = True,
    ) -> tuple[int, str]:
        """One pytest process, to its end: its exit code and last output. Once the session of the
        ``last`` phase has ended, no pytest follows it in this run (``_phase``)."""
        model.begin_attempt()
        if current is not None:
            session = await current.take()
        else:
            session = self._session(select, args, early)
            await session.start()
        try:
            if session.pid is not None:
                self.events.publish(ChildStarted(session.pid))
            while (lines := await session.next_batch()) is not None:
                for line in lines:
                    self._handle_line(model, line)
                session.session_over = model.session_finished
                if last and model.session_finished and self._on_sessions_over is not None:
                    sessions_over, self._on_sessions_over = self._on_sessions_over, None
                    sessions_over(self.writer.run_id)
                if upcoming is not None and model.collected_now:
                    upcoming.start()
                if model.overdue(self.config.timeout):
                    session.kill()
                self.writer.flush()
        finally:
            session.close()
            self.writer.flush(force=True)
        return session.exit_code, session.tail  # the tail is kept as the session closes

    def _session(
        self, select: list[str] | None, args: list[str], early: EarlyChild | None, held: bool = False
    ) -> ChildSession:
        if early is None and not held:
            early = self._take_ready()
        if early is None or early.waiting:  # this session's pytest imports the project from now on
            remove_stale_bytecode(self._rules)
        if early is not None and early.waiting and not early.release(
            self._argv(args, select), selection_env(early.workdir, select, self._known)
        ):
            early.discard()  # started for other arguments than the run's: start a child anew
            early = None
        if early is not None:
            return ChildSession.adopting(early, self.config.root, self._notice)
        workdir = make_workdir("tw-")
        argv, env = self._argv(args, select), self._env(workdir, select)
        if held:
            env[ENV_HOLD] = "1"
        child = (
            self.warm.child(argv, self.config.root, env) if self.warm
            else PytestChild(argv, self.config.root, env)
        )
        return ChildSession(child, workdir, self._notice)

    def _argv(self, args: list[str], select: list[str] | None) -> list[str]:
        paths = []
        if select is not None:
            # Collect only the files holding the chosen tests (paths from the project folder,
            # where pytest runs: ``node_ids``); the plugin picks the tests.
            paths = sorted({nodeid_file(nodeid) for nodeid in select})
        return pytest_command(
            self.python, self.plugins, [*args, *paths],
            self.config.history_path.parent, self.config.root,
        )

    def _env(self, workdir, select: list[str] | None) -> dict[str, str]:
        skip_file = write_skip_file(self.history, workdir) if self.config.memray else None
        return child_env(self.config, self.python, workdir, select, skip_file, self._known)

    def _handle_line(self, model: RunModel, line: bytes) -> None:
        """Decode one protocol line; the run model turns it into engine events."""
        try:
            event = json.loads(line)
        except ValueError:
            self._notice(f"unreadable event from pytest: {line[:200]!r}")
            return
        why = problem(event)
        if why is not None:
            self._notice(f"malformed event from pytest skipped ({why}): {line[:200]!r}")
            return
        kind = event.get("event")
        if kind == "notice":
            self._notice(str(event.get("message", "")), "info")
        elif kind == "session_start":
            root = str(self.config.root)
            self._project_ids = ProjectIds(event.get("rootdir") or root, root)
            self.events.publish(SessionStarted(event.get("show_capture") or "all"))
        else:
            self._publish(model.apply(self._project_ids.event(event)))

    def _finish(
        self, model: RunModel, started: float, cancelled: bool = False, message: str = ""
    ) -> RunFinished:
        counts = model.counts()
        exit_status = model.exit_status(cancelled)
        duration_s = time.monotonic() - started
        self.writer.finish_run(
            self.config.history_path, status="cancelled" if cancelled else "finished",
            exit_status=exit_status, duration_s=duration_s,
            collected=len(model.order) if model.order is not None else None,
            message=message or model.error or None, **counts,
        )
        self.events.publish(RunEnding(self.writer.run_id))
        finished = RunFinished(self.writer.run_id, counts, exit_status, duration_s, cancelled, message)
        self.events.publish(finished)
        return finished

    def _publish(self, events: list[EngineEvent]) -> None:
        for event in events:
            self.events.publish(event)

    def _notice(self, message: str, severity: str = "warning") -> None:
        self.events.publish(EngineNotice(message, severity))


def measured_engine(
    config: Config, history: History, listener: Listener, plugins: list[str] | None = None
) -> RunEngine:
    """A ``RunEngine`` whose runs are measured too: ``listener`` hears the samples, breaches and
    latency notices after each event that caused them."""
    engine = RunEngine(config, history, listener, plugins)
    engine.events.add(*measuring_listeners(config, history, engine.events.publish))
    return engine
