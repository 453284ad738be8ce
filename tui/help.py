"""The help screen (``?``): the app's own keys first, grouped by what they do, then the keys of the
widget that has the focus (the tree's, a table's), read from its bindings.

A screen over the app, not a panel beside it: the details keep their width, and at 80x24 the app's
keys fit in two columns with no scrolling."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from testwatch.tui.panes.registry import PANES

KEY_WIDTH = 9  # the key column of each group

# (group, ((keys, what they do), ...)) in the order shown; tests/tui/test_help.py checks that every key
# the app binds is here.
APP_KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Run",
        (
            ("r", "rerun what changes affect"),
            ("a", "run every test"),
            ("f", "run the tests that failed"),
            ("c", "cancel the run"),
            ("p", "pause or resume watching"),
            ("m", "run and show a marker (-m)"),
            ("M", "memray on or off, next run"),
        ),
    ),
    (
        "Panes",
        (
            ("tab", "next pane"),
            ("shift+tab", "previous pane"),
            (f"1-{len(PANES)}", ", ".join(spec.title for spec in PANES)),
        ),
    ),
    (
        "The test under the cursor",
        (
            ("enter", "run it"),
            ("o", "open failure in $EDITOR"),
            ("d", "the details full screen"),
            ("← →", "scroll details sideways"),
            ("/", "filter by name or file"),
            ("esc", "clear the filter, or back"),
        ),
    ),
    (
        "Export and more",
        (
            ("e", "export the pane as CSV"),
            ("ctrl+p", "every command by name"),
            ("?", "this help (esc closes it)"),
            ("q", "quit"),
        ),
    ),
)


def keys_table(entries: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> Table:
    """Keys and what they do, two columns; the second wraps."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=KEY_WIDTH, no_wrap=True, style="bold")
    table.add_column()
    for keys, text in entries:
        table.add_row(Text(keys), Text(text))
    return table


def widget_keys(bindings: list[tuple[str, Binding]]) -> list[tuple[str, str]]:
    """The focused widget's own keys (``(key display, binding)``), less those the app's groups list."""
    listed = _listed_key_names()
    seen: set[str] = set()
    entries = []
    for display, binding in bindings:
        if not binding.description or binding.key in listed or display in seen:
            continue
        seen.add(display)
        entries.append((display, binding.description.lower()))
    return entries


_NAMES = {"←": "left", "→": "right", "esc": "escape", "/": "slash", "?": "question_mark"}


def _listed_key_names() -> set[str]:
    """The Textual names of every key the app's groups list."""
    tokens = {token for _, entries in APP_KEYS for keys, _ in entries for token in keys.split()}
    return {_NAMES.get(token, token) for token in tokens}


class HelpScreen(ModalScreen[None]):
    """Every key: the app's by purpose, then the focused widget's; Escape, ``?`` or ``q`` close it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, widget_name: str, widget_entries: list[tuple[str, str]]) -> None:
        super().__init__()
        self.widget_name = widget_name
        self.widget_entries = widget_entries

    def compose(self) -> ComposeResult:
        with Vertical(id="help"), VerticalScroll(id="help-scroll"):
            with Grid(id="help-groups"):
                for title, entries in APP_KEYS:
                    yield Static(_group(title, keys_table(entries)), classes="help-group")
            if self.widget_entries:
                yield Static(
                    _group(f"Keys of the {self.widget_name}", keys_table(self.widget_entries), dim=True),
                    id="help-widget",
                )

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)


def _group(title: str, table: Table, dim: bool = False) -> Table:
    """A group's title over its keys."""
    outer = Table.grid()
    outer.add_row(Text(title, style="dim bold" if dim else "bold underline"))
    outer.add_row(table)
    return outer
