"""A leader's team reflection, as plain values: which questions, when, and what `/growth lead …` asks.

The questions are the leaders' document's own (the framework-wide questions of a framework of
themes, `content/execution.yaml`), each with the theme whose text asks it, so the DM can open
that theme (`/ladder <theme>`). Nothing is added to them: a document that asks no questions
gives no team reflection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.blocks.text import escape
from bot.catalog.model import Catalog
from bot.domain.clock import format_clock, parse_clock, parse_weekday, weekday_name
from bot.domain.schedule import Slot, current_slot, zone

MAX_EVERY_WEEKS = 4
USAGE = ("`/growth lead on`, `/growth lead off`, `/growth lead every 2 weeks` (or `every week`), "
         "`/growth lead mon 09:30` (your local time), `/growth lead default` (your check-in's day and time)")


@dataclass(frozen=True)
class LeaderQuestion:
    id: str
    text: str
    kind: str
    framework_id: str
    theme_id: str | None
    theme_title: str | None

    def payload(self) -> dict:
        """How it is stored with the reflection (as asked, whatever the content does later)."""
        return {"id": self.id, "text": self.text, "kind": self.kind, "theme": self.theme_id,
                "theme_title": self.theme_title, "framework": self.framework_id}


def leader_questions(catalog: Catalog) -> tuple[LeaderQuestion, ...]:
    """The questions leaders reflect with, in the document's order, each with its theme."""

    def build() -> tuple[LeaderQuestion, ...]:
        found = []
        for framework in catalog.frameworks:
            themes = framework.themes()
            if not themes or not framework.questions:
                continue
            for question in framework.questions:
                theme = next((t for t in themes if any(question.text in p for p in t.paragraphs)), None)
                found.append(LeaderQuestion(question.id, question.text, question.kind, framework.id,
                                            theme.id if theme else None, theme.title if theme else None))
        return tuple(found)

    return catalog.derived("leader_questions", build)


def pool_key(questions: tuple[LeaderQuestion, ...]) -> str:
    return "|".join(f"{q.framework_id}/{q.id}" for q in questions)


@dataclass(frozen=True)
class LeadPlan:
    weekday: int
    clock: time
    tz: ZoneInfo
    every_weeks: int
    since: date | None

    def slot(self, now: datetime) -> Slot:
        return current_slot(now, self.weekday, self.clock, self.tz)

    def is_due_week(self, week_start: date) -> bool:
        """Every N weeks counted from the week it was turned on (weekly: every week)."""
        if self.every_weeks <= 1 or self.since is None:
            return True
        return ((week_start - self.since).days // 7) % self.every_weeks == 0


def lead_plan(engineer, checkin_weekday: int, checkin_clock: time) -> LeadPlan:
    """`engineer`: a storage Engineer; the check-in's day and time are the defaults."""
    clock = parse_clock(engineer.lead_time) if engineer.lead_time else None
    return LeadPlan(
        weekday=engineer.lead_weekday if engineer.lead_weekday is not None else checkin_weekday,
        clock=clock or checkin_clock,
        tz=zone(engineer.tz),
        every_weeks=max(1, engineer.lead_every_weeks or 1),
        since=engineer.lead_since,
    )


def cadence_text(every_weeks: int) -> str:
    return "every week" if every_weeks <= 1 else ("every other week" if every_weeks == 2 else f"every {every_weeks} weeks")


def schedule_text(plan: LeadPlan) -> str:
    return f"{weekday_name(plan.weekday)}s at {format_clock(plan.clock)} ({plan.tz.key}), {cadence_text(plan.every_weeks)}"


# -- what `/growth lead …` asks for ------------------------------------------------------------

@dataclass(frozen=True)
class LeadRequest:
    """`kind`: status | on | off | every | schedule | default | unclear (with `problem`)."""

    kind: str
    every_weeks: int | None = None
    weekday: int | None = None
    clock: time | None = None
    problem: str | None = None


_EVERY = re.compile(r"^every\s+(?:(?P<n>\S+)\s+)?(?P<unit>weeks?)$")
def read_day_and_time(day_text: str, time_text: str) -> tuple[int | None, time | None, str | None]:
    """(weekday, clock, None), or a sentence saying which of the two could not be read."""
    day, clock = parse_weekday(day_text), parse_clock(time_text)
    problems = []
    if day is None:
        problems.append(f"“{escape(day_text)}” is not a weekday")
    if clock is None:
        problems.append(f"“{escape(time_text)}” is not a time of day (use 24-hour HH:MM)")
    if not problems:
        return day, clock, None
    sentence = "; ".join(problems)
    return day, clock, f"{sentence[0].upper()}{sentence[1:]}."


_SCHEDULE = re.compile(r"^(?P<day>[a-z.]+)\s+(?:at\s+)?(?P<time>.+)$")
_WORDS = {"1": 1, "one": 1, "2": 2, "two": 2, "other": 2, "3": 3, "three": 3, "4": 4, "four": 4}


def parse_lead(text: str) -> LeadRequest:
    words = " ".join(text.lower().split())
    if words in ("", "status", "help"):
        return LeadRequest("status")
    if words in ("on", "start", "yes"):
        return LeadRequest("on")
    if words in ("off", "stop", "no"):
        return LeadRequest("off")
    if words in ("default", "reset"):
        return LeadRequest("default")
    if words in ("weekly", "every week"):
        return LeadRequest("every", every_weeks=1)
    if words in ("biweekly", "fortnightly", "every other week"):
        return LeadRequest("every", every_weeks=2)
    every = _EVERY.match(words)
    if every:
        count = _WORDS.get(every.group("n") or "1")
        if count is None:
            return LeadRequest("unclear", problem=(f"“{escape(every.group('n'))}” isn't a number of weeks I can "
                                                   f"use: every week, or every 2 to {MAX_EVERY_WEEKS} weeks."))
        return LeadRequest("every", every_weeks=count)
    if words.startswith("every"):
        return LeadRequest("unclear", problem=f"“{escape(text.strip())}” isn't a cadence I know: "
                                              f"every week, or every 2 to {MAX_EVERY_WEEKS} weeks.")
    schedule = _SCHEDULE.match(words)
    if schedule:
        day, clock, problem = read_day_and_time(schedule.group("day"), schedule.group("time"))
        if problem:
            return LeadRequest("unclear", problem=problem)
        return LeadRequest("schedule", weekday=day, clock=clock)
    return LeadRequest("unclear", problem=f"I don't know `/growth lead {escape(text.strip())}`.")
