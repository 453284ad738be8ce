"""The real watcher on real temp folders: atomic saves, bursts, ignored folders, polling."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from testwatch.collectors.in_testwatch.file_watcher import FileWatcher
from testwatch.collectors.in_testwatch.project_files import IgnoreRules

DEADLINE_S = 60


async def _batches(watcher: FileWatcher, action, count: int = 1) -> list[list[str]]:
    """Start the watcher, run ``action`` once it listens, and return the first ``count`` batches."""
    batches: list[list[str]] = []
    changes = watcher.changes()

    async def collect():
        async for paths in changes:
            batches.append(paths)
            if len(batches) == count:
                return

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.5)  # the OS watch is set up while the generator starts
    await asyncio.to_thread(action)
    await asyncio.wait_for(task, DEADLINE_S)
    await changes.aclose()
    return batches


@pytest.fixture
def project(tmp_path) -> Path:
    for folder in ("pkg", ".venv/lib", "node_modules/x", ".git", "build", ".testwatch", "logs"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "pkg/mod.py").write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text("logs/\n*.generated\n")
    return tmp_path


def _watcher(root: Path, **options) -> FileWatcher:
    rules = IgnoreRules(root, ["*.skipme"], history_path=root / "data/history.db")
    return FileWatcher(rules, debounce_s=0.1, rescan_s=0, **options)


async def test_atomic_save_is_one_batch(project):
    def atomic_save():
        temp = project / "pkg/.mod.py.swp-123"
        temp.write_text("x = 2\n")
        os.replace(temp, project / "pkg/mod.py")

    [batch] = await _batches(_watcher(project), atomic_save)
    assert batch == ["pkg/mod.py"]


async def test_a_burst_of_files_is_coalesced(project):
    def burst():
        for i in range(300):
            (project / f"pkg/gen_{i}.py").write_text(f"v = {i}\n")

    [batch] = await _batches(_watcher(project), burst)
    assert len(batch) == 300


async def test_ignored_folders_never_show_up(project):
    def writes():
        for relative in (".venv/lib/site.py", "node_modules/x/i.js", ".git/index", "build/out.py",
                         ".testwatch/history.db", "data/history.db", "data/history.db-wal",
                         "logs/today.txt", "pkg/a.generated",
                         "pkg/b.skipme", "pkg/__pycache__/m.pyc"):
            path = project / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("noise")
        (project / "pkg/real.py").write_text("y = 1\n")  # the sentinel that ends the wait

    [batch] = await _batches(_watcher(project), writes)
    assert batch == ["pkg/real.py"]


async def test_new_top_level_folder_is_watched(project):
    def create_then_edit():
        (project / "newpkg").mkdir()
        (project / "newpkg/m.py").write_text("z = 1\n")

    batches = await _batches(_watcher(project), create_then_edit)
    assert batches == [["newpkg/m.py"]]


async def test_forced_polling_sees_changes(project):
    watcher = _watcher(project, poll=True)
    changes = watcher.changes()
    first = asyncio.ensure_future(changes.__anext__())
    n = 0
    while not first.done() and n < DEADLINE_S:  # the poller's first scan may take a while
        n += 1
        (project / "pkg/mod.py").write_text(f"x = {n}\n")
        await asyncio.wait([first], timeout=1.0)
    assert first.result() == ["pkg/mod.py"]
    await changes.aclose()


async def test_rescan_catches_what_events_missed(project):
    rules = IgnoreRules(project)
    watcher = FileWatcher(rules, debounce_s=0.1, rescan_s=0.3)
    changes = watcher.changes()
    first = asyncio.ensure_future(changes.__anext__())
    while not watcher._known:  # the start snapshot is taken
        await asyncio.sleep(0.05)
    watcher._known["pkg/mod.py"] = (0, 0)  # as if an event about pkg/mod.py had been dropped
    assert await asyncio.wait_for(first, DEADLINE_S) == ["pkg/mod.py"]
    await changes.aclose()
