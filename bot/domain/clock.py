"""Parsing of the days and times people type (`fri`, `16:00`, `4pm`)."""

from __future__ import annotations

import re
from datetime import time

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ABBREVIATIONS = {"tues": 1, "tu": 1, "weds": 2, "thur": 3, "thurs": 3, "th": 3}
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def parse_weekday(text: str) -> int | None:
    """0 = Monday … 6 = Sunday, from a full name or any unambiguous prefix of 2+ letters."""
    word = text.strip().lower().rstrip(".")
    if word in _WEEKDAY_ABBREVIATIONS:
        return _WEEKDAY_ABBREVIATIONS[word]
    if len(word) < 2:
        return None
    matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def parse_clock(text: str) -> time | None:
    """`16:00`, `9:30`, `4pm`, `4:30 pm` → a time; None if it is not a real time of day."""
    match = _TIME.match(text.strip().lower())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def format_clock(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def weekday_name(index: int) -> str:
    return WEEKDAYS[index].capitalize()
