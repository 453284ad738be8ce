"""Bidi overrides and other invisible format characters from the user's tests reach no terminal raw
(a test named with U+202E could show as another name); a node id holding a newline cannot split a
headless line into a fake one. The app and the headless lines share one escaping function."""

from __future__ import annotations

import time

from textual.widgets import Tree

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.terminal_text import safe
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.app import make_app
from testwatch.tui.text import literal

HIDDEN = ["\u202e", "\u202a", "\u202d", "\u2066", "\u2069", "\u200e", "\u200f", "\u200b", "\u2028",
          "\ufeff", "\x85", "\x1b"]
# pytest escapes ids unless told not to; a project can tell it so (as this one does).
PYPROJECT = """
[tool.pytest.ini_options]
disable_test_id_escaping_and_forfeit_all_rights_to_community_support = true
"""
BIDI_TESTS = r'''
import pytest

@pytest.mark.parametrize("case", ["evil\u202etxt.exe", "iso\u2066late\u2069", "rlm\u200f",
                                  "one\nPASS          0.1 ms  tests/test_fake.py::test_fake"])
def test_x(case):
    pass


def test_says_bidi():
    print("output \u202eesrever\u202c and \u2067isolate\u2069")
    assert False, "message \u202e reversed"
'''


def _raw_hidden(text: str) -> list[str]:
    return [f"U+{ord(char):04X}" for char in HIDDEN if char in text]


def test_headless_lines_escape_bidi_and_keep_one_line_per_test(make_project, cli):
    root = make_project({"pyproject.toml": PYPROJECT, "tests/test_bidi.py": BIDI_TESTS})
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert _raw_hidden(done.stdout) == []
    assert "test_x[evil\\u202etxt.exe]" in done.stdout
    assert "test_x[one\\x0aPASS          0.1 ms  tests/test_fake.py::test_fake]" in done.stdout
    assert not any(line.startswith("PASS          0.1 ms") for line in done.stdout.splitlines())
    assert "output \\u202eesrever\\u202c" in done.stdout  # the failure's output, newlines kept


def test_one_escaping_serves_the_app_and_the_headless_lines():
    for char in HIDDEN:
        assert char not in safe(f"a{char}b")
        assert literal(f"a{char}b").plain == safe(f"a{char}b")  # the app's text is escaped the same way
    assert safe("é ü 日本 emoji 🙂 tab\tnew\nline") == "é ü 日本 emoji 🙂 tab\tnew\nline"


def _leaf_labels(tree: Tree) -> list[str]:
    labels, stack = [], list(tree.root.children)
    while stack:
        node = stack.pop()
        labels.append(node.label.plain)
        stack.extend(node.children)
    return labels


async def test_the_app_shows_bidi_names_escaped(make_project):
    root = make_project({"pyproject.toml": PYPROJECT, "tests/test_bidi.py": BIDI_TESTS})
    history = open_history(root / ".testwatch" / "history.db")
    app = make_app(load_config(root), history, WatchLoop)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            tree = app.query_one("#tests-tree", Tree)
            deadline = time.monotonic() + 120
            while sum(label.startswith(("✓", "✗")) for label in _leaf_labels(tree)) < 5:
                assert time.monotonic() < deadline, _leaf_labels(tree)
                await pilot.pause(0.05)
            labels = "\n".join(_leaf_labels(tree))
            assert _raw_hidden(labels) == []
            assert "evil\\u202etxt.exe" in labels
            assert _raw_hidden(app.export_screenshot()) == []
    finally:
        history.close()
