"""Counts in words, as the user reads them: "1 test", "2 tests", "1 breach", "3 breaches"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str = "") -> str:
    """``count`` and the noun, singular for one: ``counted(1, "run")`` is ``"1 run"``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
