"""Reads of an engineer's log by someone else, and the one notice each reader gets about them.

A read is recorded in the same transaction as the decision to show it (bot.growthlog.reads):
if the record cannot be written, nothing is shown. Rows hang off the engineer (ON DELETE
CASCADE), so forget-me takes them too; the retention pass ages them out with the answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, exists, false, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Engineer, LogRead, ReadNotice
from storage.repositories._common import literal_limit, rowcount
from storage.repositories.one_on_ones import mark_pair_prepped_statement


class ReadRecord(NamedTuple):
    reader_user_id: str
    what: str          # "log", "prep", "export", "profile"
    entries: int
    read_at: datetime


class ReaderTotal(NamedTuple):
    """One reader's reads of one engineer's log over a period (the check-in DM's weekly line)."""

    reader_user_id: str
    reads: int
    entries: int


class LogReads:
    def __init__(self, session: Session):
        self.session = session

    def record(self, engineer_id: int, reader_user_id: str, what: str, entries: int, now: datetime) -> None:
        """One read by `reader_user_id` of `engineer_id`'s log: `entries` shown, at `now`."""
        # A Core INSERT, not session.add + flush: this stands between a manager and the page
        # they asked for, and the ORM's unit of work cost more than the statement itself.
        self.session.execute(_RECORD, {"engineer_id": engineer_id, "reader_user_id": reader_user_id, "what": what,
                                       "entries": max(0, entries), "read_at": now})

    def record_if_theirs(self, engineer_id: int, team_id: str, user_id: str, reader_user_id: str, what: str,
                         entries: int, now: datetime) -> bool:
        """`record`, only if row `engineer_id` is still `user_id`'s of `team_id`; False if not.

        For a record written after the read, in another transaction: the engineer may have been
        deleted meanwhile (forget-me, a purge), and on SQLite a row inserted since can take the
        freed id, so the foreign key alone would pin the read on someone else."""
        inserted = self.session.execute(_RECORD_IF_THEIRS, {
            "engineer_id": engineer_id, "team_id": team_id, "user_id": user_id, "reader_user_id": reader_user_id,
            "what": what, "entries": max(0, entries), "read_at": now})
        return rowcount(inserted) == 1

    def record_at_once(self, engineer_id: int, team_id: str, user_id: str, reader_team_id: str,
                       reader_user_id: str, what: str, entries: int, now: datetime, tell: bool,
                       mark_if: Any = None) -> tuple[bool, bool]:
        """PostgreSQL: `record_if_theirs`, and with it in the same statement (writable CTEs, one
        round trip; run it in autocommit and it is its own transaction) the reader's notice
        (`tell`: ReadNotices.first_time) and, given `mark_if` (the access rule's SQL form), the
        prep's mark of the pair (OneOnOnes.mark_pair_prepped_if), each only if the record was
        written. (recorded, told)."""
        row = self.session.execute(_record_at_once(tell, mark_if), {
            "engineer_id": engineer_id, "team_id": team_id, "user_id": user_id, "reader_user_id": reader_user_id,
            "what": what, "entries": max(0, entries), "read_at": now, "reader_team": reader_team_id,
            "team": reader_team_id, "manager": reader_user_id, "report": user_id, "at": now}).one()
        return bool(row.recorded), bool(row.told)

    def latest(self, engineer_id: int, limit: int = 20) -> list[ReadRecord]:
        """The engineer's newest reads first, at most `limit`."""
        rows = self.session.execute(_LATEST, {"engineer_id": engineer_id, "limit": limit})
        return [ReadRecord(r.reader_user_id, r.what, r.entries, r.read_at) for r in rows]

    def all_for(self, engineer_id: int) -> list[ReadRecord]:
        """Every read of the engineer's log, newest first (for their export)."""
        rows = self.session.execute(_ALL, {"engineer_id": engineer_id})
        return [ReadRecord(r.reader_user_id, r.what, r.entries, r.read_at) for r in rows]

    def totals_since(self, engineer_ids: Iterable[int], since: datetime) -> dict[int, list[ReaderTotal]]:
        """Per engineer, each reader's reads and entries read at or after `since`, in one query."""
        ids = list(engineer_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(LogRead.engineer_id, LogRead.reader_user_id, func.count(), func.sum(LogRead.entries))
            .where(LogRead.engineer_id.in_(ids), LogRead.read_at >= since)
            .group_by(LogRead.engineer_id, LogRead.reader_user_id)
            .order_by(LogRead.engineer_id, LogRead.reader_user_id))
        found: dict[int, list[ReaderTotal]] = {}
        for engineer_id, reader, reads, entries in rows:
            found.setdefault(engineer_id, []).append(ReaderTotal(reader, reads, int(entries or 0)))
        return found

    def delete_older_than(self, cutoff: datetime, batch: int) -> int:
        """Delete up to `batch` reads made before `cutoff` (the retention pass); return how many."""
        ids = list(self.session.scalars(select(LogRead.id).where(LogRead.read_at < cutoff)
                                        .order_by(LogRead.id).limit(batch)))
        if not ids:
            return 0
        return rowcount(self.session.execute(delete(LogRead).where(LogRead.id.in_(ids))
                                             .execution_options(synchronize_session=False)))


class ReadNotices:
    def __init__(self, session: Session):
        self.session = session

    def first_time(self, team_id: str, reader_user_id: str, now: datetime) -> bool:
        """Record that the reader is being told; True only the first time in their workspace.

        One INSERT … ON CONFLICT DO NOTHING, race-safe: of two first reads at once, one inserts
        and is told, the other inserts nothing and is told nothing (and its transaction carries on)."""
        statement = _NOTICE["postgresql" if self.session.bind.dialect.name == "postgresql" else "sqlite"]
        inserted = self.session.execute(statement, {"team_id": team_id, "reader_user_id": reader_user_id,
                                                    "told_at": now})
        return rowcount(inserted) == 1


_NEWEST_FIRST = (select(LogRead.reader_user_id, LogRead.what, LogRead.entries, LogRead.read_at)
                 .where(LogRead.engineer_id == bindparam("engineer_id"))
                 .order_by(LogRead.read_at.desc(), LogRead.id.desc()))
_ALL = _NEWEST_FIRST
_LATEST = _NEWEST_FIRST.limit(literal_limit())

# Built once: constructing a statement per read cost as much as running it.
_RECORD = insert(LogRead.__table__)
_READ = LogRead.__table__.c
_RECORD_IF_THEIRS = insert(LogRead.__table__).from_select(
    ["engineer_id", "reader_user_id", "what", "entries", "read_at"],
    select(Engineer.id, bindparam("reader_user_id", type_=_READ.reader_user_id.type),
           bindparam("what", type_=_READ.what.type), bindparam("entries", type_=_READ.entries.type),
           bindparam("read_at", type_=_READ.read_at.type))
    .where(Engineer.id == bindparam("engineer_id"), Engineer.team_id == bindparam("team_id"),
           Engineer.user_id == bindparam("user_id"))
).execution_options(preserve_rowcount=True)
_NOTICE = {dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(ReadNotice.__table__)
           .on_conflict_do_nothing(index_elements=["team_id", "reader_user_id"])
           # Without it psycopg's rowcount is -1 by the time it is asked (the cursor is closed):
           # on PostgreSQL no reader was ever told.
           .execution_options(preserve_rowcount=True) for dialect in (postgresql, sqlite)}


@lru_cache(maxsize=8)
def _record_at_once(tell: bool, mark_if: Any):
    recorded = _RECORD_IF_THEIRS.returning(literal_column("1").label("one")).cte("recorded")
    written = exists(select(recorded.c.one))
    if mark_if is not None:
        # Executed whether or not the query below reads it (PostgreSQL runs every data-modifying
        # CTE to completion); `written` makes it follow the record.
        mark = mark_pair_prepped_statement(mark_if, written).returning(literal_column("1").label("one")).cte("marked")
    told = false()
    if tell:
        notice = postgresql.insert(ReadNotice.__table__).from_select(
            ["team_id", "reader_user_id", "told_at"],
            select(bindparam("reader_team", type_=ReadNotice.__table__.c.team_id.type),
                   bindparam("reader_user_id", type_=ReadNotice.__table__.c.reader_user_id.type),
                   bindparam("read_at", type_=ReadNotice.__table__.c.told_at.type)).where(written))
        notice = (notice.on_conflict_do_nothing(index_elements=["team_id", "reader_user_id"])
                  .returning(literal_column("1").label("one")).cte("told"))
        told = exists(select(notice.c.one))
    statement = select(written.label("recorded"), told.label("told"))
    if mark_if is not None:
        statement = statement.add_cte(mark)
    return statement
