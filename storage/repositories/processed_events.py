"""Processed events: handle each Slack delivery once, across retries and processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent
from storage.repositories._common import insert_or_get, rowcount


class ProcessedEvents:
    def __init__(self, session: Session):
        self.session = session

    def first_time(self, key: str, now: datetime) -> bool:
        """Record `key`; True the first time it is seen, False afterwards (race-safe).

        The record is part of the caller's transaction: if the caller rolls back, the key
        is forgotten and Slack's retry will be processed.
        """
        if self.session.get(ProcessedEvent, key) is not None:
            return False
        _, created = insert_or_get(
            self.session,
            ProcessedEvent(key=key, created_at=now),
            select(ProcessedEvent).where(ProcessedEvent.key == key),
        )
        return created

    def seen(self, key: str) -> bool:
        """Whether `key` was recorded (and not pruned yet); records nothing."""
        return self.session.get(ProcessedEvent, key) is not None

    def prune(self, older_than: datetime) -> int:
        """Forget keys recorded before `older_than`; return how many."""
        return rowcount(
            self.session.execute(
                delete(ProcessedEvent)
                .where(ProcessedEvent.created_at < older_than)
                .execution_options(synchronize_session=False)
            )
        )
