"""Reading a growth log: check-ins with their answers, newest first, a page at a time.

One indexed statement per page (the page's check-ins joined to their answers), whatever the
size of the log. These are the reads people wait on (`/growth log`, `/growth prep`, the Home
tab): SQLAlchemy Core statements on the models' tables, run in the caller's `Session` (a
read-only one for a Slack request: storage.db.make_session_factory(readonly=True)), their rows
read by column name. The column types do the conversions (aware UTC datetimes, dates, JSON,
booleans) on both databases.

Private answers are left out unless the caller says to include them (the reader is the
engineer). Where a read checks access inside its statement, the rule is the caller's
(bot.growthlog.access writes it in Python and as a SQL condition, side by side).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, Select, bindparam, false, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnCollection

from storage.models import Answer, Assessment, CheckIn, Engineer, OneOnOne

PAGE_SIZE = 5

# A condition on an engineers row, given its columns (`table.c`): who may read that engineer's log.
OwnerRule = Callable[[ColumnCollection], ColumnElement[bool]]


# The values read here are NamedTuples, not frozen dataclasses: a page makes dozens.
class Entry(NamedTuple):
    answer_id: int
    question_id: str | None
    question: str
    text: str
    source: str
    private: bool
    written_at: datetime
    edited: bool


class LoggedCheckin(NamedTuple):
    checkin_id: int
    week_start: date
    sent_at: datetime | None
    status: str
    asked: tuple[str, ...]        # the questions as asked
    entries: tuple[Entry, ...]


class LogPage(NamedTuple):
    checkins: tuple[LoggedCheckin, ...]
    page: int
    has_more: bool


class SharedSince(NamedTuple):
    """Shared answers written since a point in time: the newest check-ins with them (a page), and
    every check-in that has one, for telling which weeks had nothing shared."""

    page: LogPage
    checkin_ids: frozenset[int]
    complete_from: date | None     # weeks before this one may hold answers not read (None: none)


class Person(NamedTuple):
    """An engineer's identity and settings, enough for the access rule and what a digest shows."""

    id: int
    team_id: str
    user_id: str
    manager_user_id: str | None
    tz: str
    framework_id: str | None
    level_id: str | None


class StoredAssessment(NamedTuple):
    """A self-assessment as stored (what a profile summary compares)."""

    framework_id: str
    picks: dict[str, Any]
    created_at: datetime


class PrepContext(NamedTuple):
    """What a 1:1 digest starts from: the report, the reader's time zone, the pair's last prep,
    the report's latest self-assessments."""

    report: Person
    reader_tz: str | None
    last_prep_at: datetime | None
    assessments: tuple[StoredAssessment, ...]     # newest first; only for whoever may have the digest


# The aliases the statements read through, made once: aliasing a table copies its columns,
# which cost more than building and running a page's statement.
_E, _M = Engineer.__table__.alias("e"), Engineer.__table__.alias("m")
_C, _C2 = CheckIn.__table__.alias("c"), CheckIn.__table__.alias("c2")
_A, _A2 = Answer.__table__.alias("a"), Answer.__table__.alias("a2")
_S = Assessment.__table__.alias("s")
_P = OneOnOne.__table__.alias("p")


def _person_columns(e) -> list:
    return [e.c.id, e.c.team_id, e.c.user_id, e.c.manager_user_id, e.c.tz, e.c.framework_id, e.c.level_id]


def _person(row: Row) -> Person:
    return Person(row.id, row.team_id, row.user_id, row.manager_user_id, row.tz, row.framework_id, row.level_id)


def _page_columns(c, a) -> list:
    """What a page shows, labelled as `_group` and `_logged` read them."""
    return [c.c.id.label("checkin_id"), c.c.week_start, c.c.sent_at, c.c.status, c.c.questions,
            a.c.id.label("answer_id"), a.c.question_id, a.c.question_text, a.c.text, a.c.source, a.c.is_private,
            a.c.created_at, a.c.updated_at]


def _newest_week_first(c, a) -> tuple:
    return c.c.week_start.desc(), a.c.created_at, a.c.id


def _literal(name: str, value: int):
    # LIMIT and OFFSET go into the statement's text, not as parameters: PostgreSQL re-plans a
    # prepared statement on every run when its LIMIT is a parameter (the generic plan, not
    # knowing it, looks costlier). Rendered at execution, so the compiled form is cached once.
    return bindparam(name, int(value), literal_execute=True)


def people(session: Session, team_id: str, *user_ids: str) -> dict[str, Person]:
    """The engineers with these Slack user ids (one or two) in `team_id`, by user id."""
    e = _E
    rows = session.execute(select(*_person_columns(e)).where(e.c.team_id == team_id, e.c.user_id.in_(user_ids)))
    return {row.user_id: _person(row) for row in rows}


