"""Make the README's SVG screenshots: the real app and watch loop on a copy of the demo project.

Runs the suite, applies the demo's regression edit (VAT to 21%) and waits for the rerun, then saves
one screenshot per pane (120x40) into this folder. Real pytest runs, so figures differ a little
between machines.

    python screenshots/make_screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from testwatch.cli.demo_copy import AUTOPLAY_EDITS, apply_edit, copy_demo
from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.run.watch_loop import WatchLoop, results_first_for
from testwatch.tui.app import make_app

SIZE = (120, 40)
PANES = ["tests", "memory", "latency", "coverage", "thresholds", "history", "log"]
REGRESSION = next(edit for edit in AUTOPLAY_EDITS if edit.story.startswith("regression"))


async def wait_until(pilot, condition, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout_s} s waiting for the app")
        await pilot.pause(0.1)


async def settle(pilot, timeout_s: float = 15.0) -> None:
    """Wait until two screenshots in a row are the same."""
    previous = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await pilot.pause(0.1)
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current


async def shoot(out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="testwatch-screenshots-") as scratch:  # left behind: nothing
        return await _shoot(copy_demo(Path(scratch) / "shop-demo"), out)


async def _shoot(root: Path, out: Path) -> list[Path]:
    config = load_config(root)
    history = open_history(config.history_path)
    app = make_app(config, history, WatchLoop)
    saved = []
    async with app.run_test(size=SIZE) as pilot:
        runs_done = lambda: app.state.run is not None and app.state.run.finished is not None  # noqa: E731
        await wait_until(pilot, runs_done)
        await wait_until(pilot, lambda: "waiting for changes" in app.state.watch_message)
        first_run = app.state.run
        apply_edit(root, REGRESSION)
        await wait_until(pilot, lambda: app.state.run is not first_run and runs_done())
        if results_first_for(config):  # the same tests run again, recording: shoot after it
            await wait_until(pilot, lambda: app.state.run.trigger == "record" and runs_done())
        await wait_until(pilot, lambda: "waiting for changes" in app.state.watch_message)
        for number, name in enumerate(PANES, start=1):
            await pilot.press(str(number))
            await wait_until(pilot, lambda: not app.active_pane.stale and not app.active_pane.reads_pending)
            app.clear_notifications()
            await settle(pilot)
            path = out / f"{number}-{name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            saved.append(path)
        await pilot.press("q")
    history.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
