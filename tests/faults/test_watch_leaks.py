"""Issue 14, items 10 and 9: what a long watch session must not accumulate (watchers of top-level
folders that came and went, a symlink loop followed, the output pipe of a process that escaped the
run, memray's folders of cancelled runs, the work folders a killed testwatch left behind) and
what it must survive (its history folder deleted under it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

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
