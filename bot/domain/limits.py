"""Limits shared by what the bot shows and what it accepts."""

# The answer modal's max_length (Block Kit allows 3,000 for a plain_text_input). Slack's client
# enforces it; a crafted request is not Slack's client, so the server checks it too.
ANSWER_MAX_LENGTH = 3000
