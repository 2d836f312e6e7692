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

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (ColumnElement, Date, Integer, Row, Select, bindparam, cast, false, func, literal_column, null,
                        select, type_coerce, union_all)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnCollection

from storage.models import Answer, Assessment, CheckIn, CheckInKind, Engineer, OneOnOne

PAGE_SIZE = 5

# An access rule's SQL form (bot.growthlog.access): given a reader (its `team_id` and `user_id`)
# and an engineers row's columns (`table.c`), a condition true where that reader may read it.
ReaderRule = Callable[[Any, ColumnCollection], ColumnElement[bool]]


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
    kind: str = "growth"          # storage.models.CheckInKind: "lead" is a leader's team reflection


class LogPage(NamedTuple):
    checkins: tuple[LoggedCheckin, ...]
    page: int
    has_more: bool
    engineer_id: int | None = None     # whose page (known when it has rows)


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


# Each statement is built once per shape, with named parameters, and cached (`lru_cache`):
# building a select() costs about as much as running it. The aliases they read through are
# made once too (aliasing a table copies its columns).
_E, _M = Engineer.__table__.alias("e"), Engineer.__table__.alias("m")
_C, _C2 = CheckIn.__table__.alias("c"), CheckIn.__table__.alias("c2")
_A, _A2 = Answer.__table__.alias("a"), Answer.__table__.alias("a2")
_S = Assessment.__table__.alias("s")
_P = OneOnOne.__table__.alias("p")


class _ReaderParameters(NamedTuple):
    """A reader as the access rule's SQL form sees it: the request's values come as parameters."""

    team_id: Any
    user_id: Any


_READER = _ReaderParameters(bindparam("reader_team"), bindparam("reader"))


def _person_columns(e) -> list:
    return [e.c.id, e.c.team_id, e.c.user_id, e.c.manager_user_id, e.c.tz, e.c.framework_id, e.c.level_id]


def _person(row: Row) -> Person:
    return Person(row.id, row.team_id, row.user_id, row.manager_user_id, row.tz, row.framework_id, row.level_id)


def _page_columns(c, a) -> list:
    """What a page shows, labelled as `_group` and `_logged` read them."""
    return [c.c.id.label("checkin_id"), c.c.engineer_id, c.c.week_start, c.c.sent_at, c.c.status, c.c.questions,
            c.c.kind,
            a.c.id.label("answer_id"), a.c.question_id, a.c.question_text, a.c.text, a.c.source, a.c.is_private,
            a.c.created_at, a.c.updated_at]


def _newest_week_first(c, a) -> tuple:
    # A week can hold a check-in and a team reflection: each one's rows stay together.
    return c.c.week_start.desc(), c.c.id.desc(), a.c.created_at, a.c.id


def _literal(name: str):
    # LIMIT and OFFSET go into the statement's text, not as parameters: PostgreSQL re-plans a
    # prepared statement on every run when its LIMIT is a parameter (the generic plan, not
    # knowing it, looks costlier). Rendered at execution from the value passed then.
    return bindparam(name, type_=Integer(), literal_execute=True)


def people(session: Session, team_id: str, *user_ids: str) -> dict[str, Person]:
    """The engineers with these Slack user ids (one or two) in `team_id`, by user id."""
    rows = session.execute(_people_statement(), {"team_id": team_id, "user_ids": list(user_ids)})
    return {row.user_id: _person(row) for row in rows}


@lru_cache(maxsize=1)
def _people_statement() -> Select:
    e = _E
    return select(*_person_columns(e)).where(e.c.team_id == bindparam("team_id"),
                                             e.c.user_id.in_(bindparam("user_ids", expanding=True)))


