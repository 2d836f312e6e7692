"""Wires every listener onto a Bolt `App`. Each module handles one Slack surface and exposes `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import checkin_answers, errors, growth_command, ladder, setup_view


def register_listeners(app: App) -> None:
    errors.register(app)
    ladder.register(app)
    growth_command.register(app)
    checkin_answers.register(app)
    setup_view.register(app)
