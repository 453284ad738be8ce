"""The watch loop: file changes -> affected-test selection -> a run, forever, with no change lost.

Shared by ``testwatch watch --headless`` and the TUI. Every run records dependencies (and so
coverage), except, with ``results_first``, the run a change starts: where recording traces every
line (coverage.py's tracer: the tests' Python before 3.12, or branch coverage) it would double
that run's time, so its tests run plain and are recorded in a run of their own when the loop is
idle (trigger ``record``), which any change or request cancels. Until they are recorded their
stored fingerprints still differ from the tree, so every selection includes them: nothing is
missed meanwhile. While watching, pytest is forked from a warm process unless the config says
``warm = false`` (``warm_start.py`` falls back to a cold start whenever that is not safe). A
change arriving during a run cancels it and starts a new selection on the current tree
(``on_change = "restart"``) or waits for it to end (``"wait"``); either way the change is kept in
the pending set until a run has started after it, and the per-test fingerprints make the
cancelled run's tests eligible again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import sqlite3
import stat
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

from testwatch.collectors.in_testwatch.file_watcher import FileWatcher
from testwatch.collectors.in_testwatch.project_files import IgnoreRules, stat_key
from testwatch.config.settings import Config
from testwatch.history.store import History, own_database
from testwatch.model.events import (
    ChangesDetected,
    CoverageStored,
    EngineNotice,
    RunFinished,
    SelectionMade,
    WatchStatus,
)
from testwatch.run.child_command import DEFAULT_PLUGINS
from testwatch.run.dep_recording import PLUGIN, DepRecorder, RecordSummary
from testwatch.run.engine import RunRequest, measured_engine
from testwatch.run.failed_tests import failed_last_time
from testwatch.run.launch import EarlyChild, RecordedStart
from testwatch.run.malloc_memory import release_free_memory, use_one_malloc_arena
from testwatch.run.recording_start import Recording
from testwatch.run.signals import run_cancellable
from testwatch.select.content_hashes import content_hash
from testwatch.select.environment import CONFIG_FILES, environment_fingerprint, places_above, python_version
from testwatch.select.file_states import FileStates
from testwatch.select.selection import Selector

RunKind = Literal["affected", "all", "failed", "tests"]
KINDS: tuple[RunKind, ...] = get_args(RunKind)
_HASHED_BYTES = 16 * 2**20  # a bigger changed file is not hashed: it counts as changed
_ABOVE_POLL_S = 1.0  # how often the files above the project are looked at
RECORD_TRIGGER = "record"  # the run that records what a results-first run's tests depend on


class WatchLoop:
    """Watches ``config.root`` and runs what each change affects; drive it with ``await run()``."""

    def __init__(
        self, config: Config, history: History, listener: Callable[[object], None], watching: bool = True
    ) -> None:
        if config.warm is None:  # not configured: warm start while watching, cold for one run
            config.warm = watching
        self.config = config
        self.history = history
        self.listener = listener
        self.results_first = watching and results_first_for(config)
        self._unrecorded: set[str] = set()  # tests run results-first, not recorded since
        self._trigger = ""  # of the run under way
        self.pytest_args: list[str] = []
        self._marker_expression = ""
        self.rules = IgnoreRules(config.root, config.ignore, config.history_path)
        self.states = FileStates(config.root, history)
        self.selector = Selector(config, history, self.rules, self.states)
        self.recorder = DepRecorder(config, self.rules, history.path.parent if history.path else None)
        self.engine = measured_engine(config, history, listener, plugins=[*DEFAULT_PLUGINS, PLUGIN])
        self.pending_changes: set[str] = set()
        self._requests: deque[tuple[str, list[str] | None]] = deque()
        self._paused = False
        self._wake = asyncio.Event()
        self._run_task: asyncio.Task | None = None
        self._dep_paths: set[str] | None = None  # data files some test opened
        self._seen_content: dict[str, str | None] = {}  # path -> content hash at its last change
        self._in_engine = False
        self._recording: asyncio.Future | None = None  # the recording thread's work, while it runs
        self._storing: Recording | None = None  # the recording it stores
        self._own_output = _output_files()
        # Frees the runs' reference cycles before waiting: a full collection here; the app hands it to
        # its own collector policy (tui/heap.py), which runs it when no key is coming.
        self.collect_cycles: Callable[[], object] = gc.collect

    # ----- the interface the TUI drives

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Stop starting runs on changes (changes are kept; explicit requests still run)."""
        self._paused = True
        self.listener(WatchStatus("paused: changes are kept and run on resume"))

    def resume(self) -> None:
        self._paused = False
        self.listener(WatchStatus("resumed"))
        self._wake.set()

    @property
    def memray(self) -> bool:
        return self.config.memray

    def set_memray(self, on: bool) -> None:
        """Measure allocations with memray (or stop) from the next run on."""
        self.config.memray = on

    def marker_filter(self) -> str:
        """The pytest ``-m`` expression every run is given ("" for none)."""
        return self._marker_expression

    def set_marker_filter(self, expression: str) -> None:
        """Give every run from the next on ``-m expression`` after ``pytest_args`` ("" for none)."""
        self._marker_expression = expression

    def request(self, kind: RunKind, nodeids: list[str] | None = None) -> None:
        """Queue a run: ``affected``, ``all``, ``failed`` or ``tests`` (the given node ids)."""
        if kind not in KINDS:
            raise ValueError(f"unknown run request {kind!r} (expected one of {', '.join(KINDS)})")
        self._requests.append((kind, list(nodeids or [])))
        if self._trigger == RECORD_TRIGGER:
            self.cancel_run()  # background work: what the user asked for comes first
        self._wake.set()

    def cancel_run(self) -> None:
        """Cancel the run in progress: its child is killed, finished results stay (run cancelled)."""
        if self._run_task is not None and not self._run_task.done():
            self._run_task.cancel()

    async def run(self) -> None:
        """Watch and run until cancelled; the first run is the affected set (all without history)."""
        use_one_malloc_arena()  # before the watch starts its threads
        watcher = FileWatcher(
            self.rules, self.config.debounce, self.config.poll, self.config.rescan,
            on_status=lambda message, severity: self.listener(WatchStatus(message, severity)),
        )
        watching = asyncio.create_task(self._consume(watcher), name="testwatch-changes")
        above = asyncio.create_task(self._watch_above(), name="testwatch-above")
        if self.engine.warm is not None:
            self.engine.warm.prestart()
        if not self._requests:
            self.request("affected")
        try:
            await self._serve()
        finally:
            watching.cancel()
            above.cancel()
            self.cancel_run()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            with contextlib.suppress(asyncio.CancelledError):
                await above
            if self._run_task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._run_task
            await self._close()

    async def run_once(
        self, kind: str = "affected", nodeids: list[str] | None = None, trigger: str = "",
        started: RecordedStart | None = None, waiting: EarlyChild | None = None,
    ):
        """One recorded run without watching (``testwatch run --affected``); None if none selected.
        ``trigger``: what the history says started it (default: ``kind``); ``started``: a run of
        every test (kind ``all``) whose recording and pytest were started already; ``waiting``:
        a recording pytest started before the selection, which it is given to run."""
        try:
            return await self._run_job(kind, nodeids, trigger or kind, started, waiting)
        finally:
            if waiting is not None:
                waiting.discard()  # a no-op once adopted; else nothing was selected
            await self._close()

    async def _close(self) -> None:
        """Wait for the recording thread (a thread cannot be cancelled), stop the warm process."""
        if self._recording is not None:
            with contextlib.suppress(Exception):
                await self._recording
        self.engine.close()

    # ----- internals

    async def _consume(self, watcher: FileWatcher) -> None:
        mode = "polling" if self.config.poll else "file events"
        self.listener(WatchStatus(f"watching {self.config.root} ({mode})"))
        async for paths in watcher.changes():
            paths = [path for path in paths if not self._is_own_output(path)]
            if not paths:
                continue  # `testwatch watch --headless > watch.log` in the project: our own lines
            self.listener(ChangesDetected(paths))
            relevant = [path for path in paths if self._relevant(path)]
            if relevant:
                relevant = await asyncio.to_thread(self._content_changed, relevant)
            if relevant:  # else no test reads it (a log a test wrote, a scratch file), or only touched
                self._queue_changes(relevant)

    async def _watch_above(self) -> None:
        """Poll the conftest.py and config files above the project (a monorepo's, which pytest
        reads from its rootdir above), which the file watcher, given the project folder, does not
        see: a change there changes the environment's fingerprint, so every test runs."""
        places = places_above(self.config.root)
        if not places:
            return
        keys = await asyncio.to_thread(_stat_keys, places)
        await asyncio.to_thread(self._content_changed, [rel for rel, path in places if keys[rel]])
        while True:
            await asyncio.sleep(_ABOVE_POLL_S)
            now = await asyncio.to_thread(_stat_keys, places)
            touched = [rel for rel, _ in places if now[rel] != keys[rel]]
            keys = now
            if touched:
                changed = await asyncio.to_thread(self._content_changed, touched)
                if changed:
                    self.listener(ChangesDetected(changed))
                    self._queue_changes(changed)

    def _queue_changes(self, paths: list[str]) -> None:
        """Changed paths for the next selection: run it now, after the run under way, or restart it."""
        self.pending_changes.update(paths)
        running = self._in_engine  # not while selecting or storing: those finish quickly
        restart = self.config.on_change == "restart" and not self._paused
        if running and (restart or self._trigger == RECORD_TRIGGER):  # a recording is background work
            self.cancel_run()
        elif running:
            self.listener(WatchStatus("a change arrived during the run: it runs next"))
        self._wake.set()

    def _is_own_output(self, path: str) -> bool:
        if not self._own_output:
            return False
        try:
            found = os.stat(self.config.root / path)
        except OSError:
            return False
        return (found.st_dev, found.st_ino) in self._own_output

    def _relevant(self, path: str) -> bool:
        """Python files, config files and files some test read can change test outcomes."""
        if path.endswith(".py") or path in CONFIG_FILES:
            return True
        if self._dep_paths is None:
            try:
                rows = self.history.rows("select distinct path from test_deps where kind = 'file'")
                self._dep_paths = {row["path"] for row in rows}
            except sqlite3.Error:
                return True
        return path in self._dep_paths

    def _content_changed(self, paths: list[str]) -> list[str]:
        """The paths whose content differs from what their last change event found. A file whose
        times alone changed is no change: a test that touches a file it reads (jinja2 3.1.6's
        ``test_caches_template_based_on_mtime`` calls ``os.utime`` on a template) would otherwise
        cancel the run it belongs to as soon as it fails, and start it again, without end."""
        changed = []
        for path in paths:
            try:
                found = self.config.root / path
                digest = content_hash(found.read_bytes()) if found.stat().st_size <= _HASHED_BYTES else None
            except OSError:  # gone, or unreadable: a change
                digest = None
            if digest is None or self._seen_content.get(path) != digest:
                changed.append(path)
            self._seen_content[path] = digest
        return changed

    async def _serve(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            self._run_task = asyncio.create_task(self._run_job(*job), name="testwatch-run")
            try:
                await asyncio.shield(self._run_task)
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise  # the loop itself is being stopped
            except Exception as exc:  # a bug must not end watching: say it and go on
                self.listener(EngineNotice(f"the run failed: {exc!r}", "error"))
            if not self._has_work():
                self._release_garbage()
                self.engine.prestart_cold()
                self.listener(WatchStatus("waiting for changes"))

    def _release_garbage(self) -> None:
        """Before waiting: free the runs' reference cycles, which only a full collection reaches
        (coverage.py's objects hold in-memory SQLite databases in cycles), and give the pages back
        (tens of milliseconds, while there is nothing to run)."""
        self.collect_cycles()
        release_free_memory()

    def _has_work(self) -> bool:
        return bool(self._requests or (not self._paused and (self.pending_changes or self._unrecorded)))

    def _next_job(self) -> tuple[str, list[str] | None, str] | None:
        if self._requests:
            kind, nodeids = self._requests.popleft()
            return kind, nodeids, kind
        if self.pending_changes and not self._paused:
            return "affected", None, "change"
        if self._unrecorded and not self._paused:
            return "tests", sorted(self._unrecorded), RECORD_TRIGGER
        return None

    async def _run_job(
        self, kind: str, nodeids: list[str] | None, trigger: str, started: RecordedStart | None = None,
        waiting: EarlyChild | None = None,
    ) -> RunFinished | None:
        if trigger == "change" or kind == "affected":
            self.pending_changes.clear()  # the selection below sees every change so far
        if self.history.recreate_if_gone():
            self.listener(EngineNotice(
                f"the history {self.history.path} was deleted; a new one was started"))
        request = self._build_request(kind, nodeids, trigger)
        if request is None:
            return None
        if self.results_first and trigger == "change" and request.select is not None:
            return await self._run_unrecorded(request)
        early = waiting
        if started is not None:
            recording, environment, early = started.recording, started.environment, started.child
            self.recorder.begin(recording)
        else:
            recording = await asyncio.to_thread(self.recorder.begin)
            # Fingerprinted before the run: a config edited during it must still select everything.
            environment = None
            if request.select is None:
                environment = environment_fingerprint(self.config.root, self.config.python)
        request.pytest_args = [*request.pytest_args, *recording.pytest_args]
        # Storing starts as the last session ends, while its pytest is still exiting.
        request.on_sessions_over = functools.partial(self._start_storing, recording)
        finished: RunFinished | None = None
        cancelled = False
        outcomes_before = self._outcomes(request.select) if trigger == RECORD_TRIGGER else None
        try:
            self._in_engine, self._trigger = True, trigger
            finished = await self.engine.run(request, early)
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            self._in_engine, self._trigger = False, ""
            complete = finished is not None and not finished.cancelled and finished.exit_status in (0, 1)
            if not cancelled:
                # Recorded now, or not recordable as asked (a test gone, a failed run): not tried
                # again; the next change's selection has them while their fingerprints are old.
                ran = set(self._unrecorded) if request.select is None else request.select
                self._unrecorded.difference_update(ran)
            run_id = finished.run_id if finished is not None else None
            summary = await self._finish_recording(recording, run_id, environment if complete else None)
            if outcomes_before and complete:
                self._say_outcomes_changed(outcomes_before, run_id)
            if complete and summary is not None and summary.coverage_stored:
                self.engine.events.publish(CoverageStored(run_id, whole_suite=request.select is None))
            self.history.release_memory()  # what the run and its recording freed, not kept resident
            release_free_memory()
            self._dep_paths = None
        return finished

    async def _run_unrecorded(self, request: RunRequest) -> RunFinished | None:
        """A change's selection, run plain: its results first, its recording when idle."""
        finished = None
        try:
            self._in_engine, self._trigger = True, request.trigger
            finished = await self.engine.run(request)
        finally:
            self._in_engine, self._trigger = False, ""
            self._unrecorded.update(request.select)
            self.history.release_memory()
            release_free_memory()
        return finished

    def _outcomes(self, nodeids: list[str] | None) -> dict[str, str]:
        """The newest outcome of each of ``nodeids`` (none when unknown)."""
        try:
            newest = self.history.last_outcomes()
        except sqlite3.Error:
            return {}
        return {nodeid: newest[nodeid] for nodeid in nodeids or () if nodeid in newest}

    def _say_outcomes_changed(self, before: dict[str, str], run_id: int | None) -> None:
        """Warn of the tests a recording run ended otherwise than their results-first run:
        recording can change what a test sees (structlog 26.1.0's ``test_recursive`` on Python
        3.11: the recursion error's message, as under ``pytest --testmon``), or the test is flaky."""
        try:
            after = dict(self.history.conn.execute(
                "select nodeid, outcome from results where run_id = ?", [run_id]))
        except sqlite3.Error:
            return
        changed = [f"{nodeid} ({before[nodeid]}, then {outcome})" for nodeid, outcome in after.items()
                   if nodeid in before and before[nodeid] != outcome]
        if changed:
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            self.listener(EngineNotice(
                f"{len(changed)} test(s) ended otherwise while their dependencies were recorded than "
                f"just before: {', '.join(changed[:3])}{more}. Recording can change what a test sees "
                "(its stack depth, its timing); or the test is flaky", "warning",
            ))

    def _build_request(self, kind: str, nodeids, trigger: str) -> RunRequest | None:
        args = [*self.pytest_args, *(["-m", self._marker_expression] if self._marker_expression else [])]
        if kind == "all":
            return RunRequest(trigger=trigger, pytest_args=args)
        if kind == "tests":
            reason = "recorded after its results" if trigger == RECORD_TRIGGER else "requested"
            return RunRequest(trigger=trigger, select=nodeids, pytest_args=args,
                              reasons=dict.fromkeys(nodeids, reason))
        if kind == "failed":
            failed = failed_last_time(self.history, self.config.root)
            return RunRequest(trigger=trigger, select=failed, pytest_args=args,
                              reasons=dict.fromkeys(failed, "failed last time"))
        selection = self.selector.select()
        self.listener(SelectionMade(selection.selected, selection.reasons, selection.total_known,
                                    selection.elapsed_s, selection.everything))
        if selection.everything:
            return RunRequest(trigger=trigger, pytest_args=args,
                              reasons={"*": selection.everything_reason})
        if not selection.selected:
            self.listener(WatchStatus("no tests are affected by the changes"))
            return None
        return RunRequest(trigger=trigger, select=selection.selected, pytest_args=args,
                          reasons=selection.reasons, known=selection.known_in_selected_files())

    def _start_storing(self, recording: Recording, run_id: int | None) -> None:
        """Start storing ``recording`` in the recorder's thread (``_recording``), once. In memory,
        the history has only this thread's connection: ``_finish_recording`` stores it there."""
        if self.history.path is None or self._storing is recording:
            return
        self._storing = recording
        self._recording = asyncio.ensure_future(self._store(self._recording, recording, run_id))

    async def _store(self, earlier: asyncio.Future | None, recording: Recording, run_id: int | None):
        if earlier is not None:  # one finish at a time: an earlier one whose run was given up on
            await asyncio.wait([earlier])
        store = functools.partial(self.recorder.finish, recording, run_id)
        return await asyncio.to_thread(self._in_thread, store)

    async def _finish_recording(self, recording: Recording, run_id, environment) -> RecordSummary | None:
        """Store the recording (unless that started as its last session ended), then the
        environment of a complete run; adopt the file states stored. Returns what was stored
        (None when nothing could be)."""
        try:
            if self.history.path is None:  # in memory: only this thread's connection sees it
                summary = self.recorder.finish(recording, run_id, self.history.db)
                if environment is not None and summary.deps_stored:
                    self.recorder.store_environment(summary, recording, environment, run_id, self.history.db)
            else:
                self._start_storing(recording, run_id)
                storing = self._recording
                try:
                    summary = await asyncio.shield(storing)
                finally:
                    if storing.done() and self._recording is storing:
                        self._recording = self._storing = None
                if environment is not None and summary.deps_stored:
                    store = functools.partial(
                        self.recorder.store_environment, summary, recording, environment, run_id)
                    await asyncio.to_thread(self._in_thread, store)
        except (sqlite3.Error, OSError, ValueError) as exc:
            self.listener(EngineNotice(f"cannot store the tests' dependencies: {exc}"))
            return None
        self.states.adopt(summary.file_states)
        for warning in [*summary.warnings, *summary.notices]:
            self.listener(EngineNotice(warning))
        return summary

    def _in_thread(self, store: Callable):
        """``store(db)`` in the calling thread (not the loop's), on a connection of its own (WAL
        lets both work)."""
        db = own_database(sqlite3.connect(str(self.history.path), timeout=30))
        try:
            return store(db)
        finally:
            db.close()


def results_first_for(config: Config) -> bool:
    """``config.results_first``, where unset: True when recording would trace every line
    (coverage.py: the tests' Python before 3.12, or branch coverage)."""
    if config.results_first is not None:
        return config.results_first
    version = python_version(config.python)
    return config.branch or (version is not None and version < (3, 12))


def _stat_keys(places: list[tuple[str, Path]]) -> dict[str, tuple[int, int] | None]:
    """``places``' (size, mtime) by their relative name; None where no file is."""
    return {relative: stat_key(str(path)) for relative, path in places}


def _output_files() -> set[tuple[int, int]]:
    """The regular files this process's stdout and stderr write to, by (device, inode)."""
    found = set()
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode):
                found.add((info.st_dev, info.st_ino))
    return found


def run_recorded(
    project, listener, args, started: RecordedStart | None = None, waiting: EarlyChild | None = None,
) -> int:
    """``testwatch run --affected/--deps``: one run that records dependencies and coverage
    (``started``: of every test, its recording and pytest started already; ``waiting``: its
    pytest started, waiting for the run's arguments)."""
    loop = WatchLoop(project.config, project.history, listener, watching=False)
    loop.pytest_args = list(args.pytest_args)
    kind = "affected" if args.affected else "failed" if args.failed else "all"

    async def go() -> int:
        finished = await loop.run_once(kind, started=started, waiting=waiting)
        return finished.exit_status if finished is not None else 0

    try:
        return run_cancellable(go())
    finally:
        project.history.close()
