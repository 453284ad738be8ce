"""News reaches the screen however its batches fall: a batch due a hair from now, or one whose
timer was lost, is drawn all the same (Textual's one-shot timer never fires when its delay has
passed before its task starts looking at the clock)."""

from __future__ import annotations

from types import SimpleNamespace

from testwatch.tui import app as app_module

from .conftest import result, run_events, until

NOW_S = 5000.0


async def test_a_batch_due_a_moment_from_now_is_drawn(build_app, monkeypatch):
    app = build_app()
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.controller is not None)
        monkeypatch.setattr(app_module, "time", SimpleNamespace(monotonic=lambda: NOW_S))
        app._last_input_s = 0.0
        app._last_apply_s = NOW_S - app_module.FRAME_S + 1e-9  # the next batch is due in 1 ns
        for event in run_events([result("t.py::a")], run_id=1):
            app.controller.listener(event)
        await until(pilot, lambda: not app.bridge.pending, timeout_s=5)
        assert app.state.tests["t.py::a"].status == "passed"


async def test_a_batch_whose_timer_was_lost_is_drawn(build_app, monkeypatch):
    app = build_app()
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.controller is not None)
        monkeypatch.setattr(app_module, "time", SimpleNamespace(monotonic=lambda: NOW_S))
        app._last_apply_s = NOW_S - 10.0
        app._apply_scheduled = True  # as after a timer that never fired
        for event in run_events([result("t.py::b")], run_id=1):
            app.controller.listener(event)
        await until(pilot, lambda: not app.bridge.pending, timeout_s=5)
        assert app.state.tests["t.py::b"].status == "passed"
