"""Screenshots of every pane at 80x24 and 120x40, compared with the stored ones (clock frozen, data fixed).

Update them after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.widgets import Tree

from .conftest import play, until
from .scenario import live_run, seed_history

SIZES = [(80, 24), (120, 40)]
# pane key -> what to press after the live run
VIEWS = {"tests": [], "memory": ["2"], "latency": ["3"], "coverage": ["4"], "thresholds": ["5"],
         "history": ["6"], "log": ["7"], "help": ["question_mark"]}


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
def test_pane_snapshot(view, size, build_app, history, snap_compare):
    seed_history(history)
    app = build_app(thresholds={"coverage": 80})

    async def before(pilot) -> None:
        await play(pilot, app, live_run())
        tree = app.query_one("#tests-tree", Tree)
        tree.move_cursor(tree.root.children[0].children[0])  # the failure, shown first
        for key in VIEWS[view]:
            await pilot.press(key)
        await until(pilot, lambda: not app.active_pane.stale)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=before)
