"""The outbox: messages the bot sends on its own, each claimed here before it is posted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, OutboxStatus
from storage.repositories._common import insert_or_get, insert_per_dialect, literal_limit, rowcount, run_prebuilt, update_if
from storage.workspace_models import Workspace


# Queueing one message, built once per dialect and run on the session's connection: a modal
# answer's confirmation is queued in the transaction its ack waits on.
_ADD_ONE = insert_per_dialect(lambda insert: insert(OutboxMessage.__table__)
                              .on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.__table__.c.id))


class Outbox:
    def __init__(self, session: Session):
        self.session = session

    def add(self, key: str, *, channel: str, text: str, blocks: list[dict[str, Any]], now: datetime,
            team_id: str | None = None, thread_ts: str | None = None) -> tuple[OutboxMessage, bool]:
        """Queue a message in the caller's transaction; (row, created). One `key`, one message:
        queueing the same cause again (a retried event, a crashed job run twice) adds nothing."""
        return insert_or_get(
            self.session,
            OutboxMessage(key=key, team_id=team_id, channel=channel, thread_ts=thread_ts, text=text,
                          blocks=blocks, status=OutboxStatus.PENDING.value, next_attempt_at=now, created_at=now),
            select(OutboxMessage).where(OutboxMessage.key == key),
        )

    def add_one(self, key: str, *, channel: str, text: str, blocks: list[dict[str, Any]], now: datetime,
                team_id: str | None = None, thread_ts: str | None = None) -> int | None:
        """`add` in one INSERT … ON CONFLICT DO NOTHING: the new message's id, or None if `key`
        was queued before. Loads no row into the session."""
        return run_prebuilt(self.session, _ADD_ONE, {
            "key": key, "team_id": team_id, "channel": channel, "thread_ts": thread_ts, "text": text,
            "blocks": blocks, "status": OutboxStatus.PENDING.value, "next_attempt_at": now, "created_at": now,
            "attempts": 0, "maybe_posted": False}).scalar_one_or_none()

    def add_many(self, messages: list[dict[str, Any]], now: datetime) -> dict[str, int]:
        """Queue several messages (each the keyword arguments of `add`) in one statement, in the
        caller's transaction; key -> id of those queued now (a key queued before is left out).
        Ids follow the list's order only within one call: queue a message's later parts in a
        later call."""
        if not messages:
            return {}
        insert = (postgresql.insert if self.session.bind.dialect.name == "postgresql" else sqlite.insert)(OutboxMessage)
        rows = [{"key": m["key"], "team_id": m.get("team_id"), "channel": m["channel"], "thread_ts": m.get("thread_ts"),
                 "text": m["text"], "blocks": m["blocks"], "status": OutboxStatus.PENDING.value,
                 "next_attempt_at": now, "created_at": now, "attempts": 0, "maybe_posted": False}
                for m in messages]
        inserted = self.session.execute(
            insert.values(rows).on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxMessage.key, OutboxMessage.id))
        return {key: message_id for key, message_id in inserted}

    def by_key(self, key: str) -> OutboxMessage | None:
        return self.session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()

    def claim(self, message_id: int, owner: str, now: datetime, lease: timedelta) -> OutboxMessage | None:
        """Make `owner` the one sender of the message (a due "pending" row, or a "sending" row
        whose sender died); None if someone else has it or it is done. Commit before posting."""
        taken = update_if(
            self.session, OutboxMessage, message_id,
            [or_(and_(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now),
                 and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_until < now))],
            status=OutboxStatus.SENDING.value, owner=owner, lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        return self.session.get(OutboxMessage, message_id, populate_existing=True) if taken else None

    def claim_many(self, message_ids: list[int], owner: str, now: datetime,
                   lease: timedelta) -> list[OutboxMessage]:
        """`claim` for several messages in one statement: the rows this statement made `owner`'s,
        in id order (each row is re-checked as it is locked, so of two racers one gets it)."""
        if not message_ids:
            return []
        return sorted(self.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sorted(set(message_ids))),
                   or_(and_(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now),
                       and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_until < now)))
            .values(status=OutboxStatus.SENDING.value, owner=owner, lease_until=now + lease,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False, populate_existing=True)
        ).all(), key=lambda row: row.id)

    def due_ids(self, now: datetime, limit: int = 200) -> list[int]:
        """Messages a drain should try: due pending ones, and claims whose sender died; none
        for a workspace that uninstalled the app (held until a reinstall or the purge)."""
        gone = select(Workspace.team_id).where(Workspace.team_id == OutboxMessage.team_id,
                                               Workspace.uninstalled_at.is_not(None))
        return list(self.session.scalars(
            select(OutboxMessage.id)
            .where(or_(and_(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now),
                       and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_until < now)),
                   ~gone.exists())
            .order_by(OutboxMessage.id)
            .limit(literal_limit())
        , {"limit": limit}))

    def mark_sent(self, message_id: int, owner: str, channel_id: str, message_ts: str, now: datetime) -> bool:
        return self._if_owned(message_id, owner, status=OutboxStatus.SENT.value, channel_id=channel_id,
                              message_ts=message_ts, sent_at=now, lease_until=None, last_error=None)

    def retry_later(self, message_id: int, owner: str, error: str, at: datetime, maybe_posted: bool) -> bool:
        """Back to "pending" until `at`. `maybe_posted` stays set once set: the next attempt
        looks for an earlier post by its metadata before posting again."""
        values: dict[str, Any] = {"status": OutboxStatus.PENDING.value, "owner": None, "lease_until": None,
                                  "next_attempt_at": at, "last_error": error}
        if maybe_posted:
            values["maybe_posted"] = True
        return self._if_owned(message_id, owner, **values)

    def give_back(self, message_id: int, owner: str, reason: str, at: datetime) -> bool:
        """A claim not used after all (nothing was posted): back to "pending" until `at`, and
        the attempt its claim counted is taken back (an untried message is posted without a
        look-up first)."""
        return self._if_owned(message_id, owner, status=OutboxStatus.PENDING.value, owner=None, lease_until=None,
                              next_attempt_at=at, last_error=reason, attempts=OutboxMessage.attempts - 1)

    def mark_failed(self, message_id: int, owner: str, error: str) -> bool:
        return self._if_owned(message_id, owner, status=OutboxStatus.FAILED.value, lease_until=None, last_error=error)

    def claim_owners(self) -> set[str]:
        """Who holds a live-looking claim right now (status "sending")."""
        return set(self.session.scalars(
            select(OutboxMessage.owner).where(OutboxMessage.status == OutboxStatus.SENDING.value).distinct()))

    def release_claims_of(self, owners: set[str], now: datetime) -> int:
        """Claims of senders known to be dead go back to "pending", marked maybe posted (they may
        have posted before dying), so the next attempt looks before posting."""
        if not owners:
            return 0
        return rowcount(self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.owner.in_(owners))
            .values(status=OutboxStatus.PENDING.value, owner=None, lease_until=None, next_attempt_at=now,
                    maybe_posted=True)
            .execution_options(synchronize_session=False)))

    def forget_channel(self, channel: str) -> int:
        """Unsent messages to `channel` (a user who asked to be forgotten) are dropped."""
        return rowcount(self.session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.status != OutboxStatus.SENDING.value)
            .execution_options(synchronize_session=False)
        ))

    def prune(self, older_than: datetime) -> int:
        """Forget finished messages older than `older_than` (their keys can no longer recur)."""
        return rowcount(self.session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.status.in_([OutboxStatus.SENT.value, OutboxStatus.FAILED.value]),
                   OutboxMessage.created_at < older_than)
            .execution_options(synchronize_session=False)
        ))

    def _if_owned(self, message_id: int, sender: str, **values: Any) -> bool:
        return update_if(self.session, OutboxMessage, message_id,
                         [OutboxMessage.owner == sender, OutboxMessage.status == OutboxStatus.SENDING.value], **values)



