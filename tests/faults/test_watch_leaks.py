"""Issue 14, items 10 and 9: what a long watch session must not accumulate (watchers of top-level
folders that came and went, a symlink loop followed, the output pipe of a process that escaped the
run, memray's folders of cancelled runs, the work folders a killed testwatch left behind) and
what it must survive (its history folder deleted under it)."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.select.selection import FolderListings

FOLDER_MAKING_SUITE = """
import shutil
import time
from pathlib import Path

from src import value


def test_makes_and_removes_a_top_level_folder():
    folder = Path(__file__).parent.parent / f"scratch_{value.N}"
    folder.mkdir()
    (folder / "data.txt").write_text("x")
    time.sleep(0.6)  # long enough for the watcher to see it on its own
    shutil.rmtree(folder)
"""


@pytest.fixture
def watcher(headless_watch):
    """``watcher(root, args=(), env=None)``: a headless watch session on ``root``."""
    return headless_watch


# Reads what ``_edit`` changes, so every edit reruns it.
VALUE_TEST = "from src import value\n\ndef test_value():\n    assert value.N >= 0\n"


def _edit(root: Path, number: int) -> None:
    (root / "src" / "value.py").write_text(f"N = {number}\n")


def test_top_level_folders_that_come_and_go_leave_no_watchers(make_project, watcher, wait_for):
    root = make_project({"src/__init__.py": "", "src/value.py": "N = 0\n",
                         "tests/__init__.py": "", "tests/test_folders.py": FOLDER_MAKING_SUITE})
    watch = watcher(root)
    watch.wait_idle(1)
    _edit(root, 1)
    watch.wait_idle(2)
    inotify = lambda: watch.descriptors().count("anon_inode:inotify")  # noqa: E731
    baseline = (inotify(), watch.threads(), len(watch.descriptors()))
    for number in range(2, 8):
        _edit(root, number)
        watch.wait_idle(number + 1)
    wait_for(lambda: (inotify(), watch.threads(), len(watch.descriptors())) <= baseline,
             what=lambda: f"inotify instances, threads and fds back to {baseline}, not "
                          f"{(inotify(), watch.threads(), len(watch.descriptors()))}")


def test_a_symlink_loop_at_the_top_is_not_followed(make_project, watcher, wait_for):
    root = make_project({"src/__init__.py": "", "src/value.py": "N = 0\n",
                         "tests/test_value.py": VALUE_TEST})
    watch = watcher(root)
    watch.wait_idle(1)
    baseline = watch.inotify_watches()
    (root / "loop").symlink_to(root, target_is_directory=True)
    _edit(root, 1)
    watch.wait_idle(2)
    _edit(root, 2)  # by now the link's own event has been handled
    watch.wait_idle(3)
    assert watch.inotify_watches() <= baseline + 1
    assert "loop/" not in watch.output()


ESCAPING_SUITE = """
import subprocess
import sys
from pathlib import Path

from src import value


def test_leaves_a_process_holding_stdout():
    # A clean environment and a session of its own: nothing marks it as the run's.
    escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                               start_new_session=True, env={{}})
    with open({pids!r}, "a") as pids:
        pids.write(f"{{escaped.pid}}\\n")
    assert value.N >= 0  # an edit of value.py reruns it
"""


def test_a_process_holding_the_output_pipe_does_not_leak_it(make_project, watcher, tmp_path):
    pids = tmp_path / "escaped.pids"
    root = make_project({"src/__init__.py": "", "src/value.py": "N = 0\n",
                         "tests/test_escape.py": ESCAPING_SUITE.format(pids=str(pids))})
    watch = watcher(root, ["--", "-s"])
    try:
        watch.wait_idle(1)
        pipes = lambda: sum(target.startswith("pipe:") for target in watch.descriptors())  # noqa: E731
        baseline = pipes()
        for number in range(1, 5):
            _edit(root, number)
            watch.wait_idle(number + 1)
        assert pipes() <= baseline
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


SLOW_SUITE = """
import time

from src import value


def test_slow():
    time.sleep(3)
    assert value.N >= 0  # an edit of value.py reruns it
