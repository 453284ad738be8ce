"""A selected run in two pytest sessions (``testwatch.run.run_phases``) on a real project: the
first-ranked test's file runs first in a session of its own, then the other files; together they
are one run with every selected test once, and nothing else is collected."""

from __future__ import annotations

import collections

import psutil
import pytest

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import TestFinished, TestsCollected
from testwatch.run import run_phases
from testwatch.run.engine import RunRequest
from testwatch.run.watch_loop import WatchLoop

# Each test file notes its collection and each test its run, with the pid of the pytest process.
NOTE = """
import os
import pathlib

from shop.prices import total


def note(what):
    with (pathlib.Path(__file__).parent.parent / "log.txt").open("a") as f:
        f.write(f"{what} {os.getpid()}\\n")


note("collect " + __name__.rpartition(".")[2])
"""


def suite_file(*names: str, failing: str = "") -> str:
    tests = "".join(
        f"\n\ndef {name}():\n    note('run {name}')\n"
        f"    assert total([1, 2]) == {4 if name == failing else 3}\n"
        for name in names
    )
    return NOTE + tests


SUITE = {
    "pyproject.toml": '[project]\nname = "shop"\nversion = "0"\n',
    "shop/__init__.py": "",
    "shop/prices.py": "def total(prices):\n    return sum(prices)\n",
    "tests/test_a.py": suite_file("test_a1", "test_a2", "test_a_fails", failing="test_a_fails"),
    "tests/test_b.py": suite_file("test_b1", "test_b2"),
    "tests/test_c.py": suite_file("test_c1"),
    "tests/test_unselected.py": suite_file("test_u1"),
}
SELECTED = [
    "tests/test_a.py::test_a_fails",  # ranked first: its file is the first session
    "tests/test_b.py::test_b2",
    "tests/test_a.py::test_a1",
    "tests/test_c.py::test_c1",
    "tests/test_b.py::test_b1",
]


@pytest.fixture(autouse=True)
def split_small_runs(monkeypatch):
    """These suites are small: split them as a big one would be."""
    monkeypatch.setattr(run_phases, "MIN_REST_TESTS", 1)
    monkeypatch.setattr(run_phases, "FIRST_RANKS", 1)


def log_lines(root) -> list[tuple[str, str, int]]:
    """(what, name, pid) per line of the project's log."""
    return [
        (what, name, int(pid))
        for what, name, pid in (line.split() for line in (root / "log.txt").read_text().splitlines())
    ]


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
async def test_first_file_runs_first_and_the_union_is_one_run(make_project, probe, warm):
    root = make_project(SUITE)
    engine_probe = probe(root, warm=warm)
    collected: list[dict] = []
    finished_ids: list[str] = []
    engine_probe.engine.events.add(
        lambda event: collected.append(event.markers) if isinstance(event, TestsCollected) else None
    )
    engine_probe.engine.events.add(
        lambda event: finished_ids.append(event.result.nodeid) if isinstance(event, TestFinished) else None
    )
    runs_before = len(list(engine_probe.history.rows("select id from runs")))

    # A folder among the user's arguments must not bring its other files to collection.
    finished = await engine_probe.engine.run(RunRequest(select=SELECTED, pytest_args=["tests"]))

    lines = log_lines(root)
    ran = [(name, pid) for what, name, pid in lines if what == "run"]
    first_pid = dict(ran)["test_a_fails"]
    assert [name for name, _ in ran] == ["test_a_fails", "test_a1", "test_b2", "test_c1", "test_b1"]
    assert {pid for name, pid in ran if name.startswith("test_a")} == {first_pid}
    assert {pid for name, pid in ran if not name.startswith("test_a")} - {first_pid} != set()
    assert first_pid not in {pid for name, pid in ran if not name.startswith("test_a")}
    collections = collections_of(lines)
    assert collections == {"test_a": 1, "test_b": 1, "test_c": 1}  # each file once, no other file

    assert sorted(finished_ids) == sorted(SELECTED)  # every selected test once, nothing else
    assert [set(markers) for markers in collected] == [
        {"tests/test_a.py::test_a_fails", "tests/test_a.py::test_a1"},
        {"tests/test_b.py::test_b2", "tests/test_c.py::test_c1", "tests/test_b.py::test_b1"},
    ]
    runs = list(engine_probe.history.rows("select id, exit_status, failed, passed from runs order by id"))
    assert len(runs) == runs_before + 1
    assert (runs[-1]["exit_status"], runs[-1]["failed"], runs[-1]["passed"]) == (1, 1, 4)
    assert (finished.exit_status, finished.counts["failed"], finished.counts["passed"]) == (1, 1, 4)
    outcomes = {row["nodeid"]: row["outcome"] for row in engine_probe.history.results(finished.run_id)}
    assert outcomes == {nodeid: "failed" if "fails" in nodeid else "passed" for nodeid in SELECTED}


