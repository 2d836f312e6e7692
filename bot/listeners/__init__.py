"""Wires every listener onto a Bolt `App`. Each module handles one Slack surface and exposes `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import (
    app_home,
    assessment,
    checkin_answers,
    errors,
    growth_command,
    growth_files,
    growth_log,
    ladder,
    leaders,
    reads,
    setup_view,
)


def register_listeners(app: App) -> None:
    errors.register(app)
    # First: Bolt tries each listener's matchers in the order registered, and answers (the modal's
    # submission, a DM reply) are the requests that come by the hundred at once, each ack waited
    # on. None of ladder's or growth_command's listeners matches them (commands and actions).
    checkin_answers.register(app)
    ladder.register(app)
    growth_command.register(app, rich_verbs={**growth_log.VERBS, **growth_files.VERBS, **assessment.VERBS,
                                                    **leaders.VERBS, **reads.VERBS},
                            ack_verbs=growth_log.ACK_VERBS)
    setup_view.register(app)
    growth_log.register(app)
    growth_files.register(app)
    app_home.register(app)
    assessment.register(app)
    leaders.register(app)
