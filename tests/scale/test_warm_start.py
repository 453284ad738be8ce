"""Warm start on real projects: a forked pytest gives the same results as a cold one, a changed
dependency file or an unsafe import sends a run back to a cold start, and killing a run or
testwatch itself leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import RunFinished
from testwatch.run.engine import RunRequest
from testwatch.run.watch_loop import WatchLoop

# Each run appends the pid of the process that started pytest: the warm process when forked,
# the engine (this test process) when pytest started cold.
SUITE = {
    "pyproject.toml": """
        [project]
        name = "shop"
        version = "0"
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        def total(prices):
            return sum(prices)
    """,
    "tests/test_prices.py": """
        import gc
        import os
        import pathlib
        import weakref

        import psutil
        import pytest

        from shop.prices import total


        def test_record_parent():
            log = pathlib.Path(__file__).parent.parent / "parents.txt"
            with log.open("a") as f:
                f.write(f"{os.getppid()}\\n")


        def test_record_frozen_objects():
            log = pathlib.Path(__file__).parent.parent / "frozen.txt"
            log.write_text(str(gc.get_freeze_count()))


        def test_own_cycles_are_collected():
            class Node:
                pass

            node = Node()
            node.itself = node
            ref = weakref.ref(node)
            del node
            gc.collect()
            assert ref() is None


        def test_total():
            print("computing")
            assert total([1, 2]) == 3


        def test_wrong():
            assert total([1, 2]) == 4


        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass


        @pytest.mark.xfail(reason="known")
        def test_known_bug():
            assert psutil.Process().pid == -1


        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_many(n):
            assert total([n]) == n
    """,
}


def last_parent(root) -> int:
    return int((root / "parents.txt").read_text().split()[-1])


def details(probe, run_id) -> list[tuple]:
    rows = probe.history.results(run_id)
    return sorted((r["nodeid"], r["outcome"], r["stdout"], r["longrepr"] != "") for r in rows)


async def test_warm_results_equal_cold_results(make_project, probe):
    root = make_project(SUITE)
    cold, warm = probe(root, warm=False), probe(root, warm=True)

    cold_run = await cold.engine.run(RunRequest())
    assert last_parent(root) == os.getpid()
    cold_frozen = int((root / "frozen.txt").read_text())
    assert cold_frozen < 1_000  # the interpreter's own: 0 on 3.11 and 3.13, 375 on 3.12.1
    await warm.engine.run(RunRequest())  # starts the warm process, then forks from it
    warm_run = await warm.engine.run(RunRequest())

    server = warm.engine.warm.server
    assert last_parent(root) == server.process.pid
    # what the warm process imported is frozen: the fork's collections skip it
    assert int((root / "frozen.txt").read_text()) > cold_frozen + 10_000
    assert "psutil" in server.report["imported"]
    assert not any(name.startswith("shop") for name in server.report["imported"])
    assert warm.results == cold.results
    assert warm.results["tests/test_prices.py::test_wrong"] == "failed"
    assert details(warm, warm_run.run_id) == details(cold, cold_run.run_id)
    assert (warm_run.counts, warm_run.exit_status) == (cold_run.counts, cold_run.exit_status)


async def test_selected_tests_run_forked(make_project, probe):
    root = make_project(SUITE)
    warm = probe(root)
    await warm.engine.run(RunRequest())
    selected = ["tests/test_prices.py::test_many[2]", "tests/test_prices.py::test_record_parent"]
    finished = await warm.engine.run(RunRequest(select=selected))
    assert finished.counts["passed"] == 2
    assert last_parent(root) == warm.engine.warm.server.process.pid


async def test_changed_dependency_file_runs_cold_then_warm_again(make_project, probe):
    root = make_project({**SUITE, "requirements.txt": "psutil\n"})
    warm = probe(root)
    await warm.engine.run(RunRequest())
    first_server = warm.engine.warm.server.process.pid
    assert last_parent(root) == first_server

    (root / "requirements.txt").write_text("psutil\nrich\n")
    finished = await warm.engine.run(RunRequest())
    assert finished.counts["failed"] == 1
    assert last_parent(root) == os.getpid()
    assert any("requirements.txt changed" in notice for notice in warm.notices)

    await warm.engine.run(RunRequest())
    assert last_parent(root) == warm.engine.warm.server.process.pid != first_server


async def test_installed_package_runs_cold_then_warm_again(make_project, probe, tmp_path, monkeypatch):
    site = tmp_path / "extra" / "site-packages"
    site.mkdir(parents=True)
    (site / "calm_lib.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    calm = "import calm_lib\n\ndef test_calm():\n    assert calm_lib.VALUE == 1\n"
    root = make_project({**SUITE, "tests/test_calm.py": calm})
    warm = probe(root)
    await warm.engine.run(RunRequest())
    first_server = warm.engine.warm.server.process.pid
    assert "calm_lib" in warm.engine.warm.server.report["imported"]
    assert last_parent(root) == first_server

    (site / "other_lib-1.0.dist-info").mkdir()  # what pip install leaves beside the imported ones
    await warm.engine.run(RunRequest())
    assert last_parent(root) == os.getpid()
    assert any(f"{site} changed" in notice for notice in warm.notices)
    await warm.engine.run(RunRequest())
    assert last_parent(root) == warm.engine.warm.server.process.pid != first_server


async def test_conftest_edit_is_seen_by_the_next_fork(make_project, probe):
    conftest = "import pytest\n\n@pytest.fixture\ndef rate():\n    return 2\n"
    root = make_project(
        {
            **SUITE,
            "tests/conftest.py": conftest,
            "tests/test_rate.py": "def test_rate(rate):\n    assert rate == 2\n",
        }
    )
    warm = probe(root)
    await warm.engine.run(RunRequest())
    assert warm.results["tests/test_rate.py::test_rate"] == "passed"
    (root / "tests/conftest.py").write_text(conftest.replace("return 2", "return 3"))
    await warm.engine.run(RunRequest())
    assert warm.results["tests/test_rate.py::test_rate"] == "failed"
    assert last_parent(root) == warm.engine.warm.server.process.pid


async def test_watch_mode_forks_unless_configured_off(make_project, wait_until):
    root = make_project(SUITE)
    config = load_config(root)
    assert config.warm is None
    history = open_history(config.history_path)
    events: list[object] = []
    loop = WatchLoop(config, history, events.append)
    task = asyncio.create_task(loop.run())
    try:
        await wait_until(lambda: any(isinstance(e, RunFinished) for e in events), "the first run")
        assert last_parent(root) == loop.engine.warm.server.process.pid
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        history.close()
    pyproject = textwrap.dedent(SUITE["pyproject.toml"]) + "\n[tool.testwatch]\nwarm = false\n"
    off = make_project({**SUITE, "pyproject.toml": pyproject}, name="off")
    config = load_config(off)
    history = open_history(config.history_path)
    try:
        assert WatchLoop(config, history, events.append).engine.warm is None
    finally:
        history.close()


async def test_one_recorded_run_starts_cold(make_project):
    root = make_project(SUITE)
    config = load_config(root)
    history = open_history(config.history_path)
    loop = WatchLoop(config, history, lambda event: None, watching=False)
    try:
        assert loop.engine.warm is None
        await loop.run_once("all")
        assert last_parent(root) == os.getpid()
    finally:
        history.close()


async def test_import_that_starts_a_thread_keeps_runs_cold(make_project, probe, tmp_path, monkeypatch):
    site = tmp_path / "extra" / "site-packages"
    site.mkdir(parents=True)
    (site / "busy_lib.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), name='busy-lib', daemon=True).start()\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    root = make_project({**SUITE, "tests/test_busy.py": "import busy_lib\n\ndef test_ok():\n    pass\n"})
    warm = probe(root)
    await warm.engine.run(RunRequest())
    await warm.engine.run(RunRequest())
    assert last_parent(root) == os.getpid()
    assert warm.results["tests/test_busy.py::test_ok"] == "passed"
    assert [n for n in warm.notices if "busy-lib" in n and "warm start is off" in n]
    assert warm.engine.warm.server is None


async def test_cancelled_run_leaves_no_orphans(make_project, probe, wait_until, processes_in):
    hang = """
        import pathlib
        import subprocess
        import time


        def test_hang():
            sleeper = subprocess.Popen(["sleep", "600"])
            pathlib.Path(__file__).parent.parent.joinpath("pids.txt").write_text(f"{sleeper.pid}")
            time.sleep(600)
    """
    root = make_project({**SUITE, "tests/test_hang.py": hang})
    warm = probe(root)
    await warm.engine.run(RunRequest(select=["tests/test_prices.py::test_total"]))
    server_pid = warm.engine.warm.server.process.pid

    task = asyncio.create_task(warm.engine.run(RunRequest(select=["tests/test_hang.py::test_hang"])))
    pids = root / "pids.txt"
    # the file exists before the pid is written in it
    await wait_until(lambda: pids.exists() and pids.read_text().strip(), "the hanging test to start")
    sleeper = int(pids.read_text())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await wait_until(lambda: [p.pid for p in processes_in(root)] == [server_pid], "the run's processes to go")
    assert not _alive(sleeper)

    warm.engine.close()
    await wait_until(lambda: not processes_in(root), "the warm process to go")


async def test_a_run_cancelled_as_testwatch_closes_leaves_no_wait_behind(make_project, probe, wait_until):
    """A wait for the fork's exit left pending on the warm process's socket would end with EBADF
    once the socket closed and its number was reused: "Task exception was never retrieved"."""
    hang = "import time\n\n\ndef test_hang():\n    time.sleep(600)\n"
    root = make_project({**SUITE, "tests/test_hang.py": hang})
    warm = probe(root)
    await warm.engine.run(RunRequest(select=["tests/test_prices.py::test_total"]))
    task = asyncio.create_task(warm.engine.run(RunRequest(select=["tests/test_hang.py::test_hang"])))
    await wait_until(lambda: warm.engine.warm.forks_running, "the hanging test's fork")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    warm.engine.close()  # at once, as the app does when it quits during a run
    await wait_until(lambda: asyncio.all_tasks() == {asyncio.current_task()}, "the run's waits to end", 10)


def test_kill_9_of_testwatch_leaves_no_orphans(make_project, tmp_path, processes_in):
    slow = "import time\n\ndef test_slow():\n    time.sleep(600)\n"
    root = make_project({**SUITE, "tests/test_slow.py": slow})
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    testwatch = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "run", "--warm", str(root)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_sync(lambda: (root / "parents.txt").exists() and len(processes_in(root)) >= 2,
                   "the warm process and its forked pytest")
        testwatch.send_signal(signal.SIGKILL)
        testwatch.wait(timeout=30)
    finally:
        if testwatch.poll() is None:
            testwatch.kill()
    _wait_sync(lambda: not processes_in(root), "the warm process and pytest to exit")


def test_cli_warm_flag_gives_pytest_exit_status(make_project, cli):
    root = make_project(SUITE)
    done = cli("run", "--warm", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL" in done.stdout and "tests/test_prices.py::test_wrong" in done.stdout
    assert "7 passed, 1 failed, 1 skipped, 1 xfailed" in done.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_sync(condition, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
