"""Reading a growth log: check-ins with their answers, newest first, a page at a time.

One indexed statement per page (the page's check-ins joined to their answers), whatever the
size of the log. These are the reads people wait on (`/growth log`, `/growth prep`, the Home
tab), so they are written as SQL and run on the driver's cursor (see storage.reads): `db` is a
`DriverRows`, from `ReadPool` or from `driver_rows(session)` inside an ORM unit of work.
Private answers are left out unless the caller says to include them (the reader is the
engineer), or, in `read_log_as_reader`, unless the reader is the engineer.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from storage.reads import SQL, DriverRows, day, document, utc

PAGE_SIZE = 5


# The values read here are NamedTuples, not frozen dataclasses: a page makes dozens, and a
# frozen dataclass's __init__ (a setattr per field) cost more than the query that found them.
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


class StoredAssessment:
    """A self-assessment as stored; its picks are decoded when first read (a digest's summary
    may need only the newest)."""

    def __init__(self, framework_id: str, stored_picks: Any, created_at: datetime):
        self.framework_id = framework_id
        self.created_at = created_at
        self._stored_picks = stored_picks

    @cached_property
    def picks(self) -> dict[str, Any]:
        return document(self._stored_picks) or {}


class PrepContext(NamedTuple):
    """What a 1:1 digest starts from: the report, the reader's time zone, the pair's last prep,
    the report's latest self-assessments."""

    report: Person
    reader_tz: str | None
    last_prep_at: datetime | None
    assessments: tuple[StoredAssessment, ...]     # newest first; only for the report's manager


# The columns a page shows, check-in first, in the order `_group` reads them.
_COLUMNS = """c.id, c.week_start, c.sent_at, c.status, c.questions,
    a.id, a.question_id, a.question_text, a.text, a.source, a.is_private, a.created_at, a.updated_at"""
_NEWEST_WEEK_FIRST = "ORDER BY c.week_start DESC, a.created_at, a.id"
_PERSON = "e.id, e.team_id, e.user_id, e.manager_user_id, e.tz, e.framework_id, e.level_id"


def people(db: DriverRows, team_id: str, *user_ids: str) -> dict[str, Person]:
    """The engineers with these Slack user ids (one or two) in `team_id`, by user id."""
    first, second = (user_ids + user_ids)[:2]
    rows = db.all(_PEOPLE, {"team_id": team_id, "first": first, "second": second})
    return {row[2]: Person(*row) for row in rows}


_PEOPLE = SQL.of(f"SELECT {_PERSON} FROM engineers e WHERE e.team_id = :team_id AND e.user_id IN (:first, :second)")


def read_log(db: DriverRows, engineer_id: int, *, include_private: bool, since: datetime | None = None,
             last: int | None = None, page: int = 0, page_size: int = PAGE_SIZE) -> LogPage:
    """One page of check-ins that have visible answers, newest week first.

    `since` keeps answers written from then on; `last` keeps the N most recent check-ins.
    """
    return _read_page(db, _BY_ID, {"engineer_id": engineer_id}, include_private, since, last, page, page_size)


def read_log_as_reader(db: DriverRows, team_id: str, reader_user_id: str, owner_user_id: str, *,
                       since: datetime | None = None, last: int | None = None, page: int = 0,
                       page_size: int = PAGE_SIZE) -> LogPage:
    """`read_log` of `owner_user_id` as `reader_user_id` may see it, in one statement: private
    answers only for the engineer themself, and nothing at all (an empty page) unless the
    reader is the engineer or their current manager.

    That is bot.growthlog.access's rule (`can_read`, `sees_private`) written into the query,
    so the page needs no lookup first; an empty page does not say why it is empty, so the
    caller asks `people` and the rule then (tests/growthlog/test_log.py checks both agree).
    """
    return _read_page(db, _READABLE, {"team_id": team_id, "owner": owner_user_id, "reader": reader_user_id},
                      owner_user_id == reader_user_id, since, last, page, page_size)


# Whose log a page statement reads: an engineer id, or whoever the reader may read (see above).
_BY_ID = ":engineer_id"
_READABLE = ("(SELECT e.id FROM engineers e WHERE e.team_id = :team_id AND e.user_id = :owner"
             " AND (e.user_id = :reader OR e.manager_user_id = :reader))")


def _read_page(db: DriverRows, whose: str, parameters: dict[str, Any], include_private: bool,
               since: datetime | None, last: int | None, page: int, page_size: int) -> LogPage:
    window = page_size
    offset = page * page_size
    if last is not None:
        window = max(0, min(page_size, last - offset))
    if not window:
        return LogPage((), page, False)
    if since is not None:
        parameters["since"] = db.timestamp(since)
    # One more check-in than the page shows says whether there is an older page.
    rows = db.all(_page_statement(whose, include_private, since is not None, window + 1, offset), parameters)
    checkins, more = _group(rows, window)
    return LogPage(tuple(checkins), page, more and (last is None or offset + window < last))


