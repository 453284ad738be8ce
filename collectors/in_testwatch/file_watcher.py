"""Watches the project's files with watchfiles and yields one coalesced batch of changes per burst.

Ignored folders (``.venv``, ``node_modules``...) are not even watched: the root is watched without
recursion and each of its project folders recursively, so a huge virtualenv cannot use up the
OS watch limit. A burst (an editor's atomic save, a ``git checkout``) becomes one batch: changes
are gathered until none arrived for ``debounce_s``. When the OS refuses to watch (inotify limit)
or no event arrives from a probe file, the watcher says why and polls instead. A periodic rescan
compares file stats, catching anything the OS dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import watchfiles

from testwatch.collectors.in_testwatch.project_files import PROBE_NAME, IgnoreRules, snapshot, stat_key

MAX_BURST_S = 2.0  # a never-ending stream of changes still yields at least this often
SAME_BURST_S = 0.02  # batches of the other sources this close belong to the same burst
PROBE_TIMEOUT_S = 5.0
POLL_DELAY_MS = 300


class FileWatcher:
    """``async for paths in watcher.changes()`` gives sorted project-relative paths per burst."""

    def __init__(
        self,
        rules: IgnoreRules,
        debounce_s: float = 0.05,
        poll: bool = False,
        rescan_s: float = 30.0,
        on_status: Callable[[str, str], None] = lambda message, severity: None,
    ) -> None:
        self.rules = rules
        self.debounce_s = debounce_s
        self._same_burst_s = min(debounce_s, SAME_BURST_S)
        self.polling = poll
        self.rescan_s = rescan_s
        self.on_status = on_status
        self._queue: asyncio.Queue[set[str]] = asyncio.Queue()
        self._known: dict[str, tuple[int, int]] = {}
        self._probe_seen = asyncio.Event()
        self._sources: list[asyncio.Task] = []
        self._sources_added = asyncio.Event()
        self._new_folder_watches: dict[str, asyncio.Task] = {}  # top-level folder -> its watcher

    # ----- public

    async def changes(self) -> AsyncIterator[list[str]]:
        """Yield one sorted list of changed project paths per burst, forever."""
        self._known = await asyncio.to_thread(snapshot, self.rules)
        tasks = [asyncio.create_task(self._supervise(), name="testwatch-watch")]
        if self.rescan_s > 0:
            tasks.append(asyncio.create_task(self._rescan(), name="testwatch-rescan"))
        try:
            while True:
                yield await self._next_burst()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # ----- coalescing

    async def _next_burst(self) -> list[str]:
        """The next burst: a source's batch (watchfiles already waited ``debounce_s`` of quiet
        before it) and whatever the other sources add within ``SAME_BURST_S`` of each batch."""
        paths = set(await self._queue.get())
        deadline = time.monotonic() + MAX_BURST_S
        while time.monotonic() < deadline:
            try:
                paths |= await asyncio.wait_for(self._queue.get(), timeout=self._same_burst_s)
            except TimeoutError:
                break
        relative = sorted(
            rel for path in paths
            if not self.rules.ignored(path) and not os.path.isdir(path)
            and (rel := self.rules.relative(path)) is not None
            and (rel in self._known or os.path.exists(path))  # not an editor's passing temp file
        )
        for rel in relative:  # the rescan must not report these again
            key = stat_key(self.rules.root / rel)
            if key is None:
                self._known.pop(rel, None)
            else:
                self._known[rel] = key
        return relative or await self._next_burst()

    # ----- sources

    async def _supervise(self) -> None:
        """Run the OS watchers; fall back to polling when the OS cannot deliver events."""
        while True:
            self._new_folder_watches.clear()  # the last round's watchers were all cancelled
            self._sources = [asyncio.create_task(self._watch(recursive=False, paths=[self.rules.root]))]
            folders = self._project_folders()
            if folders:
                self._sources.append(asyncio.create_task(self._watch(recursive=True, paths=folders)))
            if not self.polling:
                self._sources.append(asyncio.create_task(self._probe()))
            try:
                failure = await self._until_failure()
            finally:  # on failure, and when the watch itself is cancelled: no watcher outlives it
                for task in self._sources:
                    task.cancel()
                await asyncio.gather(*self._sources, return_exceptions=True)
            if not self.polling:
                self.polling = True
                self.on_status(_explain(failure, self.rules.root), "warning")
            else:
                self.on_status(f"cannot watch {self.rules.root}: {failure}; rescanning only", "error")
                return

    async def _until_failure(self) -> BaseException:
        """Wait until a source fails (sources may be added meanwhile; finished ones are dropped)."""
        while True:
            added = asyncio.create_task(self._sources_added.wait())
            done, _ = await asyncio.wait([*self._sources, added], return_when=asyncio.FIRST_COMPLETED)
            added.cancel()
            self._sources_added.clear()
            for task in done - {added}:
                self._sources.remove(task)
                if not task.cancelled() and task.exception() is not None:
                    return task.exception()

    def _watch_new_folders(self, folders: list[str]) -> None:
        """Each new top-level folder gets its own watcher; running watchers are left alone."""
        for folder in folders:
            if folder in self._new_folder_watches:
                continue
            watch = asyncio.create_task(self._watch(recursive=True, paths=[Path(folder)]))
            self._new_folder_watches[folder] = watch
            self._sources.append(watch)
        self._sources.append(asyncio.create_task(self._sweep(folders)))
        self._sources_added.set()

    def _unwatch_gone_folders(self, paths: list[str]) -> None:
        """A top-level folder that was removed takes its watcher (a thread and an inotify
        instance) with it; a folder made again later gets a new one."""
        for path in paths:
            watch = self._new_folder_watches.pop(path, None)
            if watch is not None:
                watch.cancel()

    def _project_folders(self) -> list[Path]:
        try:
            entries = list(os.scandir(self.rules.root))
        except OSError:
            return []
        return [
            Path(e.path) for e in entries
            if e.is_dir(follow_symlinks=False) and not self.rules.ignored(e.path)
        ]

    async def _watch(self, recursive: bool, paths: list[Path]) -> None:
        async for batch in watchfiles.awatch(
            *paths, watch_filter=self._accept, debounce=int(MAX_BURST_S * 1000),
            step=max(10, int(self.debounce_s * 1000)), recursive=recursive,
            force_polling=self.polling, poll_delay_ms=POLL_DELAY_MS,
            ignore_permission_denied=True,
        ):
            changed = {path for _, path in batch}
            if not recursive:
                gone = [path for change, path in batch if change == watchfiles.Change.deleted]
                self._unwatch_gone_folders(gone)
                new_folders = [path for change, path in batch if _is_new_folder(change, path)]
                if new_folders:
                    self._watch_new_folders(new_folders)
            if changed:
                self._queue.put_nowait(changed)

    def _accept(self, change: watchfiles.Change, path: str) -> bool:
        if os.path.basename(path) == PROBE_NAME:
            self._probe_seen.set()
            return False
        return not self.rules.ignored(path)

    async def _probe(self) -> None:
        """Write a file and expect its event; silence means a filesystem without events."""
        await asyncio.sleep(0.2)  # let the watcher start
        probe = self.rules.root / PROBE_NAME
        self._probe_seen.clear()
        try:
            probe.write_text("testwatch checks that file events arrive\n")
            probe.unlink()
        except OSError:
            await asyncio.Event().wait()  # read-only folder: nothing to learn, keep watching
        try:
            await asyncio.wait_for(self._probe_seen.wait(), timeout=PROBE_TIMEOUT_S)
        except TimeoutError:
            raise _NoEvents() from None
        await asyncio.Event().wait()

    async def _sweep(self, folders: list[str]) -> None:
        """Files written into a new folder before its watch started count as changes."""
        await asyncio.sleep(0.3)
        found = {str(path) for folder in folders for path in self.rules.walk(Path(folder))}
        if found:
            self._queue.put_nowait(found)

    async def _rescan(self) -> None:
        while True:
            await asyncio.sleep(self.rescan_s)
            current = await asyncio.to_thread(snapshot, self.rules)
            changed = {
                str(self.rules.root / rel)
                for rel in set(current) | set(self._known)
                if current.get(rel) != self._known.get(rel)
            }
            self._known = current
            if changed:
                self._queue.put_nowait(changed)


class _NoEvents(Exception):
    pass


def _is_new_folder(change: watchfiles.Change, path: str) -> bool:
    """A folder made at the top; never a link to one (``ln -s . loop`` would be followed forever)."""
    return change == watchfiles.Change.added and os.path.isdir(path) and not os.path.islink(path)


def _explain(failure: BaseException, root: Path) -> str:
    if isinstance(failure, _NoEvents):
        return (
            f"no file events arrive from {root} (a network or container filesystem?); "
            f"polling every {POLL_DELAY_MS} ms instead"
        )
    text = str(failure)
    if "limit" in text.lower() or getattr(failure, "errno", None) == 28:
        return (
            f"the OS file watch limit is reached ({text}); polling every {POLL_DELAY_MS} ms "
            "instead (raise fs.inotify.max_user_watches to get events back)"
        )
    return f"cannot watch {root} for events ({text}); polling every {POLL_DELAY_MS} ms instead"
