"""Strict integers: what Slack can send, what the database can hold."""

import pytest

from bot.domain.numbers import INT64_MAX, INT64_MIN, strict_int


@pytest.mark.parametrize("value, expected", [
    ("0", 0), ("7", 7), ("0042", 42), ("-3", -3), (5, 5), (-5, -5),
    (str(INT64_MAX), INT64_MAX), (str(INT64_MIN), INT64_MIN), (INT64_MAX, INT64_MAX),
])
def test_ascii_digits_and_json_integers_are_read(value, expected):
    assert strict_int(value) == expected


@pytest.mark.parametrize("value", [
    "²", "٣", "５", "1²", "", "-", "+5", " 5", "5 ", "5_000", "1e3", "0x10", "5.0", "--5", "5\n",
    str(INT64_MAX + 1), str(INT64_MIN - 1), "9" * 20, "9" * 5000, INT64_MAX + 1, 2 ** 200,
    True, False, None, 5.0, [5], {"a": 5}, b"5",
])
def test_anything_else_is_none(value):
    assert strict_int(value) is None


def test_bounds_are_inclusive_and_never_wider_than_the_database():
    assert strict_int("1", low=1, high=52) == 1
    assert strict_int("52", low=1, high=52) == 52
    assert strict_int("53", low=1, high=52) is None
    assert strict_int("0", low=1) is None
    assert strict_int(str(INT64_MAX + 1), high=2 ** 100) is None
