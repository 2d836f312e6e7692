"""Helpers shared by the repositories."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")


def insert_or_get(session: Session, new: T, existing: Select[T]) -> tuple[T, bool]:
    """Insert `new`, or return the row `existing` selects if a unique constraint says it is there.

    The INSERT runs in a SAVEPOINT: when a concurrent transaction wins the race, only the
    savepoint is rolled back and the caller's transaction carries on (on PostgreSQL a
    failed statement would otherwise poison the whole transaction).
    """
    try:
        with session.begin_nested():
            session.add(new)
    except IntegrityError:
        found = session.scalars(existing).one_or_none()
        if found is None:  # the violation was some other constraint
            raise
        return found, False
    return new, True


def rowcount(result: Any) -> int:
    return max(result.rowcount, 0)
