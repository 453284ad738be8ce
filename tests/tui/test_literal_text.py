"""Text from the user's tests is data: markup, brackets, ANSI escapes and invalid UTF-8 show literally."""

from __future__ import annotations

from textual.widgets import Tree

from testwatch.model.events import CollectionError, EngineNotice
from testwatch.model.terminal_text import safe
from testwatch.tui.text import literal

from .conftest import detail_text, log_lines, play, result, run_events, until

NASTY_NAMES = [
    "test_x[[red]]", "test_x[case_a]", "test_x[[/tmp/x]]", "test_x[[bold unclosed]", "test_x[\x1b[31mred]",
    "test_x[\udcff\udcfe]", "test_x[[/]]", "test_x[:emoji:]",
]


def test_safe_escapes_control_bytes_and_lone_surrogates():
    assert safe("a\x1b[31mb\x07") == "a\\x1b[31mb\\x07"
    assert safe("bad \udcff") == "bad \\udcff"
    assert safe("tab\tand\nnewline") == "tab\tand\nnewline"
    assert literal("[red]x[/red]").plain == "[red]x[/red]"


async def test_nasty_names_output_and_tracebacks_render_literally(build_app):
    app = build_app()
    results = [
        result(f"tests/test_a.py::{name}", "failed", longrepr=f"E   {name} [/]", stdout="\x1b[1mbold?[/b]\n")
        for name in NASTY_NAMES
    ]
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(results, run_id=1))
        tree = app.query_one("#tests-tree", Tree)
        labels = [leaf.label.plain for leaf in tree.root.children[0].children]
        for name in NASTY_NAMES:
            assert any(label.startswith(f"✗ {safe(name)}") for label in labels), name
        for leaf in tree.root.children[0].children:
            tree.move_cursor(leaf)
            await pilot.pause()
            detail = detail_text(app)
            assert safe(leaf.data) in detail and "\\x1b[1mbold?[/b]" in detail
        app.export_screenshot()  # renders every visible cell without error
        await pilot.press("6", "3", "2")
        app.export_screenshot()


async def test_notices_with_markup_reach_the_log_and_notifications_unchanged(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await play(pilot, app, [EngineNotice("[red]not red[/] \x1b[2J", "error"),
                                CollectionError("tests/test_[x.py", "SyntaxError: [unclosed")])
        await until(pilot, lambda: len(app._notifications) >= 2)
        assert any(n.message == "[red]not red[/] \\x1b[2J" for n in app._notifications)
        await pilot.press("7")
        lines = log_lines(app)
        assert lines[0] == "error: [red]not red[/] \\x1b[2J"
        assert lines[1] == "error: cannot collect tests/test_[x.py: SyntaxError: [unclosed"
