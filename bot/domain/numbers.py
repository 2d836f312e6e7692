"""Whole numbers from Slack, read strictly: whatever a request carries, a number or None.

`str.isdigit()` says yes to "²" and "٣", which `int()` then refuses or reads as another digit,
and `int()` takes "+5", " 5 ", "5_000" and numbers no database column can hold. Every integer
that arrives from Slack (command arguments, button values, `private_metadata`) goes through
`strict_int`, so a crafted value gets the same polite refusal as any other bad value instead of
an exception.
"""

from __future__ import annotations

import re

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1   # BIGINT on PostgreSQL, INTEGER on SQLite
_DIGITS = re.compile(r"-?[0-9]{1,19}")  # 19 digits hold every int64; longer is out of range anyway


def strict_int(value: object, low: int = INT64_MIN, high: int = INT64_MAX) -> int | None:
    """`value` as an int if it is ASCII digits (optionally after a "-") or a JSON integer, and
    within `low`..`high` (default: the signed 64-bit range); otherwise None. Never raises."""
    if isinstance(value, bool):
        return None  # JSON true/false are not numbers, though Python's bool is an int
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    low, high = max(low, INT64_MIN), min(high, INT64_MAX)
    return number if low <= number <= high else None
