"""Parse and format the sizes and durations users write in config ("150 MB", "0.5 s")."""

from __future__ import annotations

import math
import re

_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
    "k": 1024, "m": 1024**2, "g": 1024**3,
}
_DURATION_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "us": 1e-6, "m": 60.0, "min": 60.0}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def _split(value: str) -> tuple[float, str]:
    match = _NUMBER_UNIT.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a number with an optional unit")
    return float(match.group(1)), match.group(2).lower()


def parse_size(value: object) -> int:
    """Bytes from an int (bytes) or a string such as ``"150 MB"`` or ``"64 KiB"``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a size such as \"150 MB\" or a number of bytes, got {value!r}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        number, unit = _split(value)
    if unit not in _SIZE_UNITS:
        raise ValueError(f"unknown size unit {unit!r} (use B, KB, MB, GB, KiB, MiB or GiB)")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite size, got {value!r}")
    if number < 0:
        raise ValueError(f"a size cannot be negative, got {value!r}")
    return int(number * _SIZE_UNITS[unit])


def parse_duration(value: object) -> float:
    """Seconds from a number (seconds) or a string such as ``"0.5 s"`` or ``"200 ms"``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a duration such as \"0.5 s\" or a number of seconds, got {value!r}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        number, unit = _split(value)
    if unit not in _DURATION_UNITS:
        raise ValueError(f"unknown duration unit {unit!r} (use ms, s or min)")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite duration, got {value!r}")
    if number < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return number * _DURATION_UNITS[unit]


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
