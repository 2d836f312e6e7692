"""Every read of an engineer's log by someone else, recorded for the engineer to see.

A read is shown only once its record is committed: there is no read the engineer cannot see.
`record_read` writes it inside the caller's unit of work (export, profile, an automatic digest);
`commit_read` is for the reads a person waits on before the ack (a log page, a prep digest):
the page is read in a read-only session, in parallel with other readers, and the record is
then committed: on SQLite together with other readers' records (`uow.write_together`), so
sixteen managers reading at once share one commit instead of queueing for SQLite's one writer
with the whole read inside it; on PostgreSQL as one statement of its own (writable CTEs, one
round trip: `uow.write_one_statement`). The engineer's own reads, and refused ones, record nothing.
A reader is told once per workspace that reads are visible (`ReadNotices.first_time`): the
caller adds one context line to what that first read shows (bot.blocks.reads.READS_NOTICE).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.domain.schedule import zone
from bot.growthlog.access import Reader, can_prep_where
from storage.repositories import Engineers, OneOnOnes
from storage.repositories.log_reads import LogReads, ReadNotices, ReadRecord
from storage.uow import UnitOfWork

LOG, PREP, EXPORT, PROFILE = "log", "prep", "export", "profile"
LISTED = 20
# Said once per reader and workspace, under their first read of anyone's log (where they look,
# not a DM to dismiss): the engineers see each read, so the reader should know before reading on.
READS_NOTICE = ("ℹ️ Reads are visible: the person whose log you read sees who read it, when and how many "
                "entries (`/growth reads`). I'll say this only once.")
WEEKLY_WORDS = {"on": True, "off": False}


NOT_RECORDED = ("I couldn't record this read just now (the database is busy), so I showed nothing: every read "
                "of someone's log is recorded for them. Please try again in a moment.")


class ReadNotRecorded(Exception):
    """The read could not be recorded (SQLite's write lock stayed taken), so nothing is shown."""


@contextmanager
def recording_reads() -> Iterator[None]:
    """Around a unit of work that reads someone else's log and records it: on SQLite it needs
    the write lock, and when another process keeps it past the busy timeout the read raises
    ReadNotRecorded (the listener says NOT_RECORDED) instead of a traceback, showing nothing."""
    try:
        yield
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise ReadNotRecorded() from exc


def entries_text(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def what_was_read(what: str, entries: int) -> str:
    """What a reader did, as the engineer reads it after the reader's name: "read 5 entries of your log"."""
    if what == PREP:
        return f"read a 1:1 prep digest of your log ({entries_text(entries)})"
    if what == EXPORT:
        return f"exported your log ({entries_text(entries)}, without private answers)"
    if what == PROFILE:
        return "looked at your self-assessment profile"
    return f"read {entries_text(entries)} of your log" if entries else "opened your log (nothing to show)"


def record_read(session: Session, reader: Reader, owner_engineer_id: int, owner_user_id: str, what: str,
                entries: int, now: datetime) -> bool:
    """Record one allowed read of `owner_user_id`'s log by `reader`, in the caller's transaction.

    Returns True when this is the reader's first read in their workspace, so the caller adds
    the notice to what it shows. The engineer's own read records nothing and returns False."""
    if reader.user_id == owner_user_id:
        return False
    LogReads(session).record(owner_engineer_id, reader.user_id, what, entries, now)
    return ReadNotices(session).first_time(reader.team_id, reader.user_id, now)


class OwnerGone(Exception):
    """The engineer was deleted (forget-me, a purge) between the read and its record: show nothing."""


def error_class(problem: DBAPIError) -> str:
    """What failed on the database, for a log line: the driver error's class only (its SQL and
    parameters carry people's ids and what was asked)."""
    return type(problem.orig).__name__ if problem.orig is not None else type(problem).__name__


@contextmanager
def read_to_record(uow: UnitOfWork) -> Iterator[Session]:
    """The session for a one-statement read of someone's log that `commit_read` then records:
    on PostgreSQL the autocommit session the record is written in too (`record_on`), one
    connection for both; on SQLite a read-only one (the record goes to the shared batch)."""
    if uow.engine.dialect.name == "postgresql":
        with uow.autocommit() as session:
            yield session
    else:
        with uow.reading(one_snapshot=False) as session:
            yield session


def record_on(uow: UnitOfWork, session: Session) -> Session | None:
    """The `read_to_record` session `commit_read` may write in (PostgreSQL), else None."""
    return session if uow.engine.dialect.name == "postgresql" else None


def commit_read(uow: UnitOfWork, reader: Reader, owner_engineer_id: int, owner_user_id: str, what: str,
                entries: int, now: datetime, mark_prepped: bool = False, session: Session | None = None) -> bool:
    """`record_read` in a transaction of its own, back once committed. `mark_prepped` (a prep
    digest): the pair is marked prepped at `now` in the same transaction once the record is
    written, so the two are committed together or not at all, with the access rule checked
    again there (`can_prep_where`: a relationship removed since the read gets no mark).
    SQLite: the transaction is shared with other readers' (`uow.write_together`). PostgreSQL:
    record, mark and notice are one statement in autocommit (`uow.write_one_statement`), one
    round trip (in `session`, the read's own autocommit session, if given: `read_to_record`).
    Raises ReadNotRecorded (SQLite's lock stayed taken, or the record failed on the database) or OwnerGone."""
    if reader.user_id == owner_user_id:
        return False
    told_before = _told(uow)
    known = (reader.team_id, reader.user_id) in told_before

    def write(session: Session) -> bool | None:
        # Read in another transaction: the owner's row must still be theirs (LogReads.record_if_theirs).
        if not LogReads(session).record_if_theirs(owner_engineer_id, reader.team_id, owner_user_id, reader.user_id,
                                                  what, entries, now):
            return None
        if mark_prepped:
            OneOnOnes(session).mark_pair_prepped_if(reader.team_id, reader.user_id, owner_user_id, now, can_prep_where)
        return False if known else ReadNotices(session).first_time(reader.team_id, reader.user_id, now)

    def write_at_once(session: Session) -> bool | None:
        recorded, told = LogReads(session).record_at_once(
            owner_engineer_id, reader.team_id, owner_user_id, reader.team_id, reader.user_id, what, entries, now,
            tell=not known, mark_if=can_prep_where if mark_prepped else None)
        return told if recorded else None

    try:
        with recording_reads():
            if uow.engine.dialect.name == "postgresql":
                told = uow.write_one_statement(write_at_once, session)
            else:
                told = uow.write_together(write)
    except IntegrityError as exc:      # PostgreSQL: deleted by a transaction that committed meanwhile
        raise OwnerGone() from exc
    except DBAPIError as exc:
        # The record failed after the read (a dropped connection, a failover, a disk error): the
        # page is not shown, and the person is told so, not handed Slack's "dispatch_failed" for
        # a 500. The connection is already back in the pool (invalidated if it was cut).
        logging.getLogger("growth_bot").warning("A read of someone's log could not be recorded: %s",
                                                error_class(exc))
        raise ReadNotRecorded() from exc
    if told is None:
        raise OwnerGone()
    told_before.add((reader.team_id, reader.user_id))
    return told


# Readers known to have been told, per database: their later reads skip the notice's INSERT, one
# SQLite call (or PostgreSQL round trip) fewer on the way to the page. Per process: a reader whose
# notice row went since (forget-me, a purge) is not told a second time by this process.
_TOLD_READERS: "weakref.WeakKeyDictionary[object, set[tuple[str, str]]]" = weakref.WeakKeyDictionary()


def _told(uow: UnitOfWork) -> set[tuple[str, str]]:
    return _TOLD_READERS.setdefault(uow.engine, set())


@dataclass(frozen=True)
class MyReads:
    """What `/growth reads` shows the engineer."""

    records: tuple[ReadRecord, ...]   # newest first
    tz: ZoneInfo
    weekly_line: bool
    manager_user_id: str | None


def my_reads(uow: UnitOfWork, team_id: str, user_id: str, limit: int = LISTED) -> MyReads:
    """The engineer's latest reads by others (none when the bot stores nothing about them)."""
    with uow.reading() as session:
        engineer = Engineers(session).get(team_id, user_id)
        if engineer is None:
            return MyReads((), zone(None), True, None)
        records = tuple(LogReads(session).latest(engineer.id, limit))
        return MyReads(records, zone(engineer.tz), engineer.reads_weekly_line, engineer.manager_user_id)


def set_weekly_line(uow: UnitOfWork, team_id: str, user_id: str, on: bool) -> None:
    """Switch the check-in DM's "Your manager read 3 entries this week" line (creates the engineer)."""
    with uow.writing() as session:
        Engineers(session).get_or_create(team_id, user_id).reads_weekly_line = on
