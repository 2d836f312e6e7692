"""Small builders shared by the storage tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from storage.repositories import Engineers

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
WEEK = date(2026, 3, 2)
LEASE = timedelta(minutes=5)
T = TypeVar("T")


def add_engineer(session_factory: sessionmaker[Session], user_id: str = "U1", team_id: str = "T1", **fields) -> int:
    """Commit an engineer (with a level unless told otherwise) and return its id."""
    with session_factory() as session, session.begin():
        engineer = Engineers(session).get_or_create(team_id, user_id)
        engineer.level_id = fields.pop("level_id", "L3")
        for name, value in fields.items():
            setattr(engineer, name, value)
        session.flush()
        return engineer.id


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(0)` … `work(count - 1)` in threads released at the same instant.

    Returns their results in order; re-raises the first error. Fails rather than hangs
    if a racer gets stuck.
    """
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results[n] = work(n)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck"
    if errors:
        raise errors[0]
    return results
