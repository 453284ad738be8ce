"""Scenarios 1, 2, 8 and 15 against the real ``testwatch watch --headless`` and real file events:
editor saves, bursts of saves during a run, tests that write into the watched tree, and an OS
that refuses to watch."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
import watchfiles

from testwatch.collectors.in_testwatch import file_watcher
from testwatch.collectors.in_testwatch.file_watcher import FileWatcher
from testwatch.collectors.in_testwatch.project_files import IgnoreRules

SOURCE = {
    "src/shop.py": "VALUE = 1\n",
    "tests/test_shop.py": """
        import os
        import sys
        import time

        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
        import shop

        def test_value():
            time.sleep(float(os.environ.get("SLOW_S", "0")))
            print("value", shop.VALUE)
            assert shop.VALUE > 0
    """,
    "tests/test_other.py": "def test_other():\n    pass\n",
}


@pytest.fixture
def watch(headless_watch):
    """``watch(root, **env)``: a headless watch session on ``root``."""
    return lambda root, **env: headless_watch(root, env=env)


def _atomic_save(path: Path, text: str) -> None:
    """What vim, PyCharm and VS Code do: write a temp file, then rename it over the original."""
    temp = path.with_name(f".{path.name}.swp~")
    temp.write_text(text)
    os.replace(temp, path)


def test_atomic_save_and_delete_create_each_rerun_once(make_project, watch, outcomes):
    root = make_project(SOURCE)
    session = watch(root)
    session.wait_until_done(1)

    _atomic_save(root / "src/shop.py", "VALUE = 2\n")
    session.wait_until_done(2)
    (root / "src/shop.py").unlink()  # delete + create, as some editors and git do
    (root / "src/shop.py").write_text("VALUE = 3\n")
    session.wait_until_done(3)
    # A marker edit: had either save caused a second run, it would sit before this one.
    (root / "tests/test_other.py").write_text("def test_other():\n    assert True\n")
    runs = session.wait_until_done(4)

    assert [(trigger, status) for _, trigger, status in runs] == [
        ("affected", "finished"), ("change", "finished"), ("change", "finished"), ("change", "finished"),
    ]
    assert outcomes(session.db, runs[1][0]) == {"tests/test_shop.py::test_value": "passed"}
    assert outcomes(session.db, runs[2][0]) == {"tests/test_shop.py::test_value": "passed"}
    assert "Traceback" not in session.output()


def test_five_saves_during_a_run_test_the_final_state_once(make_project, watch, wait_for, query):
    root = make_project(SOURCE)
    session = watch(root, SLOW_S="1.5")
    session.wait_until_done(1)

    (root / "src/shop.py").write_text("VALUE = 10\n")
    wait_for(lambda: "tests/test_shop.py::test_value" in session.output().split("run 2 ")[-1]
             or len(session.runs()) >= 2, what="the second run to start")
    for value in range(11, 16):  # five saves in about one second, while the run goes
        (root / "src/shop.py").write_text(f"VALUE = {value}\n")
        time.sleep(0.2)
    wait_for(lambda: session.runs() and session.runs()[-1][2] == "finished"
             and len(session.runs()) >= 3 and session.output().rstrip().endswith("waiting for changes"),
             what=lambda: f"the final run; output:\n{session.output()}")

    runs = session.runs()
    final_id = runs[-1][0]
    stdout = query(session.db, "select stdout from results where run_id = ? and nodeid like '%test_value'",
                   (final_id,))
    assert stdout == [("value 15\n",)]  # the final state was tested
    assert all(status in ("finished", "cancelled") for _, _, status in runs)
    assert any(status == "cancelled" for _, _, status in runs[1:-1])  # the stale run was stopped
    duplicates = query(session.db, "select run_id, nodeid from results group by run_id, nodeid "
                                   "having count(*) > 1")
    assert duplicates == []


WRITER_TESTS = {
    **SOURCE,
    "tests/test_writer.py": """
        from pathlib import Path

        def test_writes_into_the_history_folder():
            (Path(__file__).parent.parent / ".testwatch" / "scratch.txt").write_text("x")
    """,
}


def test_a_test_writing_into_the_history_folder_causes_no_rerun(make_project, watch):
    root = make_project(WRITER_TESTS)
    session = watch(root)
    session.wait_until_done(1)
    (root / "tests/test_other.py").write_text("def test_other():\n    assert True\n")  # marker edit
    runs = session.wait_until_done(2)
    assert [(trigger, status) for _, trigger, status in runs] == [
        ("affected", "finished"), ("change", "finished"),
    ]


def test_a_test_writing_into_the_watched_tree_causes_no_endless_loop(make_project, watch):
    root = make_project({**SOURCE, "tests/test_writer.py": """
        from pathlib import Path

        def test_writes_a_file_next_to_itself():
            Path(__file__).with_name("generated.txt").write_text("x")
    """})
    session = watch(root)
    for count in (1, 2):
        if count == 2:
            (root / "tests/test_other.py").write_text("def test_other():\n    assert True\n")  # marker
        # Either a run is cancelled by the test's own write (the loop) or the loop goes idle.
        session.wait_for(
            lambda count=count: session.idle(count)
            or any(status == "cancelled" for _, _, status in session.runs()),
            what=lambda count=count: f"run {count} to end; output:\n{session.output()}",
        )
        assert [status for _, _, status in session.runs()] == ["finished"] * count


async def test_watch_limit_reached_falls_back_to_polling(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("A = 1\n")
    real_awatch = watchfiles.awatch

    def awatch(*paths, force_polling=False, **options):
        # What inotify answers at fs.inotify.max_user_watches (a global setting we must not lower
        # on a shared machine): ENOSPC from inotify_add_watch.
        if not force_polling:
            raise OSError(28, "OS file watch limit reached")
        return real_awatch(*paths, force_polling=True, **options)

    monkeypatch.setattr(file_watcher.watchfiles, "awatch", awatch)
    statuses: list[tuple[str, str]] = []
    watcher = FileWatcher(IgnoreRules(root, [], root / ".testwatch"), rescan_s=0,
                          on_status=lambda message, severity: statuses.append((message, severity)))
    changes = watcher.changes()
    first = asyncio.ensure_future(anext(changes))
    deadline = time.monotonic() + 60
    while not statuses and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    version = 2
    while not first.done() and time.monotonic() < deadline:  # until the polling watcher sees one
        (root / "src" / "app.py").write_text(f"A = {version}\n")
        version += 1
        await asyncio.wait([first], timeout=0.5)
    paths = await asyncio.wait_for(first, timeout=1)
    await changes.aclose()
    assert paths == [str(root / "src" / "app.py")] or paths == ["src/app.py"]
    [(message, severity)] = statuses
    assert severity == "warning"
    assert "the OS file watch limit is reached" in message and "polling" in message
    assert "max_user_watches" in message
