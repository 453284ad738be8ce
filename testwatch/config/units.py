"""The one grammar of the sizes and durations users write (config keys, thresholds, ``--timeout``,
``leaks --threshold``, ``export --since``), and their short human forms.

A value is a number (bytes for a size, seconds for a duration) or a string: a number, optional
white space, an optional unit. Units ignore case, and each means one thing everywhere:

- sizes: ``B``; ``KB``, ``MB``, ``GB`` (powers of 1000); ``KiB``, ``MiB``, ``GiB`` (powers of 1024).
  ``"150 MB"`` is 150,000,000 bytes, ``"64 KiB"`` 65,536.
- durations: ``us``, ``ms``, ``s`` (or ``sec``), ``min``, ``h``, ``d``, ``w``.
  ``"200 ms"``, ``"0.5 s"``, ``"2 min"``, ``"7d"``.

A bare ``m`` is refused: it meant MiB in a size and minutes in a duration, and reads as milli
or mega as easily. So are the other one-letter sizes ``k`` and ``g`` (1000s or 1024s?). The
error says what to write instead; the caller adds the key. The short forms written by
``format_size`` and ``format_duration`` are in the grammar, so what testwatch prints can be
pasted back into a config. (pytest-memray's marker sizes, ``"24 MB"`` in powers of 1024, are
that plugin's grammar and are parsed where the markers are read.)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class _Grammar:
    """The units of one kind of value, and how its errors speak of it."""

    what: str
    example: str  # what was expected, for a value of the wrong type
    units: dict[str, float]  # unit -> bytes or seconds
    known: str  # the units, as an error lists them
    ambiguous: dict[str, str]  # a refused unit -> what to write instead


_SIZE = _Grammar(
    "size", 'a size such as "150 MB" or a number of bytes',
    {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3},
    "B, KB, MB, GB, KiB, MiB or GiB",
    {"k": "KiB (1024) or KB (1000)", "m": "MiB (1024²) or MB (1000²)", "g": "GiB or GB"},
)
_DURATION = _Grammar(
    "duration", 'a duration such as "0.5 s" or a number of seconds',
    {"": 1, "us": 1e-6, "ms": 0.001, "s": 1, "sec": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400},
    "us, ms, s, min, h, d or w",
    {"m": "min for minutes or ms for milliseconds"},
)
_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: object) -> int:
    """Bytes from an int (bytes) or a string such as ``"150 MB"`` or ``"64 KiB"``."""
    return int(_parse(value, _SIZE))


def parse_duration(value: object) -> float:
    """Seconds from a number (seconds) or a string such as ``"0.5 s"``, ``"200 ms"`` or ``"2 min"``."""
    return _parse(value, _DURATION)


def has_unit(text: str) -> bool:
    """True when ``text`` is a number followed by a unit (``"7d"``, ``"30 min"``; not ``"30"``)."""
    match = _NUMBER_UNIT.match(text)
    return bool(match and match.group(2))


def _parse(value: object, grammar: _Grammar) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected {grammar.example}, got {value!r}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = _NUMBER_UNIT.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a number with an optional unit")
        number, unit = float(match.group(1)), match.group(2).lower()
    if unit in grammar.ambiguous:
        raise ValueError(f"the unit {unit!r} in {value!r} is ambiguous: write {grammar.ambiguous[unit]}")
    if unit not in grammar.units:
        raise ValueError(f"unknown {grammar.what} unit {unit!r} (use {grammar.known})")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite {grammar.what}, got {value!r}")
    if number < 0:
        raise ValueError(f"a {grammar.what} cannot be negative, got {value!r}")
    return number * grammar.units[unit]


def format_size(n_bytes: float | None) -> str:
    """A short human size: ``"12.3 MB"``."""
    if n_bytes is None:
        return "-"
    sign = "-" if n_bytes < 0 else ""
    n = abs(float(n_bytes))
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" else f"{sign}{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def format_duration(seconds: float | None) -> str:
    """A short human duration: ``"12 ms"``, ``"1.25 s"``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"
