"""Screenshot comparison for the TUI tests, on Textual's public API alone: the SVG that
``App.export_screenshot()`` gives is compared with the one stored under ``__snapshots__``; the
stored one is (re)written with ``--snapshot-update``. On a mismatch the new screenshot is saved
next to the test's temporary files and the failure shows the screen's text, line by line, where
the two differ (or says that only colours and styles changed).
"""

from __future__ import annotations

import difflib
import html
import re
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).parent / "__snapshots__"
UPDATE_OPTION = "--snapshot-update"
# Rich names the SVG's styles and clip paths after a hash of the screen ("terminal-1234-r5"):
# dropped, so that one changed cell does not change every line of the file.
_UNIQUE_ID = re.compile(r"\bterminal-\d+-")
_TEXT = re.compile(r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#terminal-line-(\d+)\)"[^>]*>(.*?)</text>')
_CELL_WIDTH = 12.2  # Rich's SVG: 0.61 of its 20 px font


def normalized(svg: str) -> str:
    return _UNIQUE_ID.sub("terminal-", svg)


def screen_text(svg: str) -> list[str]:
    """The characters on screen, one string per terminal line, from the SVG's text elements."""
    lines: dict[int, list[str]] = {}
    for x, number, text in _TEXT.findall(svg):
        line = lines.setdefault(int(number), [])
        column = round(float(x) / _CELL_WIDTH)
        line.extend(" " * (column - len(line)))
        line[column:] = html.unescape(text).replace("\xa0", " ")
    return ["".join(lines.get(number, [])).rstrip() for number in range(max(lines, default=-1) + 1)]


def text_difference(stored: str, actual: str) -> str:
    diff = difflib.unified_diff(
        screen_text(stored), screen_text(actual), "stored screen", "this run's screen", lineterm="", n=1
    )
    return "\n".join(diff) or "the text on screen is the same: colours or styles differ"


def compare_with_stored(svg: str, stored_path: Path, report_dir: Path, update: bool) -> None:
    """Pass if ``svg`` is the stored screenshot (or store it when ``update``); else fail saying
    where both files are and how their screens differ."""
    svg = normalized(svg)
    if update:
        stored_path.parent.mkdir(parents=True, exist_ok=True)
        stored_path.write_text(svg, encoding="utf-8")
        return
    stored = stored_path.read_text(encoding="utf-8") if stored_path.exists() else None
    if stored == svg:
        return
    actual_path = report_dir / stored_path.name
    actual_path.write_text(svg, encoding="utf-8")
    if stored is None:
        raise AssertionError(
            f"no stored screenshot {stored_path}; this run's is {actual_path}. "
            f"Store it with: pytest tests/tui/test_snapshots.py {UPDATE_OPTION}"
        )
    raise AssertionError(
        f"the screen differs from {stored_path}\nthis run's screenshot: {actual_path}\n"
        f"{text_difference(stored, svg)}\n"
        f"if the change is intended: pytest tests/tui/test_snapshots.py {UPDATE_OPTION}"
    )
