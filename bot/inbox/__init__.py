"""Slack deliveries written down before they are acknowledged (see `bot.inbox.intake`)."""
