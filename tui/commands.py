"""The command palette's testwatch commands: every action of the app, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from testwatch.tui.panes.registry import PANES

# (title, action, help) for every action a key also starts.
PALETTE_COMMANDS = (
    ("Rerun affected tests", "rerun_affected", "r: run the tests the last changes affect"),
    ("Run all tests", "run_all", "a: run the whole suite"),
    ("Run failed tests", "run_failed", "f: run the tests that failed last time"),
    ("Run the selected test", "run_selected", "Enter on a test in the tests pane"),
    ("Filter tests by name or file", "filter", "/: type to filter the tests pane"),
    ("Filter by marker", "marker_filter", "m: a pytest -m expression for runs and the view"),
    ("Pause or resume watching", "toggle_pause", "p"),
    ("Cancel the run", "cancel_run", "c: stop pytest now"),
    ("Toggle memray", "toggle_memray", "M: measure allocations with memray from the next run"),
    ("Export this view to CSV", "export", "e: write the current pane's table to a CSV file"),
    ("Open the failure in $EDITOR", "open_editor", "o: the selected failure at its file and line"),
    ("Show keys", "help", "?"),
    ("Quit", "quit", "q: stop the run and leave"),
    *((f"Show the {pane.id} pane", f"show_pane({pane.id!r})", pane.key) for pane in PANES),
)


class TestwatchCommands(Provider):
    """Finds testwatch's actions by fuzzy title."""

    async def discover(self) -> Hits:
        for title, action, help_text in PALETTE_COMMANDS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in PALETTE_COMMANDS:
            score = matcher.match(title)
            if score > 0:
                run = partial(self.app.run_action, action)
                yield Hit(score, matcher.highlight(title), run, help=help_text)
