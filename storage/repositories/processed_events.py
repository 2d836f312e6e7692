"""Processed events: handle each Slack delivery once, across retries and processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent
from storage.repositories._common import insert_per_dialect, rowcount, run_prebuilt

# Built once, per dialect: one INSERT … ON CONFLICT DO NOTHING, run on the session's connection
# (a modal answer's ack waits on it; the ORM's get, SAVEPOINT and flush cost four statements).
# preserve_rowcount: without it psycopg's rowcount is -1 once SQLAlchemy has closed the cursor.
_RECORD = insert_per_dialect(lambda insert: insert(ProcessedEvent.__table__)
                             .on_conflict_do_nothing(index_elements=["key"]).execution_options(preserve_rowcount=True))


class ProcessedEvents:
    def __init__(self, session: Session):
        self.session = session

    def first_time(self, key: str, now: datetime) -> bool:
        """Record `key`; True the first time it is seen, False afterwards (race-safe).

        The record is part of the caller's transaction: if the caller rolls back, the key
        is forgotten and Slack's retry will be processed.
        """
        inserted = run_prebuilt(self.session, _RECORD, {"key": key, "created_at": now})
        return rowcount(inserted) == 1

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
