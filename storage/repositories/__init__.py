"""Repositories: domain-named reads and writes over a caller-owned `Session`.

None of these methods commits, rolls back or opens a session: the caller's unit of work
(one Slack request, one scheduler job) decides when the transaction ends. Methods may
flush, and a few run a SAVEPOINT (`session.begin_nested()`) so that losing an insert race
costs only that statement, never the caller's transaction.

Every `now` is an aware UTC datetime supplied by the caller, so the clock stays in the
domain layer and tests control it.

`growth_log` holds the reads people wait on (a log page, a 1:1 digest) as functions over a
`Session` running SQLAlchemy Core statements, rows read by column name.
"""

from __future__ import annotations

from storage.repositories.answers import Answers
from storage.repositories.assessments import Assessments
from storage.repositories.checkins import CheckIns
from storage.repositories.engineers import Engineers
from storage.repositories.one_on_ones import OneOnOnes
from storage.repositories.processed_events import ProcessedEvents

__all__ = ["Answers", "Assessments", "CheckIns", "Engineers", "OneOnOnes", "ProcessedEvents"]
