"""`/growth log [@user] [since <date>|last <N>]`: what to show, and whether the reader may see it.

The query (owner, filters, page) is parsed from the command once and then travels in the paging
buttons' values, so a click re-runs exactly the same query, with the access rule checked again
for whoever clicked: a button kept by a former manager shows nothing once they lose access.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone

from bot.blocks.text import escape
from bot.domain.numbers import strict_int
from bot.domain.schedule import zone
from bot.growthlog.access import Reader, can_read, can_read_where
from bot.growthlog.mentions import split_mention
from bot.growthlog.reads import LOG, OwnerGone, commit_read, read_to_record, record_on
from storage.repositories import Answers, Engineers
from storage.repositories.growth_log import PAGE_SIZE, LogPage, Person, people, read_log_as_reader
from storage.uow import UnitOfWork

MAX_LAST = 520  # ten years of weekly check-ins
# Far past any log's last page; a crafted page beyond it would overflow the query's OFFSET
# (page x page size past int64: a 500 on both databases), so a button carrying one is not ours.
MAX_PAGE = 100_000
EXAMPLES = ("`/growth log` · `/growth log @someone` · `/growth log since 2026-10-01` · "
            "`/growth log @someone last 5`")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_LAST_NOUNS = {"week", "weeks", "check-in", "check-ins", "checkin", "checkins", "entries"}


class LogQueryError(ValueError):
    """What the person typed could not be read; the message says what to type instead."""


@dataclass(frozen=True)
class LogQuery:
    owner_user_id: str | None = None  # None: the reader's own log
    since: date | None = None
    last: int | None = None
    page: int = 0

    def for_owner(self, owner_user_id: str) -> "LogQuery":
        return replace(self, owner_user_id=owner_user_id)

    def at_page(self, page: int) -> "LogQuery":
        return replace(self, page=max(0, page))

    def to_value(self) -> str:
        """Compact JSON for a button value (well under Slack's 2,000 characters)."""
        data = {"o": self.owner_user_id, "p": self.page}
        if self.since:
            data["s"] = self.since.isoformat()
        if self.last:
            data["l"] = self.last
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str | None) -> "LogQuery | None":
        """The query a button carried; None if the value is not one of ours."""
        try:
            data = json.loads(value or "")
            owner = data["o"]
            since = date.fromisoformat(data["s"]) if data.get("s") else None
            last = strict_int(data["l"], 1, MAX_LAST) if "l" in data else None
            page = strict_int(data.get("p", 0), 0, MAX_PAGE)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):  # "[" * 1000 recurses
            return None
        if not isinstance(owner, str) or page is None or ("l" in data and last is None):
            return None
        return cls(owner, since, last, page)


def parse_log_query(text: str) -> LogQuery:
    """`<@U1|ada> since 2026-10-01`, `last 5`, a bare date… → a query; raises LogQueryError."""
    owner, rest = split_mention(text)
    words = rest.lower().split()
    since: date | None = None
    last: int | None = None
    index = 0
    while index < len(words):
        word = words[index]
        if word == "since":
            if index + 1 >= len(words):
                raise LogQueryError(_problem("since", "needs a date, like `since 2026-10-01`"))
            since = _parse_date(words[index + 1], f"since {words[index + 1]}")
            index += 2
        elif word == "last":
            if index + 1 >= len(words):
                raise LogQueryError(_problem("last", "needs a number of check-ins, like `last 5`"))
            last = _parse_count(words[index + 1])
            index += 2
            if index < len(words) and words[index] in _LAST_NOUNS:
                index += 1
        elif _DATE.match(word):
            since = _parse_date(word, word)
            index += 1
        elif word.startswith("@"):
            raise LogQueryError(f"I couldn't tell who `{escape(word)}` is: pick them from Slack's @-menu so the name "
                                f"turns into a mention. Try {EXAMPLES}")
        else:
            raise LogQueryError(_problem(" ".join(words[index:index + 2]), "isn't something I understand"))
    return LogQuery(owner, since, last)


def _parse_date(word: str, typed: str) -> date:
    match = _DATE.match(word)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise LogQueryError(_problem(typed, "needs a date written YYYY-MM-DD, like `since 2026-10-01`"))


def _parse_count(word: str) -> int:
    count = strict_int(word, 1, MAX_LAST)
    if count is not None:
        return count
    raise LogQueryError(_problem(f"last {word}", f"needs a whole number from 1 to {MAX_LAST}, like `last 5`"))


def _problem(typed: str, why: str) -> str:
    return f"`{escape(typed)}` {why}. Try {EXAMPLES}"


