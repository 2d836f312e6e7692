"""One outbox for every message the bot sends on its own (see `bot.outbox.sender`)."""
