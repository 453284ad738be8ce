"""The one-line headline of a failure, taken from pytest's report text: what pytest's short test
summary shows after ``FAILED nodeid -`` (the TUI's details, the JSON report's ``crash`` and the
headless reporter all use it)."""

from __future__ import annotations

import re

# A SyntaxError's display starts with where it is; its headline is the block's last line.
_SYNTAX_DISPLAY = re.compile(r'^File "[^"]*", line \d+')


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