@dataclass(frozen=True)
class LogView:
    """One page of a log as the reader may see it."""

    owner_user_id: str
    own: bool
    page: LogPage
    query: LogQuery  # with the owner filled in: what the paging buttons carry
    reads_notice: bool = False  # the reader's first read of anyone's log: tell them it is visible


def read_log_view(uow: UnitOfWork, reader: Reader, query: LogQuery, page_size: int = PAGE_SIZE,
                  now: datetime | None = None) -> LogView | None:
    """The page the query asks for, or None when the reader may not read that log (say REFUSAL).

    The page is read in `uow.reading()` (a read-only session): this runs before the ack, so the
    read never waits for SQLite's write lock. Anyone else's page is then recorded as read
    (bot.growthlog.reads.commit_read) at `now`, and returned only once that record is committed
    (None if the owner was deleted meanwhile). Private answers
    are included only for the engineer themself. One statement when the page has entries: the
    access rule is part of the page's query (`can_read_where`). An empty page is then explained
    by `can_read` on the people involved, as is a `since`, which needs the reader's time zone
    first.
    """
    owner_id = query.owner_user_id or reader.user_id
    query = query.for_owner(owner_id)
    # Each statement its own snapshot (`one_snapshot=False`): a page with entries is one
    # statement, and an empty page's look-up of the people only explains it.
    # On PostgreSQL someone else's page is recorded on the same connection (read_to_record).
    with read_to_record(uow) as session:
        view = _read_page_view(session, reader, query, page_size)
        if view is None or owner_id == reader.user_id:
            return view
        # Someone else's page says whose it is (`_read_page_view`), so the record needs no look-up.
        entries = sum(len(checkin.entries) for checkin in view.page.checkins)
        try:
            told = commit_read(uow, reader, view.page.engineer_id, owner_id, LOG, entries,
                               now or datetime.now(timezone.utc), session=record_on(uow, session))
        except OwnerGone:
            return None
    return replace(view, reads_notice=told)


def _read_page_view(session, reader: Reader, query: LogQuery, page_size: int) -> LogView | None:
    owner_id = query.owner_user_id or reader.user_id
    found: dict[str, Person] = {}
    since = None
    if query.since:
        found = people(session, reader.team_id, owner_id, reader.user_id)
        me = found.get(reader.user_id)
        since = _start_of_day(query.since, me.tz if me else None)
    # Private answers for the engineer only (`sees_private`): the page is the owner's, in
    # the reader's workspace, so that is the reader reading their own.
    page = read_log_as_reader(session, reader.team_id, reader.user_id, owner_id, can_read_where,
                              include_private=owner_id == reader.user_id, since=since, last=query.last,
                              page=query.page, page_size=page_size)
    if not page.checkins:
        found = found or people(session, reader.team_id, owner_id)
        owner = found.get(owner_id)
        if owner is None and owner_id == reader.user_id:
            return LogView(owner_id, True, LogPage((), query.page, False), query)
        if not can_read(reader, owner):
            return None
        page = page._replace(engineer_id=owner.id)   # rows say whose a full page is; this one has none
    return LogView(owner_id, owner_id == reader.user_id, page, query)


def _start_of_day(day: date, tz_name: str | None) -> datetime:
    # The reader typed the date: midnight where they are.
    start = datetime.combine(day, time(0, 0), tzinfo=zone(tz_name))
    try:
        start.astimezone(timezone.utc)
    except OverflowError:
        # Midnight on 0001-01-01 east of UTC has no UTC instant (storage converts to UTC): it
        # means "from the beginning", not a 500.
        return datetime.min.replace(tzinfo=timezone.utc)
    return start


def delete_own_answer(uow: UnitOfWork, reader: Reader, answer_id: int) -> bool:
    """Delete one of the reader's own answers, with its revisions; False (nothing deleted) if it
    isn't theirs. The owner is the clicker's own identity, never anything the button says."""
    with uow.writing() as session:
        engineer = Engineers(session).get(reader.team_id, reader.user_id)
        return engineer is not None and Answers(session).delete_own(answer_id, engineer.id)


def set_answer_privacy(uow: UnitOfWork, reader: Reader, answer_id: int, private: bool) -> bool:
    """Mark one of the reader's own answers private (or shared); False if it isn't theirs."""
    with uow.writing() as session:
        engineer = Engineers(session).get(reader.team_id, reader.user_id)
        return engineer is not None and Answers(session).set_private(answer_id, engineer.id, private)
