"""``[tool.testwatch.thresholds]``: the limits a run is checked against, parsed and validated."""

from __future__ import annotations

from dataclasses import dataclass, field

from testwatch.config.units import parse_duration, parse_size

# name -> parser; sizes are bytes, durations seconds, coverage a percentage.
LIMIT_KEYS = {
    "peak_memory": parse_size,
    "retained_memory": parse_size,
    "leaked_memory": parse_size,
    "call_duration": parse_duration,
    "p95_duration": parse_duration,
    "coverage": None,  # percent, checked below
}


def _percent(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {value!r}")
    return float(value)


def _limits(table: dict, where: str) -> dict[str, float]:
    limits = {}
    for key, raw in table.items():
        if key not in LIMIT_KEYS:
            known = ", ".join(LIMIT_KEYS)
            raise ValueError(f"{where}{key}: unknown threshold (known: {known})")
        parse = LIMIT_KEYS[key] or _percent
        try:
            limits[key] = parse(raw)
        except ValueError as exc:
            raise ValueError(f"{where}{key}: {exc}") from None
    return limits


@dataclass
class Thresholds:
    """Global limits, per-path coverage limits and per-marker overrides."""

    limits: dict[str, float] = field(default_factory=dict)
    paths: dict[str, float] = field(default_factory=dict)
    markers: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def on_coverage(self) -> bool:
        """True when a total or per-path coverage limit is set (a run must measure coverage)."""
        return "coverage" in self.limits or bool(self.paths)

    def for_markers(self, markers: list[str]) -> dict[str, float]:
        """The limits that apply to a test with these markers (marker overrides win)."""
        merged = dict(self.limits)
        for marker in markers:
            merged.update(self.markers.get(marker, {}))
        return merged


def parse_thresholds(table: dict) -> Thresholds:
    """Validate the raw TOML table; a bad value raises ValueError naming the key."""
    table = dict(table)
    paths = table.pop("paths", {})
    markers = table.pop("markers", {})
    if not isinstance(paths, dict):
        raise ValueError("paths: expected a table of glob = percent")
    if not isinstance(markers, dict) or not all(isinstance(v, dict) for v in markers.values()):
        raise ValueError("markers: expected tables such as [tool.testwatch.thresholds.markers.slow]")
    result = Thresholds(limits=_limits(table, ""))
    for glob, raw in paths.items():
        try:
            result.paths[glob] = _percent(raw)
        except ValueError as exc:
            raise ValueError(f"paths.{glob!r}: {exc}") from None
    for marker, limits in markers.items():
        result.markers[marker] = _limits(limits, f"markers.{marker}.")
    return result
