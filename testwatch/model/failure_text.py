"""What a failure says and where, read from pytest's report text: its one-line headline (what
pytest's short test summary shows after ``FAILED nodeid -``) and the ``path:line: message`` lines
of its traceback. The TUI's details and editor jump, the JSON report's ``crash`` and ``traceback``
and the headless reporter all use these."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A SyntaxError's display starts with where it is; its headline is the block's last line.
_SYNTAX_DISPLAY = re.compile(r'^File "[^"]*", line \d+')
# "tests/test_a.py:42: AssertionError", as pytest's long traceback ends each frame.
_LOCATION = re.compile(r"(?P<path>[^\s:][^:]*):(?P<lineno>\d+): (?P<message>.*)")


@dataclass(frozen=True)
class Location:
    """One ``path:line: message`` line of a traceback (``path`` as pytest printed it)."""

    path: str
    lineno: int
    message: str


def locations(longrepr: str) -> list[Location]:
    """The frames' location lines of a long traceback, outermost first (the last is where it failed)."""
    matches = (_LOCATION.fullmatch(line) for line in longrepr.splitlines())
    return [Location(match["path"], int(match["lineno"]), match["message"]) for match in matches if match]


def headline(longrepr: str) -> str:
    """The first line of the last block of ``E`` lines (the exception that ended the test, not
    the ``+ where`` lines under an assertion, nor an earlier exception of a chain); the last
    non-empty line when the report has no ``E`` lines (``--tb=native``, ``--tb=line``)."""
    blocks: list[list[str]] = []
    previous_was_error = False
    for line in longrepr.splitlines():
        is_error = line.startswith("E ") or line == "E"
        if is_error:
            if not previous_was_error:
                blocks.append([])
            blocks[-1].append(line[1:].strip())
        previous_was_error = is_error
    if blocks:
        block = [line for line in blocks[-1] if line] or [""]
        return block[-1] if _SYNTAX_DISPLAY.match(block[0]) else block[0]
    lines = [line.strip() for line in longrepr.splitlines() if line.strip()]
    return lines[-1] if lines else ""