@lru_cache(maxsize=256)
def _page_statement(whose: str, include_private: bool, with_since: bool, limit: int, offset: int) -> SQL:
    # LIMIT and OFFSET are written into the text, not sent as parameters: PostgreSQL re-plans
    # a prepared statement on every run when its LIMIT is a parameter (the generic plan, not
    # knowing it, looks costlier), and planning this query costs more than running it. Page
    # sizes are few; offsets grow with paging, which the cache's bound keeps in check.
    visible = _visible("a", include_private, with_since)
    if with_since:
        # The weeks with answers written since then, found through (engineer_id, created_at)
        # and sorted: walking the engineer's weeks instead would read every week of the log
        # whenever fewer than a page's worth have such answers. (An answer's engineer_id is
        # its check-in's, copied by Answers.record; a check on c2.engineer_id here would make
        # SQLite walk the weeks again.)
        page_ids = (f"c2.id IN (SELECT a2.checkin_id FROM answers a2 WHERE a2.engineer_id = {whose} "
                    f"{_visible('a2', include_private, with_since)})")
    else:
        # Newest week backwards along (engineer_id, week_start), stopping once the page is full.
        page_ids = (f"c2.engineer_id = {whose} AND EXISTS (SELECT 1 FROM answers a2 WHERE a2.checkin_id = c2.id "
                    f"{_visible('a2', include_private, with_since)})")
    return SQL.of(f"""
        SELECT {_COLUMNS}
        FROM checkins c JOIN answers a ON a.checkin_id = c.id
        WHERE c.id IN (SELECT c2.id FROM checkins c2 WHERE {page_ids}
                       ORDER BY c2.week_start DESC LIMIT {int(limit)} OFFSET {int(offset)})
          {visible}
        {_NEWEST_WEEK_FIRST}""")