def collections_of(lines) -> dict[str, int]:
    return dict(collections.Counter(name for what, name, _ in lines if what == "collect"))


async def test_exitfirst_keeps_one_session(make_project, probe):
    root = make_project(SUITE)
    engine_probe = probe(root, warm=False)
    finished = await engine_probe.engine.run(RunRequest(select=SELECTED, pytest_args=["-x"]))
    ran = [name for what, name, _ in log_lines(root) if what == "run"]
    assert ran == ["test_a_fails"]  # one session stopped at the first failure, as pytest -x does
    assert finished.exit_status == 1


async def test_exitfirst_in_the_projects_addopts_keeps_one_session(make_project, probe):
    root = make_project({
        **SUITE,
        "pyproject.toml": SUITE["pyproject.toml"] + '\n[tool.pytest.ini_options]\naddopts = "-q -x"\n',
    })
    engine_probe = probe(root, warm=False)
    finished = await engine_probe.engine.run(RunRequest(select=SELECTED))
    ran = [name for what, name, _ in log_lines(root) if what == "run"]
    assert ran == ["test_a_fails"]  # no second session after the failure that -x stopped at
    assert finished.exit_status == 1


async def test_recorded_run_in_two_sessions_records_both(make_project):
    """Through the watch loop, warm and recording dependencies: an edit affecting a test in
    another file than the last failure runs the two in two sessions, collects no other file, and
    stores both sessions' dependencies under the one run."""
    uses_other = "\nfrom shop.other import double\n\n\ndef test_c2():\n    assert double(2) == 4\n"
    root = make_project(
        {
            **SUITE,
            "shop/other.py": "def double(x):\n    return 2 * x\n",
            "tests/test_c.py": SUITE["tests/test_c.py"] + uses_other,
        }
    )
    config = load_config(root, {"warm": True})
    history = open_history(config.history_path)
    loop = WatchLoop(config, history, lambda event: None, watching=False)
    try:
        assert (await loop.run_once("all")).exit_status == 1
        assert loop.engine.warm is not None
        (root / "log.txt").unlink()
        (root / "shop/other.py").write_text("def double(x):\n    return x + x\n")
        # test_a_fails's own body changes too: a recording rewrites only the rows that differ,
        # so each test's rows carry this run's id only when its dependencies changed.
        test_a = root / "tests/test_a.py"
        test_a.write_text(test_a.read_text().replace("total([1, 2]) == 4", "total([2, 1]) == 4"))
        finished = await loop.run_once("affected")
        lines = log_lines(root)
        assert [name for what, name, _ in lines if what == "run"] == ["test_a_fails"]
        assert collections_of(lines) == {"test_a": 1, "test_c": 1}
        assert len({pid for _, _, pid in lines}) == 2
        outcomes = {row["nodeid"]: row["outcome"] for row in history.results(finished.run_id)}
        assert outcomes == {"tests/test_a.py::test_a_fails": "failed", "tests/test_c.py::test_c2": "passed"}
        recorded = history.rows("select distinct nodeid from test_deps where run_id = ?", [finished.run_id])
        recorded_ids = {row["nodeid"] for row in recorded}
        assert {"tests/test_a.py::test_a_fails", "tests/test_c.py::test_c2"} <= recorded_ids
    finally:
        history.close()


