"""Every key of the app, under Pilot, against a fake controller and the real SQLite history."""

from __future__ import annotations

import csv
import gc

from textual.widgets import Input, Tree

from testwatch.model.events import EngineNotice, RunStarted, TestsCollected

from .conftest import play, result, run_events, until

FAILING = [result("tests/test_a.py::test_ok"), result("tests/test_a.py::test_bad", "failed", "assert 0")]


def leaves(app) -> list[str]:
    """The node ids the tests tree shows, top to bottom."""
    tree = app.query_one("#tests-tree", Tree)
    return [leaf.data for file in tree.root.children for leaf in file.children]


async def test_run_keys_ask_the_controller(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await pilot.press("r", "a", "f")  # f does nothing yet: nothing has failed
        await play(pilot, app, run_events(FAILING, run_id=1))
        await pilot.press("f")
        # the controller runs in its own thread: the calls reach it on its loop, in order
        expected = [("affected", None), ("all", None), ("failed", None)]
        await until(pilot, lambda: app.controller.requests == expected)


async def test_enter_on_a_test_runs_it(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await play(pilot, app, run_events(FAILING, run_id=1))
        tree = app.query_one("#tests-tree", Tree)
        tree.focus()
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.press("enter")
        await until(pilot, lambda: app.controller.requests == [("tests", ["tests/test_a.py::test_bad"])])


async def test_failures_come_first(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await play(pilot, app, run_events(FAILING, run_id=1))
        assert leaves(app) == ["tests/test_a.py::test_bad", "tests/test_a.py::test_ok"]


async def test_slash_filters_by_name_or_file_as_you_type(build_app):
    app = build_app()
    results = [result("tests/test_a.py::test_alpha"), result("tests/test_b.py::test_beta")]
    async with app.run_test() as pilot:
        await play(pilot, app, run_events(results, run_id=1))
        await pilot.press("slash", "b", "e")
        assert leaves(app) == ["tests/test_b.py::test_beta"]
        await pilot.press("backspace", "backspace", *"test_a.py")
        assert leaves(app) == ["tests/test_a.py::test_alpha"]
        await pilot.press("escape")
        assert len(leaves(app)) == 2
        assert app.query_one("#filter", Input).has_class("hidden")


async def test_m_filters_runs_and_view_by_marker(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await play(pilot, app, [
            RunStarted(1, "all", None),
            TestsCollected({"tests/test_a.py::test_fast": [], "tests/test_a.py::test_slow": ["slow"]}),
        ])
        await pilot.press("m", *"slow", "enter")
        await until(pilot, lambda: app.controller.marker_filter() == "slow")
        assert leaves(app) == ["tests/test_a.py::test_slow"]
        await pilot.press("m", *" and", "enter")  # "slow and" is not an expression pytest accepts
        await until(pilot, lambda: any("not valid" in n.message for n in app._notifications))
        assert app.controller.marker_filter() == "slow"
        await pilot.press("m", *["backspace"] * 20, "enter")
        await until(pilot, lambda: app.controller.marker_filter() == "")
        assert len(leaves(app)) == 2


async def test_p_pauses_and_resumes_watching(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.controller is not None)  # built in its own thread
        await pilot.press("p")
        await until(pilot, lambda: app.controller.paused)
        assert "paused" in str(app.query_one("#status").content)
        await pilot.press("p")
        await until(pilot, lambda: not app.controller.paused)
        assert "watching" in str(app.query_one("#status").content)


async def test_c_cancels_only_while_a_run_is_going(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.controller is not None)  # built in its own thread
        await pilot.press("c")
        assert app.controller.cancels == 0
        assert "c" not in app.screen.active_bindings
        await play(pilot, app, [RunStarted(1, "all", None)])
        assert "c" in app.screen.active_bindings
        await pilot.press("c")
        await until(pilot, lambda: app.controller.cancels == 1)


async def test_capital_m_toggles_memray(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await pilot.press("M")
        await until(pilot, lambda: app.controller.memray is True)
        notices = lambda: [n.message for n in app._notifications]  # noqa: E731
        await until(pilot, lambda: "memray on from the next run" in notices())
        await pilot.press("M")
        await until(pilot, lambda: app.controller.memray is False)
        assert app.config.memray is False  # the app asks the controller; it does not edit the config


async def test_e_exports_the_current_view_with_formulas_neutralised(build_app, tmp_path):
    app = build_app()
    target = tmp_path / "out" / "log.csv"
    async with app.run_test() as pilot:
        await play(pilot, app, [EngineNotice("=HYPERLINK(\"http://x\")", "warning")])
        await pilot.press("7", "e")
        await until(pilot, lambda: isinstance(app.focused, Input))
        assert app.focused.value.endswith(".csv") and "/exports/log-" in app.focused.value
        app.focused.value = str(target)
        await pilot.press("enter")
        await until(pilot, target.exists)
        await until(pilot, lambda: any(n.message == f"wrote 1 row to {target}" for n in app._notifications))
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows == [["severity", "message"], ["warning", "'=HYPERLINK(\"http://x\")"]]


async def test_export_to_a_folder_that_cannot_be_written_says_so(build_app, tmp_path):
    app = build_app()
    blocked = tmp_path / "file"
    blocked.write_text("")
    async with app.run_test() as pilot:
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.focused, Input))
        app.focused.value = str(blocked / "x.csv")
        await pilot.press("enter")
        await until(pilot, lambda: any("cannot write" in n.message for n in app._notifications))
        assert app.is_running


async def test_number_keys_and_tab_move_between_panes(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        names = []
        for key in ["2", "3", "4", "5", "6", "7", "1", "tab", "tab", "shift+tab", "shift+tab", "shift+tab"]:
            await pilot.press(key)
            await pilot.pause()
            names.append(app.active_pane.NAME)
        assert names == ["memory", "latency", "coverage", "thresholds", "history", "log", "tests",
                         "memory", "latency", "memory", "tests", "log"]


async def test_footer_offers_f_and_o_only_when_there_is_a_failure(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        assert "f" not in app.screen.active_bindings
        await play(pilot, app, run_events(FAILING, run_id=1))
        tree = app.query_one("#tests-tree", Tree)
        tree.move_cursor(tree.root.children[0].children[0])  # the failure
        await pilot.pause()
        assert "f" in app.screen.active_bindings
        assert "o" in app.screen.active_bindings
        tree.move_cursor(tree.root.children[0].children[1])  # a pass
        await pilot.pause()
        assert "o" not in app.screen.active_bindings


async def test_q_quits_and_stops_the_controller(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.controller is not None)  # built in its own thread
        controller = app.controller
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert controller.stopped
    assert app.return_code == 0


async def test_a_run_ending_while_the_app_closes_is_dropped(build_app):
    # The engine's last events can land between the app's shutdown and its last timer.
    app = build_app()
    async with app.run_test() as pilot:
        await play(pilot, app, run_events(FAILING[:1], run_id=1))
    for event in run_events(FAILING, run_id=2):
        app.controller.listener(event)
    app.apply_news()  # no screen is left to draw on
    assert not app.is_running


async def test_palette_lists_every_action(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p", *"run all", "enter")
        await until(pilot, lambda: app.controller.requests == [("all", None)])


async def test_the_app_leaves_the_garbage_collector_as_it_found_it(build_app):
    thresholds = gc.get_threshold()
    app = build_app()
    async with app.run_test() as pilot:
        await until(pilot, lambda: gc.get_freeze_count() > 0)  # the started app is frozen
        assert gc.get_threshold() != thresholds
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
