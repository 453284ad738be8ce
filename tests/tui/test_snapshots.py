"""Screenshots of every pane at 80x24 and 120x40, compared with the stored ones (clock frozen, data fixed).

Update them after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
(the option comes from tests/tui/conftest.py, the comparison from svg_snapshots.py).
"""

from __future__ import annotations

import time

import pytest

from testwatch.tui.help import HelpScreen
from testwatch.tui.panes.registry import PANES

from .conftest import play, until
from .scenario import live_run, seed_history

SIZES = [(80, 24), (120, 40)]
# view -> what to press after the live run: every pane's digit (the first pane shows from the start)
VIEWS = {pane.id: [pane.key] if pane is not PANES[0] else [] for pane in PANES} | {"help": ["question_mark"]}


async def settle(pilot, timeout_s: float = 15.0) -> None:
    """Wait until two screenshots in a row are the same (tables size their columns when idle)."""
    previous = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current
    raise AssertionError(f"the screen kept changing for {timeout_s} s")


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
async def test_pane_snapshot(view, size, build_app, history, matches_snapshot):
    seed_history(history)
    app = build_app(thresholds={"coverage": 80, "peak_memory": "30 MB"})
    app.animation_level = "none"  # the tab underline would otherwise slide
    async with app.run_test(size=size) as pilot:
        await play(pilot, app, live_run())
        # the cursor goes to the earliest failure by itself
        await until(pilot, lambda: getattr(app.tests_pane.selected_row, "status", None) == "failed")
        for key in VIEWS[view]:
            await pilot.press(key)
        await until(pilot, lambda: not app.active_pane.stale and not app.active_pane.reads_pending)
        if view == "help":
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        else:
            await until(pilot, lambda: app.focused is not None and app.active_pane in app.focused.ancestors)
        app.clear_notifications()
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)
        screenshot = app.export_screenshot(simplify=True)
    matches_snapshot(screenshot)