def read_log(session: Session, engineer_id: int, *, include_private: bool, since: datetime | None = None,
             last: int | None = None, page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """One page of check-ins that have visible answers, newest week first.

    `since` keeps answers written from then on; `last` keeps the N most recent check-ins.
    """
    return _read_page(session, None, {"engineer_id": engineer_id}, include_private, since, last, page, page_size)


def read_log_as_reader(session: Session, team_id: str, reader_user_id: str, owner_user_id: str,
                       readable: ReaderRule, *, include_private: bool, since: datetime | None = None,
                       last: int | None = None, page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """`read_log` of `owner_user_id` in `team_id`, in one statement, and nothing at all (an empty
    page) unless the owner's row meets `readable` for this reader.

    The access rule is written into the query, so the page needs no lookup first; an empty
    page does not say why it is empty, so the caller then asks `people` and the rule's Python
    form (tests/growthlog/test_access_rule.py checks both forms agree).
    """
    parameters = {"team_id": team_id, "owner": owner_user_id, "reader_team": team_id, "reader": reader_user_id}
    return _read_page(session, readable, parameters, include_private, since, last, page, page_size)


def _read_page(session: Session, readable: ReaderRule | None, parameters: dict[str, Any], include_private: bool,
               since: datetime | None, last: int | None, page: int, page_size: int) -> LogPage:
    window = page_size
    offset = page * page_size
    if last is not None:
        window = max(0, min(page_size, last - offset))
    if not window:
        return LogPage((), page, False)
    # One more check-in than the page shows says whether there is an older page.
    parameters.update(page_limit=window + 1, page_offset=offset)
    if since is not None:
        parameters["since"] = since
    rows = all_rows(session, _page_statement(readable, include_private, since is not None), parameters)
    checkins, more = _group(rows, window)
    return LogPage(tuple(checkins), page, more and (last is None or offset + window < last),
                   rows[0].engineer_id if rows else None)


@lru_cache(maxsize=16)
def _page_statement(readable: ReaderRule | None, include_private: bool, with_since: bool) -> Select:
    """Whose log: `:engineer_id`, or (with `readable`) the engineer `:owner` in `:team_id` if the
    reader may read them."""
    c, a, c2, a2, e = _C, _A, _C2, _A2, _E
    if readable is None:
        whose = bindparam("engineer_id")
    else:
        whose = select(e.c.id).where(e.c.team_id == bindparam("team_id"), e.c.user_id == bindparam("owner"),
                                     readable(_READER, e.c)).scalar_subquery()
    if with_since:
        # The weeks with answers written since then, found through (engineer_id, created_at)
        # and sorted: walking the engineer's weeks instead would read every week of the log
        # whenever fewer than a page's worth have such answers. (An answer's engineer_id is
        # its check-in's, copied by Answers.record; a check on c2.engineer_id here would make
        # SQLite walk the weeks again.)
        answered = select(a2.c.checkin_id).where(a2.c.engineer_id == whose, *_visible(a2, include_private, with_since))
        page_ids = [c2.c.id.in_(answered)]
    else:
        # Newest week backwards along (engineer_id, week_start), stopping once the page is full.
        page_ids = [c2.c.engineer_id == whose,
                    select(a2.c.id).where(a2.c.checkin_id == c2.c.id,
                                          *_visible(a2, include_private, with_since)).exists()]
    weeks = (select(c2.c.id).where(*page_ids).order_by(c2.c.week_start.desc(), c2.c.id.desc())
             .limit(_literal("page_limit")).offset(_literal("page_offset")))
    return (select(*_page_columns(c, a)).select_from(c.join(a, a.c.checkin_id == c.c.id))
            .where(c.c.id.in_(weeks), *_visible(a, include_private, with_since))
            .order_by(*_newest_week_first(c, a)))


def _visible(a, include_private: bool, with_since: bool) -> list:
    conditions = []
    if not include_private:
        conditions.append(a.c.is_private == false())
    if with_since:
        conditions.append(a.c.created_at >= bindparam("since", type_=a.c.created_at.type))
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
    # One row past the cap says whether the cap cut anything off.
    rows = session.execute(_shared_since_statement(), {
        "engineer_id": engineer_id, "since": since, "row_limit": row_cap + 1}).all()
    return _shared_since(rows, checkins, row_cap)


def _shared_since(rows: Sequence[Row], checkins: int, row_cap: int) -> SharedSince:
    capped = len(rows) > row_cap
    rows = rows[:row_cap]
    found, more = _group(rows, checkins)
    if capped and not more:
        found, more = found[:-1], True
    ids = frozenset(row.checkin_id for row in rows)
    oldest_whole = rows[-1].week_start + timedelta(days=7) if capped else None
    return SharedSince(LogPage(tuple(found), 0, more), ids, oldest_whole)


@lru_cache(maxsize=1)
def _shared_since_statement() -> Select:
    c, a = _C, _A
    engineer_id = bindparam("engineer_id")
    return (select(*_page_columns(c, a)).select_from(a.join(c, c.c.id == a.c.checkin_id))
            .where(a.c.engineer_id == engineer_id, *_visible(a, False, True), c.c.engineer_id == engineer_id)
            .order_by(*_newest_week_first(c, a))
            .limit(_literal("row_limit")))


def read_all(session: Session, engineer_id: int, *, include_private: bool) -> list[LoggedCheckin]:
    """The whole log (for export), newest first."""
    return _group(session.execute(_all_statement(include_private), {"engineer_id": engineer_id}).all())[0]


@lru_cache(maxsize=2)
def _all_statement(include_private: bool) -> Select:
    c, a = _C, _A
    return (select(*_page_columns(c, a)).select_from(c.join(a, a.c.checkin_id == c.c.id))
            .where(c.c.engineer_id == bindparam("engineer_id"), *_visible(a, include_private, False))
            .order_by(*_newest_week_first(c, a)))


def weeks_sent(session: Session, engineer_id: int, since: datetime, until: datetime, statuses: tuple[str, ...],
               limit: int) -> list[tuple[int, date]]:
    """The engineer's check-ins in one of `statuses` that went out (or, unsent, were due) between
    `since` and `until`, newest week first, at most `limit`: (check-in id, week) pairs."""
    rows = session.execute(_weeks_sent_statement(), {
        "engineer_id": engineer_id, "week_floor": _week_floor(since), "statuses": list(statuses),
        "since": since, "until": until, "weeks_limit": limit})
    return [(row.id, row.week_start) for row in rows]


@lru_cache(maxsize=1)
def _weeks_sent_statement() -> Select:
    c = _C
    went_out = func.coalesce(c.c.sent_at, c.c.due_at)
    return (select(c.c.id, c.c.week_start)
            .where(c.c.engineer_id == bindparam("engineer_id"),
                   c.c.week_start >= bindparam("week_floor", type_=c.c.week_start.type),
                   c.c.kind == CheckInKind.GROWTH.value,  # a 1:1's missed weeks are check-ins
                   c.c.status.in_(bindparam("statuses", expanding=True)),
                   went_out >= bindparam("since", type_=c.c.sent_at.type),
                   went_out <= bindparam("until", type_=c.c.sent_at.type))
            .order_by(c.c.week_start.desc()).limit(_literal("weeks_limit")))


class PrepPeriod(NamedTuple):
    """What a digest reads of its period (`read_prep`): `read_shared_since` and `weeks_sent` at once."""

    shared: SharedSince
    weeks: list[tuple[int, date]]


def all_rows(session: Session, statement, parameters: dict[str, Any]) -> Sequence[Any]:
    """`session.execute(statement, parameters).all()`, rows read by column name as ever; on
    SQLite fetched as one row.

    Python's sqlite3 lets go of the GIL for every row it steps to, and under load each time
    costs the request's thread a wait for it back (up to the 5 ms switch interval behind the
    thread that took it): a page's fifteen-odd rows cost more than the statement. So SQLite
    packs them into one JSON array (`json_group_array`, in the statement's own order: an
    aggregate over an ordered subquery reads it in that order), and the column types convert
    each value here from what sqlite3 would have returned (text, integer, real, NULL). PostgreSQL
    sends all rows in one round trip anyway."""
    if session.get_bind().dialect.name != "sqlite":
        return session.execute(statement, parameters).all()
    packed, row_type, processors = _packed(statement, session.get_bind().dialect)
    raw = session.execute(packed, parameters).scalar_one()
    return [row_type(*[value if convert is None else convert(value) for convert, value in zip(processors, values)])
            for values in json.loads(raw)]


_PACKED: dict[Any, tuple] = {}


def _packed(statement, dialect) -> tuple:
    # Statements here are built once (lru_cache), so one packed form each, kept by identity.
    found = _PACKED.get(id(statement))
    if found is None or found[0] is not statement:
        inner = statement.subquery("rows")
        columns = list(inner.c)
        packed = select(func.json_group_array(func.json_array(*columns)))
        row_type = NamedTuple("PackedRow", [(column.key, Any) for column in columns])
        processors = [column.type._cached_result_processor(dialect, None) for column in columns]
        found = _PACKED[id(statement)] = (statement, packed, row_type, processors)
    return found[1:]


def _week_floor(since: datetime) -> date:
    # A check-in goes out within its own week, never later, so one sent at or after `since`
    # has a week (a local Monday) starting at most 7 days, plus the widest UTC offset, before
    # it: the floor walks the (engineer_id, week_start) index from the top and stops there.
    return (since - timedelta(days=8)).date()


def prep_context(session: Session, team_id: str, reader_user_id: str, report_user_id: str, framework_id: str,
                 may_prep: ReaderRule) -> PrepContext | None:
    """What a digest starts from, in one statement: the report, the reader's time zone, the
    pair's last prep and the report's newest two self-assessments against `framework_id`
    (what a profile summary compares). None if the report is not an engineer here.

    Whether the reader may have the digest is the caller's to decide (bot.growthlog.access.
    can_prep); the assessments come back only where the report's row meets `may_prep` for this
    reader (that rule's SQL form), so nothing is read for anyone else.
    """
    row = session.execute(_prep_context_statement(may_prep), {
        "team_id": team_id, "report": report_user_id, "framework": framework_id,
        "reader_team": team_id, "reader": reader_user_id}).first()
    return None if row is None else _prep_context(row, framework_id)


@lru_cache(maxsize=4)
def _prep_context_statement(may_prep: ReaderRule) -> Select:
    e, m, p = _E, _M, _P
    reader = _READER.user_id
    newest = [_newest_assessment(e, may_prep, column, skip).label(label)
              for column, skip, label in (("picks", 0, "latest_picks"), ("created_at", 0, "latest_at"),
                                          ("picks", 1, "previous_picks"), ("created_at", 1, "previous_at"))]
    return (
        select(*_person_columns(e), m.c.tz.label("reader_tz"), p.c.last_prep_at, *newest)
        .select_from(
            e.outerjoin(m, (m.c.team_id == e.c.team_id) & (m.c.user_id == reader))
             .outerjoin(p, (p.c.team_id == e.c.team_id) & (p.c.manager_user_id == reader)
                        & (p.c.report_user_id == e.c.user_id)))
        .where(e.c.team_id == bindparam("team_id"), e.c.user_id == bindparam("report")))


def read_prep(session: Session, team_id: str, reader_user_id: str, report_user_id: str, framework_id: str,
              may_prep: ReaderRule, first_since: datetime, until: datetime, statuses: tuple[str, ...],
              checkins: int, weeks: int, row_cap: int = 1000) -> tuple[PrepContext | None, PrepPeriod | None]:
    """`prep_context` and, where the report's row meets `may_prep` for this reader, the report's
    period from the pair's last prep (`first_since` when there was none) until `until`:
    `read_shared_since(..., checkins, row_cap)` and `weeks_sent(..., statuses, weeks)` of it.
    One statement: three branches of a UNION ALL, the period's reading the report's id and its
    start from the context's row (a CTE).

    A digest is read before the ack; under load each statement costs a person a wait for the
    GIL (SQLite) or a round trip (PostgreSQL) on top of its own time. (None, None): the report
    is not an engineer here; (context, None): the reader may not have the digest."""
    dialect = session.get_bind().dialect.name
    rows = all_rows(session, _prep_statement(may_prep, dialect), {
        "team_id": team_id, "report": report_user_id, "framework": framework_id, "reader_team": team_id,
        "reader": reader_user_id, "first_since": first_since, "until": until, "statuses": list(statuses),
        "row_limit": row_cap + 1, "weeks_limit": weeks})
    found = [row for row in rows if row.row_kind == "context"]
    if not found:
        return None, None
    context = _prep_context(found[0], framework_id)
    if not found[0].may_prep:
        return context, None
    answers = [row for row in rows if row.row_kind == "answer"]
    return context, PrepPeriod(_shared_since(answers, checkins, row_cap),
                               [(row.checkin_id, row.week_start) for row in rows if row.row_kind == "week"])


@lru_cache(maxsize=8)
def _prep_statement(may_prep: ReaderRule, dialect: str):
    e, p, c, a = _E, _P, _C, _A
    context = _prep_context_statement(may_prep).add_columns(
        func.coalesce(p.c.last_prep_at, bindparam("first_since", type_=p.c.last_prep_at.type)).label("since"),
        may_prep(_READER, e.c).label("may_prep")).cte("context")
    # The period's report and start: NULL (no rows) unless the reader may have the digest.
    engineer_id = select(context.c.id).where(context.c.may_prep).scalar_subquery()
    since = select(context.c.since).where(context.c.may_prep).scalar_subquery()
    shared = (select(*_page_columns(c, a)).select_from(a.join(c, c.c.id == a.c.checkin_id))
              .where(a.c.engineer_id == engineer_id, a.c.is_private == false(), a.c.created_at >= since,
                     c.c.engineer_id == engineer_id)
              .order_by(*_newest_week_first(c, a))
              .limit(_literal("row_limit"))).subquery("shared")
    went_out = func.coalesce(c.c.sent_at, c.c.due_at)
    weeks = (select(c.c.id, c.c.week_start)
             .where(c.c.engineer_id == engineer_id, c.c.week_start >= _week_floor_sql(since, dialect),
                    c.c.kind == CheckInKind.GROWTH.value,
                    c.c.status.in_(bindparam("statuses", expanding=True)),
                    went_out >= since, went_out <= bindparam("until", type_=c.c.sent_at.type))
             .order_by(c.c.week_start.desc()).limit(_literal("weeks_limit"))).subquery("weeks")
    # Every branch has every column, NULL (typed: the first branch's types convert the rows)
    # where it has none of its own.
    columns = {column.name: column.type for column in (*context.c, *shared.c)}
    own = {"context": {column.name: column for column in context.c},
           "answer": {column.name: column for column in shared.c},
           "week": {"checkin_id": weeks.c.id, "week_start": weeks.c.week_start}}
    both = union_all(*(
        select(literal_column(f"'{kind}'").label("row_kind"),
               *(mine.get(name, type_coerce(null(), kind_type)).label(name) for name, kind_type in columns.items()))
        .select_from(source)
        for (kind, mine), source in zip(own.items(), (context, shared, weeks))))
    ordered = both.selected_columns
    return both.order_by(ordered.row_kind, ordered.week_start.desc(), ordered.checkin_id.desc(),
                         ordered.created_at, ordered.answer_id)


def _week_floor_sql(since, dialect: str):
    """`_week_floor` in SQL, of a UTC point in time read in the same statement."""
    if dialect == "sqlite":
        return func.date(since, "-8 days")       # stored as naive UTC text: its date, 8 days back
    return cast(func.timezone("UTC", since) - literal_column("INTERVAL '8 days'"), Date)


def _prep_context(row, framework_id: str) -> PrepContext:
    stored = tuple(StoredAssessment(framework_id, picks or {}, at)
                   for picks, at in ((row.latest_picks, row.latest_at), (row.previous_picks, row.previous_at))
                   if at is not None)
    return PrepContext(_person(row), row.reader_tz, row.last_prep_at, stored)


def _newest_assessment(e, may_prep: ReaderRule, column: str, skip: int):
    # One index probe per column: a scalar subquery each, rather than a derived table of
    # assessments joined in (which SQLite materialises for every digest, assessments or not).
    s = _S
    return (select(s.c[column])
            .where(s.c.engineer_id == e.c.id, s.c.framework_id == bindparam("framework"), may_prep(_READER, e.c))
            .order_by(s.c.created_at.desc(), s.c.id.desc())
            .limit(1).offset(skip)
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
        first.kind,
    )
