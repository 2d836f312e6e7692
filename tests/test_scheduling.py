"""The ticker's housekeeping: dedupe keys are kept long enough for Slack's retries, then pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.scheduling import DEDUPE_RETENTION, prune_processed_events
from storage.models import ProcessedEvent
from storage.repositories import ProcessedEvents

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class FakeServices:
    def __init__(self, uow):
        self.uow = uow

    @staticmethod
    def now() -> datetime:
        return NOW


def test_pruning_forgets_only_keys_older_than_the_retention(session_factory, uow):
    with session_factory.begin() as session:
        events = ProcessedEvents(session)
        assert events.first_time("event:old", NOW - DEDUPE_RETENTION - timedelta(minutes=1))
        assert events.first_time("event:recent", NOW - timedelta(minutes=5))

    prune_processed_events(FakeServices(uow))

    with session_factory() as session:
        assert [e.key for e in session.query(ProcessedEvent)] == ["event:recent"]
    with session_factory.begin() as session:
        assert not ProcessedEvents(session).first_time("event:recent", NOW)   # still deduped
        assert ProcessedEvents(session).first_time("event:old", NOW)          # forgotten: new again