"""


def test_cancelled_memray_runs_leave_nothing_in_the_temp_folder(make_project, watcher, tmp_path):
    pytest.importorskip("memray")
    temp = tmp_path / "temp"
    temp.mkdir()
    root = make_project({"src/__init__.py": "", "src/value.py": "N = 0\n",
                         "pyproject.toml": "[tool.testwatch]\nmemray = true\n",
                         "tests/test_slow.py": SLOW_SUITE})
    watch = watcher(root, env={"TMPDIR": str(temp)})
    watch.wait_for(lambda: "\nrun " in watch.output() and list(temp.rglob("testwatch-memray-*")),
                   what="the first run to start tracking with memray")
    for number in range(1, 4):
        _edit(root, number)  # cancels the run in progress
        watch.wait_for(lambda n=number: watch.output().count("(cancelled)") >= n,
                       what=lambda n=number: f"run {n} to be cancelled:\n{watch.output()[-2000:]}")
    watch.wait_idle(4)
    # While watching, only the warm process's folder stays (one, however many runs were cancelled).
    left = sorted(path.name for path in temp.iterdir())
    assert [name for name in left if not name.startswith("tw-warm-")] == [], left
    assert len(left) <= 1, left
    watch.stop()
    assert sorted(path.name for path in temp.iterdir()) == []


def _slow_run(root: Path, temp: Path, args: list[str] = ()) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}, "TMPDIR": str(temp)}
    return subprocess.Popen([sys.executable, "-m", "testwatch", "run", str(root), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_testwatch_leaves_folders_the_next_start_removes(
    make_project, cli, tmp_path, wait_for, processes_mentioning
):
    temp = tmp_path / "temp"
    temp.mkdir()
    root = make_project({"src/__init__.py": "", "src/value.py": "N = 0\n", "tests/test_slow.py": SLOW_SUITE})
    killed = _slow_run(root, temp, ["--deps"])
    wait_for(lambda: list(temp.glob("tw-*/events.sock")) and list(temp.glob("tw-deps-*")),
             what="the run's socket and dependency folders")
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    wait_for(lambda: not processes_mentioning(str(root)), what="the orphaned pytest to end")
    left = sorted(path.name for path in temp.iterdir())
    assert left, "SIGKILL gives testwatch no chance to clean up"
    # Folders that are not ours to remove: a live testwatch's, another name, a link.
    live = temp / "tw-live"
    live.mkdir()
    started = Path(f"/proc/{os.getpid()}/stat").read_bytes().rsplit(b")", 1)[1].split()[19].decode()
    (live / "owner").write_text(f"{os.getpid()} {started}")
    (temp / "other-dir").mkdir()
    (temp / "tw-link").symlink_to(temp / "other-dir")

    done = cli("run", str(root), env={"TMPDIR": str(temp)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(path.name for path in temp.iterdir()) == ["other-dir", "tw-link", "tw-live"]
    assert "removed 2 temporary folders of testwatch processes that were killed" in done.stdout


def test_a_history_deleted_while_watching_is_started_again(make_project, watcher, cli):
    root = make_project({"src/__init__.py": "", "src/value.py": "N = 0\n",
                         "tests/test_value.py": VALUE_TEST})
    watch = watcher(root)
    watch.wait_idle(1)
    shutil.rmtree(root / ".testwatch")  # rm -rf .testwatch, git clean -xfd
    _edit(root, 1)
    watch.wait_idle(2)
    shown = cli("history", str(root))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "no runs yet" not in shown.stdout
    assert "finished" in shown.stdout
    history = root / ".testwatch" / "history.db"
    assert f"the history {history} was deleted; a new one was started" in watch.output()


def test_the_selection_forgets_folders_that_are_gone(tmp_path):
    """The selection lists folders again only when their mtime changes; a top-level folder that a
    cancelled run left and the next run removed must not stay in that cache for the session."""
    listings = FolderListings(IgnoreRules(tmp_path))
    old_ns = time.time_ns() - 60 * 10**9  # older than the racy window: listings are kept
    for number in range(20):
        folder = tmp_path / f"scratch_{number}"
        folder.mkdir()
        os.utime(folder, ns=(old_ns, old_ns))
        os.utime(tmp_path, ns=(old_ns + number, old_ns + number))
        listings.files()
        shutil.rmtree(folder)
    os.utime(tmp_path, ns=(old_ns + 100, old_ns + 100))
    assert listings.files() == []
    assert list(listings._cache) == [str(tmp_path.resolve())]


GLIBC_ONLY = pytest.mark.skipif(
    not hasattr(os, "confstr") or "glibc" not in (os.confstr("CS_GNU_LIBC_VERSION") or ""),
    reason="malloc arenas and malloc_trim are glibc's",
)
ARENA_COUNT = """
import ctypes
import sys
import threading

from testwatch.run.malloc_memory import use_one_malloc_arena

if sys.argv[1] == "one":
    assert use_one_malloc_arena()
held, allocated, done = [], threading.Barrier(5), threading.Event()


def allocate():
    held.append(bytearray(100_000))  # from malloc, in this thread's arena
    allocated.wait()
    done.wait()


threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
allocated.wait()  # all four alive and holding memory
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
out = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
done.set()
"""


@GLIBC_ONLY
@pytest.mark.parametrize(("limit", "arenas"), [("many", 5), ("one", 1)])
def test_the_watch_loop_threads_share_one_malloc_arena(tmp_path, limit, arenas):
    """Issue 14's soak: each thread's own glibc arena grew to its busiest moment; with the limit
    the watch loop sets, threads allocate from the one main arena (``many`` is the control)."""
    info = tmp_path / "malloc.xml"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", ARENA_COUNT, limit, str(info)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert info.read_text().count("<heap nr=") == arenas


FRAGMENTED_HEAP = """
from testwatch.run.malloc_memory import release_free_memory, use_one_malloc_arena

use_one_malloc_arena()
blocks = [bytearray(50_000) for _ in range(2_000)]  # 100 MB from the heap, not mmap
kept = blocks[::10]  # live blocks between the freed ones: the heap's top cannot shrink
del blocks
print(release_free_memory())
"""


@GLIBC_ONLY
def test_the_memory_a_run_freed_goes_back_to_the_os(tmp_path):
    """What a run's recording allocated and freed between live objects is released, not kept
    resident for the rest of the session (issue 14's soak)."""
    done = subprocess.run([sys.executable, "-c", FRAGMENTED_HEAP], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]


def test_the_history_connection_gives_its_page_cache_back(tmp_path):
    """Issue 14's soak: between runs the watch loop's history connection kept a page cache of up to
    2 MB (SQLite's own count went 1 to 3 MB from sample to sample); it is freed after each run."""
    import _sqlite3

    from testwatch.history.store import open_history

    sqlite = ctypes.CDLL(_sqlite3.__file__)  # the SQLite this Python's sqlite3 module uses
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    history = open_history(tmp_path / "history.db")
    try:
        with history.conn:
            history.conn.execute("create table filler (data blob)")
            history.conn.executemany("insert into filler values (?)", [(bytes(1000),)] * 4000)
        assert history.conn.execute("select count(*) from filler where data is not null").fetchone()
        cached = sqlite.sqlite3_memory_used()
        history.release_memory()
        assert cached - sqlite.sqlite3_memory_used() > 1_000_000
    finally:
        history.close()
