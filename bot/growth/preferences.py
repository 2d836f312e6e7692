"""Changing an engineer's check-in preferences from what they typed; plain Python, no Slack.

Every function validates first and changes nothing on bad input, returning a `Change` whose
message says what was wrong and what would work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.blocks.text import escape
from bot.catalog.model import Catalog, Level
from bot.domain.clock import format_clock, parse_clock, parse_weekday, weekday_name
from bot.domain.numbers import strict_int
from bot.ladder.resolve import Resolver

MAX_PAUSE_WEEKS = 52


@dataclass(frozen=True)
class Change:
    ok: bool
    message: str


def resolve_level(text: str, resolver: Resolver, catalog: Catalog, framework_id: str | None = None
                  ) -> tuple[Level | None, str]:
    """The level an engineer means, or None with a helpful sentence."""
    text = text.strip()
    if not text:
        return None, "Tell me your level, e.g. `/growth level senior` (any name `/ladder` knows)."
    framework = catalog.framework(framework_id) if framework_id else None
    levels = resolver.levels(text, framework)
    if not levels and framework is not None:
        levels = [eq for lvl in resolver.levels(text) for eq in catalog.equivalents(lvl)
                  if eq.framework_id == framework.id]
    if levels:
        return levels[0], ""
    suggestions = resolver.suggestions(text)
    hint = f" Did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else ""
    where = f" in {framework.name}" if framework else ""
    return None, f"I don't know a level called “{escape(text)}”{where}.{hint} `/ladder help` lists every level."


def no_questions_message(level: Level) -> str:
    return (f"{level.name} has no reflection questions in this org's content, and the crosswalk maps it "
            "to no stage that has some, so check-ins would be empty. Pick another level, or ask an "
            "admin to add it to content/crosswalk.yaml.")


def set_level(engineer, level: Level, catalog: Catalog) -> Change:
    source, questions = catalog.reflection_questions(level)
    if not questions:
        return Change(False, no_questions_message(level))
    engineer.framework_id, engineer.level_id = level.framework_id, level.id
    fw = catalog.framework(level.framework_id)
    via = "" if source is level else f" You'll reflect with the {source.name} questions ({catalog.framework(source.framework_id).name})."
    return Change(True, f"Your level is now *{level.name}* ({fw.name}).{via}")


_SCHEDULE = re.compile(r"^(?P<day>[a-zA-Z.]+)\s+(?:at\s+)?(?P<time>.+)$")


def set_schedule(engineer, text: str) -> Change:
    match = _SCHEDULE.match(text.strip())
    day = parse_weekday(match.group("day")) if match else None
    clock = parse_clock(match.group("time")) if match else None
    if day is None or clock is None:
        problems = []
        if not match:
            problems.append("I need a weekday and a time")
        else:
            if day is None:
                problems.append(f"“{escape(match.group('day'))}” is not a weekday")
            if clock is None:
                problems.append(f"“{escape(match.group('time'))}” is not a time of day (use 24-hour HH:MM)")
        sentence = "; ".join(problems)
        return Change(False, f"{sentence[0].upper()}{sentence[1:]}. Try `/growth schedule fri 16:00` "
                             "(your local time). Nothing was changed.")
    engineer.checkin_weekday, engineer.checkin_time = day, format_clock(clock)
    return Change(True, f"Check-ins now arrive on *{weekday_name(day)}s at {format_clock(clock)}*, your local time.")


def pause(engineer, text: str, now: datetime) -> Change:
    words = text.strip().lower().split()
    if not words:
        engineer.paused_until = datetime(9999, 12, 31, tzinfo=now.tzinfo)
        return Change(True, "Check-ins are paused until you `/growth resume`. Your log is kept.")
    weeks = strict_int(words[0], 1, MAX_PAUSE_WEEKS)
    if len(words) <= 2 and (len(words) == 1 or words[1] in ("week", "weeks", "w")):
        if weeks is not None:
            engineer.paused_until = now + timedelta(weeks=weeks)
            return Change(True, f"Check-ins are paused for {weeks} week{'s' if weeks != 1 else ''}. "
                                "`/growth resume` brings them back sooner.")
    return Change(False, f"Pause for how long? `/growth pause` (until you resume) or `/growth pause 2 weeks` "
                         f"(1 to {MAX_PAUSE_WEEKS}). Nothing was changed.")


def resume(engineer, now: datetime) -> Change:
    was_paused = engineer.paused_until is not None and engineer.paused_until > now
    if was_paused:
        # "Paused until now", not None: a check-in whose moment passed during the pause stays
        # skipped (the due pass skips moments before `paused_until`), as it would had the pause
        # simply run out; `/growth now` still sends this week's on request.
        engineer.paused_until = now
    return Change(True, "Welcome back: check-ins are on again." if was_paused else "Check-ins were not paused.")


def set_reminders(engineer, text: str) -> Change:
    word = text.strip().lower()
    if word in ("on", "yes", "true"):
        engineer.reminders_enabled = True
        return Change(True, "Reminders are on: one nudge if a check-in is still unanswered.")
    if word in ("off", "no", "false"):
        engineer.reminders_enabled = False
        return Change(True, "Reminders are off.")
    return Change(False, "Use `/growth reminders on` or `/growth reminders off`.")


def set_question_count(engineer, value: int, limit: int = 10) -> Change:
    if not 1 <= value <= limit:
        return Change(False, f"Questions per check-in must be 1 to {limit}.")
    engineer.questions_per_checkin = value
    return Change(True, f"Each check-in will ask {value} question{'s' if value != 1 else ''}.")
