"""`/growth reads` (who read my log) and `/growth reads weekly on|off` (the check-in DM's line)."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.reads import build_reads
from bot.growthlog.reads import WEEKLY_WORDS, my_reads, set_weekly_line
from bot.listeners.replies import say
from bot.services import Services

USAGE = "Try `/growth reads` (who read your log), or `/growth reads weekly off` / `on` (the line in your check-in DM)."
WEEKLY_ON = ("Your weekly check-in DM will say when someone read your log that week. "
             "`/growth reads weekly off` to leave it out.")
WEEKLY_OFF = ("Your weekly check-in DM will no longer say who read your log; every read is still listed in "
              "`/growth reads`. `/growth reads weekly on` to bring the line back.")


def reads_verb(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    words = rest.lower().split()
    if not words:
        say(respond, build_reads(my_reads(services.uow, team_id, user_id)))
        return
    if len(words) == 2 and words[0] == "weekly" and words[1] in WEEKLY_WORDS:
        on = WEEKLY_WORDS[words[1]]
        set_weekly_line(services.uow, team_id, user_id, on)
        say(respond, WEEKLY_ON if on else WEEKLY_OFF)
        return
    say(respond, USAGE)


# The /growth verbs this feature answers (see growth_command.register).
VERBS = {"reads": reads_verb}
