"""`growth-bot checkins …` and `growth-bot org …` (filled in by the check-in and log features)."""

from __future__ import annotations


def add_commands(commands) -> None:
    """Register the growth sub-commands on the top-level parser."""
