"""`growth-bot keys …`: encryption keys for what engineers write."""

from __future__ import annotations


def add_commands(commands) -> None:
    """Registers nothing yet."""