def read_shared_since(db: DriverRows, engineer_id: int, since: datetime, checkins: int,
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
    rows = db.all(_shared_since_statement(row_cap + 1), {"engineer_id": engineer_id, "since": db.timestamp(since)})
    capped = len(rows) > row_cap
    rows = rows[:row_cap]
    found, more = _group(rows, checkins)
    if capped and not more:
        found, more = found[:-1], True
    ids = frozenset(row[0] for row in rows)
    oldest_whole = day(rows[-1][1]) + timedelta(days=7) if capped else None
    return SharedSince(LogPage(tuple(found), 0, more), ids, oldest_whole)


@lru_cache(maxsize=4)
def _shared_since_statement(row_limit: int) -> SQL:
    return SQL.of(f"""
        SELECT {_COLUMNS}
        FROM answers a JOIN checkins c ON c.id = a.checkin_id
        WHERE a.engineer_id = :engineer_id AND a.created_at >= :since AND a.is_private = false
          AND c.engineer_id = :engineer_id
        {_NEWEST_WEEK_FIRST} LIMIT {int(row_limit)}""")


def _visible(alias: str, include_private: bool, with_since: bool) -> str:
    conditions = []
    if not include_private:
        conditions.append(f"AND {alias}.is_private = false")
    if with_since:
        conditions.append(f"AND {alias}.created_at >= :since")
    return " ".join(conditions)


def read_all(db: DriverRows, engineer_id: int, *, include_private: bool) -> list[LoggedCheckin]:
    """The whole log (for export), newest first."""
    return _group(db.all(_ALL[include_private], {"engineer_id": engineer_id}))[0]


_ALL = {private: SQL.of(f"""
    SELECT {_COLUMNS} FROM checkins c JOIN answers a ON a.checkin_id = c.id
    WHERE c.engineer_id = :engineer_id {_visible('a', private, False)}
    {_NEWEST_WEEK_FIRST}""") for private in (True, False)}


def weeks_sent(db: DriverRows, engineer_id: int, since: datetime, until: datetime, statuses: tuple[str, ...],
               limit: int) -> list[tuple[int, date]]:
    """The engineer's check-ins in one of `statuses` that went out (or, unsent, were due) between
    `since` and `until`, newest week first, at most `limit`: (check-in id, week) pairs."""
    # A check-in goes out within its own week, never later, so one sent at or after `since`
    # has a week (a local Monday) starting at most 7 days, plus the widest UTC offset, before
    # it: the floor walks the (engineer_id, week_start) index from the top and stops there.
    week_floor = (since - timedelta(days=8)).date()
    rows = db.all(_weeks_sent_statement(statuses, limit), {
        "engineer_id": engineer_id, "week_floor": db.day(week_floor),
        "since": db.timestamp(since), "until": db.timestamp(until)})
    return [(row[0], day(row[1])) for row in rows]


@lru_cache(maxsize=16)
def _weeks_sent_statement(statuses: tuple[str, ...], limit: int) -> SQL:
    if not statuses or not all(re.fullmatch(r"[a-z_]+", status) for status in statuses):
        raise ValueError(f"not check-in statuses: {statuses!r}")
    listed = ", ".join(f"'{status}'" for status in statuses)
    return SQL.of(f"""
        SELECT c.id, c.week_start FROM checkins c
        WHERE c.engineer_id = :engineer_id AND c.week_start >= :week_floor AND c.status IN ({listed})
          AND coalesce(c.sent_at, c.due_at) >= :since AND coalesce(c.sent_at, c.due_at) <= :until
        ORDER BY c.week_start DESC LIMIT {int(limit)}""")


def prep_context(db: DriverRows, team_id: str, reader_user_id: str, report_user_id: str,
                 framework_id: str) -> PrepContext | None:
    """What a digest starts from, in one statement: the report, the reader's time zone, the
    pair's last prep and the report's newest two self-assessments against `framework_id`
    (what a profile summary compares). None if the report is not an engineer here.

    Whether the reader may have the digest is the caller's to decide (bot.growthlog.prep.
    can_prep); the assessments come back only if they may (the report's current manager,
    not the report: that rule written into the query), so nothing is read for anyone else.
    """
    rows = db.all(_PREP_CONTEXT, {
        "team_id": team_id, "reader": reader_user_id, "report": report_user_id, "framework": framework_id})
    if not rows:
        return None
    *person, reader_tz, last_prep_at, latest_picks, latest_at, previous_picks, previous_at = rows[0]
    stored = tuple(StoredAssessment(framework_id, picks, utc(at))
                   for picks, at in ((latest_picks, latest_at), (previous_picks, previous_at)) if at is not None)
    return PrepContext(Person(*person), reader_tz, utc(last_prep_at), stored)


def _newest_assessment(column: str, skip: int) -> str:
    # One index probe per column: a scalar subquery each, rather than a derived table of
    # assessments joined in (which SQLite materialises for every digest, assessments or not).
    return (f"(SELECT s.{column} FROM assessments s WHERE s.engineer_id = e.id AND s.framework_id = :framework"
            f" AND e.manager_user_id = :reader AND e.user_id <> :reader"
            f" ORDER BY s.created_at DESC, s.id DESC LIMIT 1 OFFSET {skip})")


_PREP_CONTEXT = SQL.of(f"""
    SELECT {_PERSON}, m.tz, p.last_prep_at,
           {_newest_assessment('picks', 0)}, {_newest_assessment('created_at', 0)},
           {_newest_assessment('picks', 1)}, {_newest_assessment('created_at', 1)}
    FROM engineers e
    LEFT JOIN engineers m ON m.team_id = e.team_id AND m.user_id = :reader
    LEFT JOIN one_on_ones p ON p.team_id = e.team_id AND p.manager_user_id = :reader
                           AND p.report_user_id = e.user_id
    WHERE e.team_id = :team_id AND e.user_id = :report""")


def _group(rows: list[tuple], limit: int | None = None) -> tuple[list[LoggedCheckin], bool]:
    """Rows of a page, ordered by week → one LoggedCheckin per check-in, answers in the order
    asked; at most `limit` check-ins, and whether the rows held more."""
    checkins: list[LoggedCheckin] = []
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index][0] != rows[start][0]:
            if len(checkins) == limit:
                return checkins, True
            checkins.append(_logged(rows[start:index]))
            start = index
    return checkins, False


def _logged(rows: list[tuple]) -> LoggedCheckin:
    checkin_id, week_start, sent_at, status, questions = rows[0][:5]
    order, asked = _questions(questions)
    if len(rows) > 1:
        # Rows come ordered by created_at within the check-in; a stable sort keeps that order
        # among answers to the same (or to no) question.
        rows = sorted(rows, key=lambda r: order.get(r[6], len(order)))
    return LoggedCheckin(
        checkin_id, day(week_start), utc(sent_at), status, asked,
        tuple([Entry(r[5], r[6], r[7], r[8], r[9], bool(r[10]), utc(r[11]), r[12] != r[11]) for r in rows]),
    )


def _questions(stored: Any) -> tuple[dict[str, int], tuple[str, ...]]:
    """A check-in's questions as (position by question id, texts in the order asked)."""
    if isinstance(stored, str):
        return _decoded_questions(stored)
    return _question_order(stored or [])


@lru_cache(maxsize=4096)
def _decoded_questions(text: str) -> tuple[dict[str, int], tuple[str, ...]]:
    # SQLite hands the JSON back as text. Check-ins draw from a few dozen question pools, so
    # the same documents come back again and again: decode each once. (Callers never mutate
    # what is returned.)
    return _question_order(json.loads(text) or [])


def _question_order(questions: list[dict]) -> tuple[dict[str, int], tuple[str, ...]]:
    return {q["id"]: i for i, q in enumerate(questions)}, tuple(q["text"] for q in questions)
