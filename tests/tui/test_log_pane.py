"""The log pane receives every notice, wrapped to its width: a real run over a threshold puts the
breach there, and a regression notice longer than 80 columns is shown whole."""

from __future__ import annotations

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import EngineNotice
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.app import make_app

from .conftest import log_lines, play, run_drawn, until

SLOW_TEST = "import time\n\n\ndef test_slow_enough_to_go_over_the_limit():\n    time.sleep(0.3)\n"
PYPROJECT = '[tool.testwatch.thresholds]\ncall_duration = "0.1 s"\n'


async def test_a_real_threshold_breach_is_in_the_log_pane(make_project):
    root = make_project({"pyproject.toml": PYPROJECT, "tests/test_slow.py": SLOW_TEST})
    history = open_history(root / ".testwatch" / "history.db")
    app = make_app(load_config(root), history, WatchLoop)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: run_drawn(app), timeout_s=60)
            await pilot.press("7")
            await until(
                pilot, lambda: any(line.startswith("breach: call_duration") for line in log_lines(app))
            )
            text = " ".join(log_lines(app))
            assert "> 100 ms" in text and "test_slow_enough_to_go_over_the_limit" in text, text
    finally:
        history.close()


async def test_a_long_notice_wraps_to_the_pane_width(build_app):
    long = "slower than their recent runs: " + ", ".join(
        f"tests/test_{n}.py::test_number_{n}" for n in range(6)
    )
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await play(pilot, app, [EngineNotice(long, "info")])
        await pilot.press("7")
        await until(pilot, lambda: len(log_lines(app)) > 1)
        lines = log_lines(app)
        assert all(len(line) <= 80 for line in lines)
        assert "tests/test_5.py::test_number_5" in "".join(lines)  # nothing cut off
        await pilot.resize_terminal(120, 24)
        await until(pilot, lambda: len(log_lines(app)) < len(lines))  # wrapped again, wider
