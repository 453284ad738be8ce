"""Sizes and durations as users write them."""

import pytest

from testwatch.config.units import format_duration, format_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("150 MB", 150_000_000), ("64 KiB", 65536), ("1GiB", 1024**3), (2048, 2048), ("10", 10),
     ("1.5 kb", 1500)],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.5 s", 0.5), ("200 ms", 0.2), ("2 min", 120.0), (3, 3.0), ("1e-3s", 0.001)],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["fast", "10 parsecs", True, None, [1], "-1 s"])
def test_bad_durations_raise(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize("bad", ["big", "3 furlongs", False, "-5 MB"])
def test_bad_sizes_raise(bad):
    with pytest.raises(ValueError):
        parse_size(bad)


def test_formatting():
    assert format_size(1_500_000) == "1.5 MB"
    assert format_size(-2_000) == "-2.0 KB"
    assert format_size(None) == "-"
    assert format_duration(0.012) == "12 ms"
    assert format_duration(1.25) == "1.25 s"
    assert format_duration(600) == "10.0 min"
