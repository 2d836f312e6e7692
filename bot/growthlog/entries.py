"""Reading a growth log: check-ins with their answers, newest first, a page at a time.

Two indexed queries per page (the page's check-ins, then their answers), whatever the size of
the log. Private answers are left out unless the reader is the engineer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from storage.models import Answer, CheckIn

PAGE_SIZE = 5


@dataclass(frozen=True)
class Entry:
    answer_id: int
    question_id: str | None
    question: str
    text: str
    source: str
    private: bool
    written_at: datetime
    edited: bool


@dataclass(frozen=True)
class LoggedCheckin:
    checkin_id: int
    week_start: date
    sent_at: datetime | None
    status: str
    asked: tuple[str, ...]        # the questions as asked
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class LogPage:
    checkins: tuple[LoggedCheckin, ...]
    page: int
    has_more: bool


def read_log(session: Session, engineer_id: int, *, include_private: bool, since: datetime | None = None,
             last: int | None = None, page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """One page of check-ins that have visible answers, newest week first.

    `since` keeps answers written from then on; `last` keeps the N most recent check-ins.
    """
    visible = select(Answer.id).where(Answer.checkin_id == CheckIn.id)
    if not include_private:
        visible = visible.where(Answer.is_private.is_(False))
    if since is not None:
        visible = visible.where(Answer.created_at >= since)
    query = (select(CheckIn).where(CheckIn.engineer_id == engineer_id, exists(visible))
             .order_by(CheckIn.week_start.desc()))
    window = page_size
    offset = page * page_size
    if last is not None:
        window = max(0, min(page_size, last - offset))
    checkins = list(session.scalars(query.offset(offset).limit(window + 1))) if window else []
    has_more = len(checkins) > window and (last is None or offset + window < last)
    checkins = checkins[:window]
    answers = _answers_for(session, [c.id for c in checkins], include_private, since)
    return LogPage(tuple(_logged(c, answers.get(c.id, [])) for c in checkins), page, has_more)


def read_all(session: Session, engineer_id: int, *, include_private: bool) -> list[LoggedCheckin]:
    """The whole log (for export), newest first."""
    checkins = list(session.scalars(select(CheckIn).where(CheckIn.engineer_id == engineer_id)
                                    .order_by(CheckIn.week_start.desc())))
    answers = _answers_for(session, [c.id for c in checkins], include_private, None)
    return [_logged(c, answers[c.id]) for c in checkins if c.id in answers]


def _answers_for(session: Session, checkin_ids: list[int], include_private: bool,
                 since: datetime | None) -> dict[int, list[Answer]]:
    grouped: dict[int, list[Answer]] = {}
    if not checkin_ids:
        return grouped
    query = select(Answer).where(Answer.checkin_id.in_(checkin_ids)).order_by(Answer.created_at, Answer.id)
    if not include_private:
        query = query.where(Answer.is_private.is_(False))
    if since is not None:
        query = query.where(Answer.created_at >= since)
    for answer in session.scalars(query):
        grouped.setdefault(answer.checkin_id, []).append(answer)
    return grouped


def _logged(checkin: CheckIn, answers: list[Answer]) -> LoggedCheckin:
    order = {q["id"]: i for i, q in enumerate(checkin.questions or [])}
    answers = sorted(answers, key=lambda a: (order.get(a.question_id, len(order)), a.created_at))
    return LoggedCheckin(
        checkin_id=checkin.id,
        week_start=checkin.week_start,
        sent_at=checkin.sent_at,
        status=checkin.status,
        asked=tuple(q["text"] for q in checkin.questions or []),
        entries=tuple(Entry(a.id, a.question_id, a.question_text, a.text, a.source, a.is_private,
                            a.created_at, a.updated_at != a.created_at) for a in answers),
    )
