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
    [("0.5 s", 0.5), ("200 ms", 0.2), ("2 min", 120.0), (3, 3.0), ("1e-3s", 0.001), ("12h", 43200.0),
     ("7d", 604800.0), ("1 w", 604800.0), ("30 MIN", 1800.0), ("5 sec", 5.0)],
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


@pytest.mark.parametrize("text", ["5m", "5 M", "0.5m"])
def test_a_bare_m_is_refused_as_a_duration_with_what_to_write(text):
    with pytest.raises(ValueError, match=r"the unit 'm' in .* is ambiguous: write min for minutes or ms"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "advice"), [("5m", "MiB"), ("64 M", "MiB"), ("64k", "KiB"), ("2 G", "GiB")])
def test_one_letter_sizes_are_refused_with_what_to_write(text, advice):
    with pytest.raises(ValueError, match=f"is ambiguous: write {advice}"):
        parse_size(text)


def test_a_unit_means_one_thing_everywhere():
    with pytest.raises(ValueError, match="unknown size unit 'min'"):
        parse_size("5 min")
    with pytest.raises(ValueError, match="unknown duration unit 'mb'"):
        parse_duration("5 MB")


@pytest.mark.parametrize("value", [0, 0.004, 0.5, 1.25, 119, 600, 7200])
def test_printed_durations_parse_back(value):
    assert parse_duration(format_duration(value)) == pytest.approx(value, rel=0.05, abs=0.001)


@pytest.mark.parametrize("value", [0, 999, 1_500_000, 3 * 1000**3])
def test_printed_sizes_parse_back(value):
    assert parse_size(format_size(value)) == pytest.approx(value, rel=0.05)


def test_formatting():
    assert format_size(1_500_000) == "1.5 MB"
    assert format_size(-2_000) == "-2.0 KB"
    assert format_size(None) == "-"
    assert format_duration(0.012) == "12 ms"
    assert format_duration(1.25) == "1.25 s"
    assert format_duration(600) == "10.0 min"
