"""The layout adapts to the window: on the demo's real red run the failing assertion is on screen with no
key pressed, at 80x24 (details under the tree, full width) and at 120x40 (beside it); table columns fit
by priority, names are cut in the middle, memory graphs carry their scale."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import Tree

from testwatch.cli.demo_copy import copy_demo
from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import RunFinished, RunStarted, TestFinished, TestsCollected, TestStarted
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.app import make_app
from testwatch.tui.panes.fitted_table import Column, fit_columns
from testwatch.tui.panes.memory_graph import GraphData, graph_lines
from testwatch.tui.shorten import shorten_middle

from . import svg_snapshots
from .conftest import detail_text, play, result, run_events, until

PLANTED = "test_loyalty_discount_rounds_down"
SIZES = [(80, 24), (120, 40)]


def screen_lines(app) -> list[str]:
    return svg_snapshots.screen_text(svg_snapshots.normalized(app.export_screenshot()))


def _run_ended(app) -> bool:
    return app.state.run is not None and app.state.run.finished is not None


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_a_red_run_on_the_demo_shows_the_assertion_with_no_key_pressed(size, tmp_path):
    root = copy_demo(tmp_path / "shop-demo")
    history = open_history(root / ".testwatch" / "history.db")
    app = make_app(load_config(root), history, WatchLoop)
    try:
        async with app.run_test(size=size) as pilot:
            tree = app.query_one("#tests-tree", Tree)
            await until(pilot, lambda: _run_ended(app), timeout_s=120)  # a real pytest run of the demo
            assert app.state.tests[f"tests/test_cart.py::{PLANTED}"].status == "failed"
            await until(pilot, lambda: f"::{PLANTED}" in detail_text(app))  # the cursor went there
            await pilot.pause()
            lines = screen_lines(app)
            screen = "\n".join(lines)
            assert "assert 9.41 == 9.4" in screen, screen
            assert f"tests/test_cart.py::{PLANTED}" in screen, screen  # whole in the details
            # the traceback's lines are whole, never wrapped inside a token
            assert any(f"def {PLANTED}():" in line for line in lines), screen
            details = app.query_one("#detail-scroll").region
            tree_region = tree.region
            if size[0] < 100:  # under the tree, the window's full width
                assert details.y > tree_region.y and details.width >= size[0] - 2
            else:  # beside it
                assert details.x > tree_region.x and details.y == tree_region.y
    finally:
        history.close()


def test_columns_fit_by_priority_and_names_take_the_room_left():
    columns = [
        Column("test", flex=1, min_width=20),
        Column("kind", 15),
        Column("value", 9),
        Column("limit", 9),
        Column("when", 19, drop=1),
    ]
    assert fit_columns(columns, 118) == [118 - 52 - 10, 15, 9, 9, 19]
    assert fit_columns(columns, 78) == [78 - 33 - 8, 15, 9, 9, None]  # the time goes; value and limit stay
    assert fit_columns(columns, 30) == [20, 15, 9, 9, None]  # never under the minimum: the table scrolls


def test_names_are_cut_in_the_middle_and_keep_their_styles():
    name = Text("tests/test_cart.py::test_loyalty_discount_rounds_down", style="bold")
    short = shorten_middle(name, 30)
    assert short.plain == "tests/test_cart…nt_rounds_down" and short.cell_len == 30
    assert short.style == "bold"
    assert shorten_middle(name, 80) is name
    assert shorten_middle(Text("日本語のテストの名前です"), 9).cell_len <= 9


def test_a_memory_graph_has_its_scale_and_its_limit_line():
    data = GraphData((27_000_000, 20_000_000, 27_000_000, 5_000_000), 15_000_000, floor_bytes=0)
    lines = [line.plain for line in graph_lines(data, 40, 3)]
    assert lines[0].startswith("27.0 MB ┤") and lines[2].startswith("    0 B ┤")
    assert lines[1].startswith("15.0 MB ┤") and lines[1].endswith("╌" * 7)  # the limit, where no bar is
    over = graph_lines(data, 40, 3)[0]
    assert any(span.style == "red" for span in over.spans)  # bars over the limit are red


async def test_d_gives_the_details_the_screen_arrows_scroll_them_and_escape_gives_it_back(build_app):
    long_line = ">       assert compute(" + "x, " * 50 + "'the end of a long line')"
    report = f"    def test_long():\n{long_line}\nE   assert 1 == 2"
    bad = result("tests/test_a.py::test_long", "failed", report)
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await play(pilot, app, run_events([bad], run_id=1))
        await until(pilot, lambda: "test_long" in detail_text(app))
        details = app.query_one("#detail-scroll")
        assert not any("the end of a long line" in line for line in screen_lines(app))  # not wrapped in
        await pilot.press("right", "right")  # from the tree: the details scroll sideways
        await until(pilot, lambda: details.scroll_x > 0)
        assert app.tests_pane.selected_row.nodeid == bad.nodeid  # the cursor stayed
        await pilot.press("d")
        await until(pilot, lambda: app.screen.maximized is details)
        assert details.region.height > 18 and app.focused is details
        await pilot.press("end")
        await pilot.press("ctrl+pagedown", "ctrl+pagedown", "ctrl+pagedown")  # a page right each
        await until(pilot, lambda: any("the end of a long line" in line for line in screen_lines(app)))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.maximized is None)
        assert app.focused is app.query_one("#tests-tree")
        await pilot.press("d", "2")  # another pane: the details give the screen back
        await until(pilot, lambda: app.active_pane.NAME == "memory" and app.screen.maximized is None)


async def test_a_cancelled_run_says_so_apart_from_the_progress_bar(build_app):
    done = [result(f"tests/test_a.py::test_{n}") for n in range(3)]
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await play(pilot, app, [RunStarted(1, "all", 10), TestsCollected({r.nodeid: [] for r in done})])
        await play(pilot, app, [event for r in done for event in (TestStarted(r.nodeid), TestFinished(r))])
        assert app.query_one("#progress").display  # a run going: its bar shows
        await play(pilot, app, [RunFinished(1, {"passed": 3}, 2, 0.4, cancelled=True)])
        counts_line = next(line for line in screen_lines(app) if "3 passed" in line)
        assert counts_line.rstrip().endswith("cancelled") and "━" not in counts_line
        assert not app.query_one("#progress").display  # a finished run's counts take the whole line