# The first session's test waits until the next session's pytest has collected its file: it
# passes only if that pytest started while this one ran its tests.
WAITS_FOR_NEXT = """

def test_a_waits():
    import time

    log = pathlib.Path(__file__).parent.parent / "log.txt"
    deadline = time.monotonic() + 60
    while "collect test_b" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "collect test_b" in log.read_text()
    note("{end} test_a_waits")
"""


def overlap_suite(end: str) -> dict[str, str]:
    """A suite whose first session waits for the next one's collection, then ``end``s: ``ran``
    notes it, ``exit`` stops pytest's session as ``pytest.exit`` does."""
    first = NOTE + WAITS_FOR_NEXT.format(end="done" if end == "ran" else "stopping")
    if end == "exit":
        first = first.replace(
            '    note("stopping test_a_waits")',
            '    note("stopping test_a_waits")\n    import pytest\n    pytest.exit("stopped by the test")',
        )
    return {**SUITE, "tests/test_a.py": first}


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
async def test_next_session_starts_while_the_first_runs_and_waits_for_it(make_project, probe, warm):
    root = make_project(overlap_suite("ran"))
    engine_probe = probe(root, warm=warm)
    select = ["tests/test_a.py::test_a_waits", "tests/test_b.py::test_b1", "tests/test_c.py::test_c1"]

    finished = await engine_probe.engine.run(RunRequest(select=select))

    lines = log_lines(root)
    first_pid = next(pid for what, name, pid in lines if name == "test_a")
    next_pid = next(pid for what, name, pid in lines if name == "test_b")
    assert first_pid != next_pid
    order = [(what, name) for what, name, _ in lines]
    # Collected while the first session's test ran; its tests ran only after that test ended.
    assert order.index(("collect", "test_b")) < order.index(("done", "test_a_waits"))
    assert order.index(("done", "test_a_waits")) < order.index(("run", "test_b1"))
    assert [(what, name, pid) for what, name, pid in lines if what == "run"] == [
        ("run", "test_b1", next_pid),
        ("run", "test_c1", next_pid),
    ]
    assert engine_probe.results == {nodeid: "passed" for nodeid in select}
    assert (finished.exit_status, finished.counts["passed"]) == (0, 3)


async def test_next_session_is_ended_when_the_first_stops_the_run(make_project, probe, wait_until):
    root = make_project(overlap_suite("exit"))
    engine_probe = probe(root, warm=True)
    select = ["tests/test_a.py::test_a_waits", "tests/test_b.py::test_b1"]

    finished = await engine_probe.engine.run(RunRequest(select=select))

    lines = log_lines(root)
    assert ("stopping", "test_a_waits") in [(what, name) for what, name, _ in lines]
    assert [name for what, name, _ in lines if what == "run"] == []  # the held session never ran
    next_pid = next(pid for what, name, pid in lines if name == "test_b")
    await wait_until(lambda: not _alive(next_pid), "the held pytest to end")
    assert finished.exit_status == 2
    assert "tests/test_b.py::test_b1" not in engine_probe.results


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_dependency_file_changed_while_a_fork_runs_starts_the_next_cold(make_project, probe):
    """Replacing the warm process while the first session's fork runs would lose that fork's
    exit: the next session starts cold instead, and the first one still ends as it should."""
    suite = overlap_suite("ran")
    # Collecting the first file changes a dependency file before the next session is asked for.
    suite["tests/test_a.py"] = suite["tests/test_a.py"].replace(
        'note("collect " + __name__',
        '(pathlib.Path(__file__).parent.parent / "requirements.txt").write_text("psutil\\n")\n'
        'note("collect " + __name__',
    )
    root = make_project(suite)
    engine_probe = probe(root, warm=True)
    select = ["tests/test_a.py::test_a_waits", "tests/test_b.py::test_b1"]

    finished = await engine_probe.engine.run(RunRequest(select=select))

    assert any("requirements.txt changed; this pytest starts cold" in n for n in engine_probe.notices)
    assert engine_probe.results == {nodeid: "passed" for nodeid in select}
    assert (finished.exit_status, finished.counts["passed"]) == (0, 2)
