"""Reading a growth log: check-ins with their answers, newest first, a page at a time.

One indexed query per page (the page's check-ins joined to their answers), whatever the size of
the log, reading plain rows rather than ORM objects. Private answers are left out unless the
reader is the engineer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import BindParameter, Integer, Select, bindparam, exists, select
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


@dataclass(frozen=True)
class WeekSent:
    """A check-in without its answers: when it went out, and whether it holds a shared answer."""

    id: int
    week_start: date
    status: str
    sent_at: datetime | None
    due_at: datetime
    shared: bool


# The columns a page shows, check-in first, in the order `_group` reads them.
_ROW = select(
    CheckIn.id, CheckIn.week_start, CheckIn.sent_at, CheckIn.status, CheckIn.questions,
    Answer.id, Answer.question_id, Answer.question_text, Answer.text, Answer.source, Answer.is_private,
    Answer.created_at, Answer.updated_at,
).join(Answer, Answer.checkin_id == CheckIn.id)
_NEWEST_WEEK_FIRST = (CheckIn.week_start.desc(), Answer.created_at, Answer.id)


def read_log(session: Session, engineer_id: int, *, include_private: bool, since: datetime | None = None,
             last: int | None = None, page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """One page of check-ins that have visible answers, newest week first.

    `since` keeps answers written from then on; `last` keeps the N most recent check-ins.
    """
    window = page_size
    offset = page * page_size
    if last is not None:
        window = max(0, min(page_size, last - offset))
    if not window:
        return LogPage((), page, False)
    # One more check-in than the page shows says whether there is an older page.
    rows = session.execute(_page_statement(include_private, since is not None),
                           {"engineer_id": engineer_id, "since": since, "offset": offset, "limit": window + 1})
    checkins = _group(rows)
    has_more = len(checkins) > window and (last is None or offset + window < last)
    return LogPage(tuple(checkins[:window]), page, has_more)


def _literal(name: str):
    # Written into the SQL at execution rather than sent as a parameter: PostgreSQL re-plans a
    # prepared statement on every run when its LIMIT is a parameter (its generic plan, not
    # knowing the limit, looks costlier than the custom ones), and planning this query costs
    # more than running it. Page sizes and offsets are few, so the statements stay few too.
    return bindparam(name, type_=Integer(), literal_execute=True)


@cache
def _page_statement(include_private: bool, with_since: bool) -> Select:
    # Built once per shape, with bound parameters: building the statement cost more than running it.
    visible = _visible(include_private, bindparam("since", type_=Answer.created_at.type) if with_since else None)
    if with_since:
        # The weeks with answers written since then, found through (engineer_id, created_at):
        # an EXISTS per week would probe every older week of the log before giving up.
        with_answers = CheckIn.id.in_(
            select(Answer.checkin_id).where(Answer.engineer_id == bindparam("engineer_id"), *visible))
    else:
        # Newest week backwards along (engineer_id, week_start), stopping once the page is full.
        with_answers = exists(select(Answer.id).where(Answer.checkin_id == CheckIn.id, *visible))
    page_ids = (select(CheckIn.id).where(CheckIn.engineer_id == bindparam("engineer_id"), with_answers)
                .order_by(CheckIn.week_start.desc()).offset(_literal("offset")).limit(_literal("limit")))
    return _ROW.where(CheckIn.id.in_(page_ids), *visible).order_by(*_NEWEST_WEEK_FIRST)


def read_all(session: Session, engineer_id: int, *, include_private: bool) -> list[LoggedCheckin]:
    """The whole log (for export), newest first."""
    rows = session.execute(_ROW.where(CheckIn.engineer_id == engineer_id, *_visible(include_private, None))
                           .order_by(*_NEWEST_WEEK_FIRST))
    return _group(rows)


def recent_weeks(session: Session, engineer_id: int, limit: int, sent_from: datetime) -> list[WeekSent]:
    """Of the engineer's last `limit` check-ins (newest week first), those sent, or due if unsent,
    at or after `sent_from`, each saying whether it holds a shared (not private) answer. One query."""
    rows = session.execute(_RECENT_WEEKS, {"engineer_id": engineer_id, "limit": limit, "sent_from": sent_from})
    return [WeekSent(*row) for row in rows]


_SENT_FROM = bindparam("sent_from", type_=CheckIn.sent_at.type)
_RECENT_WEEKS = (
    select(CheckIn.id, CheckIn.week_start, CheckIn.status, CheckIn.sent_at, CheckIn.due_at,
           exists(select(Answer.id).where(Answer.checkin_id == CheckIn.id, Answer.is_private.is_(False))))
    .where(CheckIn.id.in_(select(CheckIn.id).where(CheckIn.engineer_id == bindparam("engineer_id"))
                          .order_by(CheckIn.week_start.desc()).limit(_literal("limit"))),
           (CheckIn.sent_at >= _SENT_FROM) | (CheckIn.sent_at.is_(None) & (CheckIn.due_at >= _SENT_FROM)))
    .order_by(CheckIn.week_start.desc())
)


def _visible(include_private: bool, since: datetime | BindParameter | None) -> list:
    conditions = []
    if not include_private:
        conditions.append(Answer.is_private.is_(False))
    if since is not None:
        conditions.append(Answer.created_at >= since)
    return conditions


def _group(rows) -> list[LoggedCheckin]:
    """Rows of `_ROW`, ordered by week, → one LoggedCheckin per check-in, answers in the order asked."""
    checkins: list[LoggedCheckin] = []
    current = None
    entries: list[tuple] = []
    for row in rows:
        if current is None or row[0] != current[0]:
            if current is not None:
                checkins.append(_logged(current, entries))
            current, entries = row, []
        entries.append(row)
    if current is not None:
        checkins.append(_logged(current, entries))
    return checkins


def _logged(checkin: tuple, rows: list[tuple]) -> LoggedCheckin:
    checkin_id, week_start, sent_at, status, questions = checkin[:5]
    questions = questions or []
    order = {q["id"]: i for i, q in enumerate(questions)}
    rows = sorted(rows, key=lambda r: (order.get(r[6], len(order)), r[11]))
    return LoggedCheckin(
        checkin_id=checkin_id,
        week_start=week_start,
        sent_at=sent_at,
        status=status,
        asked=tuple(q["text"] for q in questions),
        entries=tuple(Entry(r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12] != r[11]) for r in rows),
    )
