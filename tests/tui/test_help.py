"""Help (`?`): the app's own keys first, grouped by what they do, all on screen at 80x24 with no
scrolling; the focused widget's keys last; the details keep their width."""

from __future__ import annotations

import pytest

from testwatch.tui.app import TestwatchApp
from testwatch.tui.help import APP_KEYS, HelpScreen
from testwatch.tui.panes.registry import PANES
from testwatch.tui.panes.tests import TestsPane

from . import svg_snapshots
from .conftest import play, result, run_events, until

SIZES = [(80, 24), (120, 40)]


def screen_text(app) -> str:
    return "\n".join(svg_snapshots.screen_text(svg_snapshots.normalized(app.export_screenshot())))


def test_every_key_the_app_binds_is_in_a_group(build_app):
    app = build_app()
    listed = {token for _, entries in APP_KEYS for keys, _ in entries for token in keys.split()}
    for binding in [*TestwatchApp.BINDINGS, *TestsPane.BINDINGS]:
        display = app.get_key_display(binding)
        assert display in listed or (display.isdigit() and f"1-{len(PANES)}" in listed), display


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_help_shows_the_app_keys_by_purpose_then_the_tree_keys(size, build_app):
    bad = result("tests/test_a.py::test_bad", "failed", "E   assert 1 == 2")
    app = build_app()
    async with app.run_test(size=size) as pilot:
        await play(pilot, app, run_events([bad], run_id=1))
        details_width = app.query_one("#detail-scroll").region.width
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        text = screen_text(app)
        titles = [title for title, _ in APP_KEYS]
        assert all(title in text for title in titles), text
        for _, entries in APP_KEYS:  # every one of the app's keys, with no scrolling
            for _, what in entries:
                assert what[:10] in text, (what, text)
        help_scroll = app.screen.query_one("#help-scroll")
        if size[1] >= 40:  # room for everything: the tree's own keys come last
            assert text.index("Keys of the tree") > max(text.index(title) for title in titles)
        else:
            assert help_scroll.max_scroll_y > 0  # the tree's keys are below, a scroll away
            help_scroll.scroll_end(animate=False)
            await pilot.pause()
            assert "Keys of the tree" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.query_one("#detail-scroll").region.width == details_width  # never squeezed
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
