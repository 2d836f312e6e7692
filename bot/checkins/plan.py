"""An engineer's effective check-in plan: their own choices over the workspace defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.catalog.model import Catalog, Level, Question
from bot.domain.clock import parse_clock
from bot.domain.rotation import pool_key
from bot.domain.schedule import Slot, current_slot, zone
from bot.settings import Settings


@dataclass(frozen=True)
class Plan:
    weekday: int
    clock: time
    tz: ZoneInfo
    questions_per_checkin: int
    reminders: bool
    paused_until: datetime | None

    def slot(self, now: datetime) -> Slot:
        return current_slot(now, self.weekday, self.clock, self.tz)

    def paused_at(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now


def plan_for(engineer, settings: Settings) -> Plan:
    """`engineer` is a storage Engineer (or anything with the same attributes)."""
    clock = parse_clock(engineer.checkin_time) if engineer.checkin_time else None
    return Plan(
        weekday=engineer.checkin_weekday if engineer.checkin_weekday is not None else settings.checkin_day,
        clock=clock or settings.checkin_time,
        tz=zone(engineer.tz),
        questions_per_checkin=engineer.questions_per_checkin or settings.questions_per_checkin,
        reminders=engineer.reminders_enabled,
        paused_until=engineer.paused_until,
    )


@dataclass(frozen=True)
class QuestionPool:
    level: Level            # the engineer's own level
    source: Level | None    # whose questions are asked (the level itself, or its crosswalk stage)
    questions: tuple[Question, ...]

    @property
    def key(self) -> str:
        return pool_key(self.source.key if self.source else "", [q.id for q in self.questions])


def pool_for(catalog: Catalog, framework_id: str | None, level_id: str | None) -> QuestionPool | None:
    """The engineer's question pool; None if their level is unknown (e.g. content changed)."""
    level = catalog.level(framework_id or "", level_id or "")
    if level is None:
        return None
    source, questions = catalog.reflection_questions(level)
    return QuestionPool(level, source, questions)


def question_payload(question: Question) -> dict:
    """How a question is stored with a check-in: the text as asked, whatever content changes later."""
    return {"id": question.id, "text": question.text, "kind": question.kind}
