"""The pane registry drives the app: every registered pane has its tab, its digit key and its palette
command, in registry order."""

from __future__ import annotations

from textual.widgets import TabbedContent

from testwatch.tui.commands import PALETTE_COMMANDS
from testwatch.tui.panes.registry import PANES


async def test_every_registered_pane_has_its_tab_and_its_key(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        assert [pane.NAME for pane in app.panes] == [spec.id for spec in PANES]
        tabs = app.query_one(TabbedContent)
        for spec, pane in reversed(list(zip(PANES, app.panes, strict=True))):
            await pilot.press(spec.key)
            assert app.active_pane is pane
            assert tabs.active == spec.tab_id
            assert str(tabs.get_tab(spec.tab_id).label) == spec.tab_label


def test_the_palette_shows_every_registered_pane_under_its_key():
    commands = [(action, help_text) for _, action, help_text in PALETTE_COMMANDS]
    shown = [(action, help_text) for action, help_text in commands if action.startswith("show_pane")]
    assert shown == [(f"show_pane({spec.id!r})", spec.key) for spec in PANES]