def read_log(session: Session, engineer_id: int, *, include_private: bool, since: datetime | None = None,
             last: int | None = None, page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """One page of check-ins that have visible answers, newest week first.

    `since` keeps answers written from then on; `last` keeps the N most recent check-ins.
    """
    return _read_page(session, bindparam("engineer_id", engineer_id), include_private, since, last, page, page_size)


def read_log_as_reader(session: Session, team_id: str, owner_user_id: str, readable: OwnerRule, *,
                       include_private: bool, since: datetime | None = None, last: int | None = None,
                       page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """`read_log` of `owner_user_id` in `team_id`, in one statement, and nothing at all (an empty
    page) unless the owner's row meets `readable`.

    The access rule is written into the query, so the page needs no lookup first; an empty
    page does not say why it is empty, so the caller then asks `people` and the rule's Python
    form (tests/growthlog/test_log.py checks both forms agree).
    """
    e = _E
    whose = select(e.c.id).where(e.c.team_id == team_id, e.c.user_id == owner_user_id,
                                 readable(e.c)).scalar_subquery()
    return _read_page(session, whose, include_private, since, last, page, page_size)


def _read_page(session: Session, whose, include_private: bool, since: datetime | None, last: int | None,
               page: int, page_size: int) -> LogPage:
    window = page_size
    offset = page * page_size
    if last is not None:
        window = max(0, min(page_size, last - offset))
    if not window:
        return LogPage((), page, False)
    # One more check-in than the page shows says whether there is an older page.
    rows = session.execute(_page_statement(whose, include_private, since, window + 1, offset)).all()
    checkins, more = _group(rows, window)
    return LogPage(tuple(checkins), page, more and (last is None or offset + window < last))


def _page_statement(whose, include_private: bool, since: datetime | None, limit: int, offset: int) -> Select:
    c, a, c2, a2 = _C, _A, _C2, _A2
    if since is not None:
        # The weeks with answers written since then, found through (engineer_id, created_at)
        # and sorted: walking the engineer's weeks instead would read every week of the log
        # whenever fewer than a page's worth have such answers. (An answer's engineer_id is
        # its check-in's, copied by Answers.record; a check on c2.engineer_id here would make
        # SQLite walk the weeks again.)
        answered = select(a2.c.checkin_id).where(a2.c.engineer_id == whose, *_visible(a2, include_private, since))
        page_ids = [c2.c.id.in_(answered)]
    else:
        # Newest week backwards along (engineer_id, week_start), stopping once the page is full.
        page_ids = [c2.c.engineer_id == whose,
                    select(a2.c.id).where(a2.c.checkin_id == c2.c.id, *_visible(a2, include_private, since)).exists()]
    weeks = (select(c2.c.id).where(*page_ids).order_by(c2.c.week_start.desc())
             .limit(_literal("page_limit", limit)).offset(_literal("page_offset", offset)))
    return (select(*_page_columns(c, a)).select_from(c.join(a, a.c.checkin_id == c.c.id))
            .where(c.c.id.in_(weeks), *_visible(a, include_private, since))
            .order_by(*_newest_week_first(c, a)))


def _visible(a, include_private: bool, since: datetime | None) -> list:
    conditions = []
    if not include_private:
        conditions.append(a.c.is_private == false())
    if since is not None:
        conditions.append(a.c.created_at >= since)
    return conditions


def read_shared_since(session: Session, engineer_id: int, since: datetime, checkins: int,
                      row_cap: int = 1000) -> SharedSince:
    """The newest `checkins` check-ins with shared answers written since `since`, with those
    answers (what a 1:1 digest shows), whether there are more, and which check-ins have any.

    `read_log(..., since=...)` says the same in two passes (find the page's weeks, then their
    answers); the digest's window is a few weeks, so one pass over the window's answers and
    grouping here costs less. `row_cap` only bounds a pathological window: should it be
    reached, the last, possibly partial, check-in is left for `/growth log`, "more" is said,
    and `complete_from` says from which week on `checkin_ids` is whole.
    """
    c, a = _C, _A
    statement = (select(*_page_columns(c, a)).select_from(a.join(c, c.c.id == a.c.checkin_id))
                 .where(a.c.engineer_id == engineer_id, a.c.created_at >= since, a.c.is_private == false(),
                        c.c.engineer_id == engineer_id)
                 .order_by(*_newest_week_first(c, a))
                 .limit(_literal("row_limit", row_cap + 1)))   # one row past the cap says whether it cut
    rows = session.execute(statement).all()
    capped = len(rows) > row_cap
    rows = rows[:row_cap]
    found, more = _group(rows, checkins)
    if capped and not more:
        found, more = found[:-1], True
    ids = frozenset(row.checkin_id for row in rows)
    oldest_whole = rows[-1].week_start + timedelta(days=7) if capped else None
    return SharedSince(LogPage(tuple(found), 0, more), ids, oldest_whole)


def read_all(session: Session, engineer_id: int, *, include_private: bool) -> list[LoggedCheckin]:
    """The whole log (for export), newest first."""
    c, a = _C, _A
    statement = (select(*_page_columns(c, a)).select_from(c.join(a, a.c.checkin_id == c.c.id))
                 .where(c.c.engineer_id == engineer_id, *_visible(a, include_private, None))
                 .order_by(*_newest_week_first(c, a)))
    return _group(session.execute(statement).all())[0]


def weeks_sent(session: Session, engineer_id: int, since: datetime, until: datetime, statuses: tuple[str, ...],
               limit: int) -> list[tuple[int, date]]:
    """The engineer's check-ins in one of `statuses` that went out (or, unsent, were due) between
    `since` and `until`, newest week first, at most `limit`: (check-in id, week) pairs."""
    # A check-in goes out within its own week, never later, so one sent at or after `since`
    # has a week (a local Monday) starting at most 7 days, plus the widest UTC offset, before
    # it: the floor walks the (engineer_id, week_start) index from the top and stops there.
    c = _C
    went_out = func.coalesce(c.c.sent_at, c.c.due_at)
    statement = (select(c.c.id, c.c.week_start)
                 .where(c.c.engineer_id == engineer_id, c.c.week_start >= (since - timedelta(days=8)).date(),
                        c.c.status.in_(statuses), went_out >= since, went_out <= until)
                 .order_by(c.c.week_start.desc()).limit(_literal("weeks_limit", limit)))
    return [(row.id, row.week_start) for row in session.execute(statement)]


def prep_context(session: Session, team_id: str, reader_user_id: str, report_user_id: str, framework_id: str,
                 may_prep: OwnerRule) -> PrepContext | None:
    """What a digest starts from, in one statement: the report, the reader's time zone, the
    pair's last prep and the report's newest two self-assessments against `framework_id`
    (what a profile summary compares). None if the report is not an engineer here.

    Whether the reader may have the digest is the caller's to decide (bot.growthlog.access.
    can_prep); the assessments come back only where the report's row meets `may_prep` (that
    rule's SQL form), so nothing is read for anyone else.
    """
    e, m, p = _E, _M, _P
    newest = [_newest_assessment(e, framework_id, may_prep, column, skip).label(label)
              for column, skip, label in (("picks", 0, "latest_picks"), ("created_at", 0, "latest_at"),
                                          ("picks", 1, "previous_picks"), ("created_at", 1, "previous_at"))]
    statement = (
        select(*_person_columns(e), m.c.tz.label("reader_tz"), p.c.last_prep_at, *newest)
        .select_from(
            e.outerjoin(m, (m.c.team_id == e.c.team_id) & (m.c.user_id == reader_user_id))
             .outerjoin(p, (p.c.team_id == e.c.team_id) & (p.c.manager_user_id == reader_user_id)
                        & (p.c.report_user_id == e.c.user_id)))
        .where(e.c.team_id == team_id, e.c.user_id == report_user_id))
    row = session.execute(statement).first()
    if row is None:
        return None
    stored = tuple(StoredAssessment(framework_id, picks or {}, at)
                   for picks, at in ((row.latest_picks, row.latest_at), (row.previous_picks, row.previous_at))
                   if at is not None)
    return PrepContext(_person(row), row.reader_tz, row.last_prep_at, stored)


def _newest_assessment(e, framework_id: str, may_prep: OwnerRule, column: str, skip: int):
    # One index probe per column: a scalar subquery each, rather than a derived table of
    # assessments joined in (which SQLite materialises for every digest, assessments or not).
    s = _S
    return (select(s.c[column]).where(s.c.engineer_id == e.c.id, s.c.framework_id == framework_id, may_prep(e.c))
            .order_by(s.c.created_at.desc(), s.c.id.desc())
            .limit(_literal(f"{column}_{skip}_limit", 1)).offset(_literal(f"{column}_{skip}_offset", skip))
            .scalar_subquery())


def _group(rows: Sequence[Row], limit: int | None = None) -> tuple[list[LoggedCheckin], bool]:
    """Rows of a page, ordered by week → one LoggedCheckin per check-in, answers in the order
    asked; at most `limit` check-ins, and whether the rows held more."""
    checkins: list[LoggedCheckin] = []
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index].checkin_id != rows[start].checkin_id:
            if len(checkins) == limit:
                return checkins, True
            checkins.append(_logged(rows[start:index]))
            start = index
    return checkins, False


def _logged(rows: Sequence[Row]) -> LoggedCheckin:
    first = rows[0]
    questions = first.questions or []
    order = {q["id"]: i for i, q in enumerate(questions)}
    if len(rows) > 1:
        # Rows come ordered by created_at within the check-in; a stable sort keeps that order
        # among answers to the same (or to no) question.
        rows = sorted(rows, key=lambda r: order.get(r.question_id, len(order)))
    return LoggedCheckin(
        first.checkin_id, first.week_start, first.sent_at, first.status, tuple(q["text"] for q in questions),
        tuple([Entry(r.answer_id, r.question_id, r.question_text, r.text, r.source, bool(r.is_private),
                     r.created_at, r.updated_at != r.created_at) for r in rows]),
    )
