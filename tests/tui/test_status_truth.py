"""One source of truth: on a real project with real pytest runs, the status line and the footer say
what the tree shows after `a`, `f`, Enter on a test, a marker-filtered run and a pause."""

from __future__ import annotations

import pytest
from textual.widgets import Tree

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.app import make_app

from .conftest import run_drawn, until

PROJECT = {
    "pyproject.toml": '[tool.pytest.ini_options]\nmarkers = ["slow: a slow test"]\n',
    "tests/test_a.py": (
        "import pytest\n\n\ndef test_ok():\n    pass\n\n\ndef test_bad():\n    assert 1 == 2\n\n\n"
        "@pytest.mark.slow\ndef test_slow():\n    pass\n"
    ),
}
OK, BAD = "tests/test_a.py::test_ok", "tests/test_a.py::test_bad"


def status(app) -> str:
    return str(app.query_one("#status").content)


def footer_labels(app) -> dict[str, str]:
    """The footer's shown keys: key -> label."""
    return {key.key: key.description for key in app.query("FooterKey") if key.display}


async def next_run(pilot, app, *keys: str) -> None:
    """Press ``keys`` and wait until the run they start has ended and been drawn."""
    before = app.state.run.run_id if app.state.run is not None else None
    await pilot.press(*keys)
    await until(pilot, lambda: run_drawn(app, after=before), timeout_s=60)
    await pilot.pause()


@pytest.fixture
async def session(make_project):
    root = make_project(PROJECT)
    history = open_history(root / ".testwatch" / "history.db")
    app = make_app(load_config(root), history, WatchLoop)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: run_drawn(app), timeout_s=60)
            yield pilot, app
    finally:
        history.close()


async def test_the_status_says_what_the_last_run_ran_and_what_the_tree_shows(session):
    pilot, app = session
    await pilot.pause()
    assert "red: 1 failing" in status(app) and "ran all 3 tests (no recorded dependencies yet" in status(app)
    await next_run(pilot, app, "f")
    assert "ran 1 of 3 tests (1 failed last time)" in status(app), status(app)
    await next_run(pilot, app, "a")
    assert "ran all 3 tests" in status(app) and "failed last time" not in status(app), status(app)
    tree = app.query_one("#tests-tree", Tree)
    tree.move_cursor(tree.leaves[OK])
    await next_run(pilot, app, "enter")  # a passing test passes again: the tree still shows one failing
    assert app.state.tests[BAD].status == "failed"
    assert "green" not in status(app) and "red: 1 failing" in status(app), status(app)
    assert "ran 1 of 3 tests (1 requested)" in status(app), status(app)
    await pilot.press("m", *"slow", "enter")
    await until(pilot, lambda: app.controller.marker_filter() == "slow")
    await next_run(pilot, app, "a")
    assert "ran 1 test (-m slow)" in status(app), status(app)


async def test_the_footer_says_resume_while_paused(session):
    pilot, app = session
    await until(pilot, lambda: footer_labels(app).get("p") == "Pause")
    await pilot.press("p")
    await until(pilot, lambda: app.controller.paused)
    await until(pilot, lambda: footer_labels(app).get("p") == "Resume")
    assert status(app).startswith("❚❚ paused")
    await pilot.press("p")
    await until(pilot, lambda: footer_labels(app).get("p") == "Pause")
    assert not app.controller.paused and status(app).startswith("● watching")


async def test_green_once_the_failing_test_passes(session, tmp_path):
    pilot, app = session
    test_file = app.config.root / "tests/test_a.py"
    test_file.write_text(test_file.read_text().replace("assert 1 == 2", "assert 2 == 2"))
    await until(
        pilot,
        lambda: app.state.tests[BAD].status == "passed" and run_drawn(app),
        timeout_s=60,
    )
    await pilot.pause()
    assert "green" in status(app) and "failing" not in status(app), status(app)


async def test_the_watch_loop_leaves_its_collection_after_a_run_to_the_apps_idle_time(session):
    _, app = session
    assert app.controller.collect_cycles == app.heap.request_deep  # not a full collection in its thread


async def test_results_first_the_save_shows_its_results_then_says_they_were_recorded(make_project):
    root = make_project(PROJECT)
    history = open_history(root / ".testwatch" / "history.db")
    app = make_app(load_config(root, {"results_first": True}), history, WatchLoop)
    try:
        async with app.run_test(size=(160, 30)) as pilot:
            # Idle: the first run's recording is stored (until then every test would be selected).
            await until(pilot, lambda: run_drawn(app) and "waiting for changes" in status(app), timeout_s=60)
            test_file = root / "tests/test_a.py"
            test_file.write_text(test_file.read_text().replace("assert 1 == 2", "assert 2 == 2"))
            await until(pilot, lambda: app.state.run.trigger == "record" and run_drawn(app), timeout_s=60)
            await pilot.pause()
            line = status(app)
            assert app.state.tests[BAD].status == "passed" and "save→result" in line, line
            assert "green" in line and "changed: test_a.py" in line, line  # still the save's story
            # Why the test ran is the save's reason, not that it was recorded after its results.
            assert "recorded after its results" not in line and "(1 failed last time)" in line, line
            assert app.state.tests[BAD].reason == "failed last time"
            runs = [(run["trigger"], run["measuring"]) for run in history.recent_runs(3)]
            assert runs[:2] == [("record", "deps"), ("change", "plain")], runs
    finally:
        history.close()
