"""`growth-bot workspace …`: the workspaces of a multi-workspace install."""

from __future__ import annotations


def add_commands(commands) -> None:
    """Registers nothing yet."""
