"""The inbox: Slack deliveries written down before they are acknowledged, then processed once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, literal, select, update
from sqlalchemy.orm import Session

from storage.models import CheckIn, Engineer, InboxItem
from storage.repositories._common import insert_per_dialect, literal_limit, rowcount, run_prebuilt


# Built once per dialect and run on the session's connection, not through the ORM: building the
# statement per call (its values, its cache key) cost more CPU than SQLite took to run it.
_ADD = insert_per_dialect(lambda insert: insert(InboxItem.__table__).on_conflict_do_nothing(index_elements=["key"])
                          .returning(InboxItem.__table__.c.id))
_INBOX, _CHECKINS, _ENGINEERS = InboxItem.__table__, CheckIn.__table__, Engineer.__table__
# The same INSERT, only if check-in :checkin_id is user :user_id's of team :team_id (the access
# rule as a WHERE clause): the ownership check and the write in one statement.
_OWNED_BY_SUBMITTER = (
    select(bindparam("key", type_=_INBOX.c.key.type), bindparam("kind", type_=_INBOX.c.kind.type),
           _ENGINEERS.c.team_id, bindparam("payload", type_=_INBOX.c.payload.type),
           bindparam("received_at", type_=_INBOX.c.received_at.type), literal(0, type_=_INBOX.c.attempts.type))
    .select_from(_CHECKINS.join(_ENGINEERS, _ENGINEERS.c.id == _CHECKINS.c.engineer_id))
    .where(_CHECKINS.c.id == bindparam("checkin_id"), _ENGINEERS.c.team_id == bindparam("team_id"),
           _ENGINEERS.c.user_id == bindparam("user_id"))
)
_ADD_IF_OWNED = insert_per_dialect(lambda insert: insert(_INBOX)
                                   .from_select(["key", "kind", "team_id", "payload", "received_at", "attempts"],
                                                _OWNED_BY_SUBMITTER)
                                   .on_conflict_do_nothing(index_elements=["key"]).returning(_INBOX.c.id))


class Inbox:
    def __init__(self, session: Session):
        self.session = session

    def add(self, key: str, kind: str, team_id: str | None, payload: dict[str, Any], now: datetime) -> int | None:
        """Write one delivery down; its id, or None if `key` is already here (Slack's retry).

        One INSERT … ON CONFLICT DO NOTHING: the cheapest durable write there is, because it
        stands between Slack and the acknowledgement.
        """
        return run_prebuilt(self.session, _ADD, {
            "key": key, "kind": kind, "team_id": team_id, "payload": payload, "received_at": now, "attempts": 0,
        }).scalar_one_or_none()

    def add_for_checkin(self, key: str, kind: str, team_id: str, user_id: str, checkin_id: int,
                        payload: dict[str, Any], now: datetime) -> int | None:
        """`add`, but only if check-in `checkin_id` is `user_id`'s: its id, or None if it is not
        theirs or `key` is already here (tell the two apart afterwards, off the ack's write)."""
        return run_prebuilt(self.session, _ADD_IF_OWNED, {
            "key": key, "kind": kind, "team_id": team_id, "user_id": user_id, "checkin_id": checkin_id,
            "payload": payload, "received_at": now,
        }).scalar_one_or_none()

    def kind_of(self, item_id: int) -> str | None:
        """What item `item_id` is, if it is not done yet."""
        return self.session.scalar(select(InboxItem.kind).where(InboxItem.id == item_id, InboxItem.done_at.is_(None)))

    def take(self, item_id: int, now: datetime) -> dict[str, Any] | None:
        """Mark the item done in the caller's transaction and return its payload; None if it was
        done already. Do the item's work in the same transaction: on PostgreSQL the UPDATE also
        locks the row, so a second processor waits and then finds it done; on SQLite writers run
        one at a time anyway. Either way the work happens exactly once.

        The stored payload is emptied as it is taken: what an engineer wrote then lives in the
        growth log alone, not in a second copy here.
        """
        payload = self.payload(item_id)
        if payload is None:
            return None
        taken = self.session.execute(
            update(InboxItem).where(InboxItem.id == item_id, InboxItem.done_at.is_(None))
            .values(done_at=now, payload={}, attempts=InboxItem.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return payload if rowcount(taken) == 1 else None

    def payload(self, item_id: int) -> dict[str, Any] | None:
        """The payload of an item not yet done (a read before the processing transaction)."""
        return self.session.scalar(select(InboxItem.payload).where(InboxItem.id == item_id, InboxItem.done_at.is_(None)))

    def undone_in_team(self, team_id: str) -> list[tuple[int, str, dict[str, Any]]]:
        """(id, kind, payload) of every item of `team_id` not yet done: the payload is encrypted,
        so whose an item is can only be read here, not in SQL."""
        return [tuple(row) for row in self.session.execute(
            select(InboxItem.id, InboxItem.kind, InboxItem.payload)
            .where(InboxItem.team_id == team_id, InboxItem.done_at.is_(None)).order_by(InboxItem.id))]

    def void(self, item_ids: list[int], now: datetime) -> int:
        """Mark items done without processing them, their payload emptied; how many were undone."""
        if not item_ids:
            return 0
        return rowcount(self.session.execute(
            update(InboxItem).where(InboxItem.id.in_(item_ids), InboxItem.done_at.is_(None))
            .values(done_at=now, payload={}).execution_options(synchronize_session=False)))

    def undone(self, received_before: datetime, max_attempts: int, limit: int = 200) -> list[int]:
        """Items still to process, oldest first; one that failed `max_attempts` times is left
        for a person to look at (its `last_error` says why) rather than retried for ever."""
        return list(self.session.scalars(
            select(InboxItem.id).where(InboxItem.done_at.is_(None), InboxItem.received_at < received_before,
                                       InboxItem.attempts < max_attempts)
            .order_by(InboxItem.id).limit(literal_limit()), {"limit": limit}))

    def note_failure(self, item_id: int, error: str) -> None:
        self.session.execute(update(InboxItem).where(InboxItem.id == item_id)
                             .values(attempts=InboxItem.attempts + 1, last_error=error[:500])
                             .execution_options(synchronize_session=False))

    def prune(self, older_than: datetime) -> int:
        """Forget processed deliveries older than Slack could still retry them."""
        return rowcount(self.session.execute(
            delete(InboxItem).where(InboxItem.done_at.is_not(None), InboxItem.received_at < older_than)
            .execution_options(synchronize_session=False)))
