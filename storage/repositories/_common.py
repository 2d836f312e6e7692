"""Helpers shared by the repositories."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from sqlalchemy import BindParameter, Integer, Select, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
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


def literal_limit(name: str = "limit") -> BindParameter[int]:
    """A LIMIT (or OFFSET) given at execution like a parameter, but written into the SQL.

    PostgreSQL re-plans a prepared statement on every run when its LIMIT is a parameter (the
    generic plan, not knowing the limit, looks costlier than the custom ones), and for a small
    indexed read planning costs more than running. Limits are few, so the statements stay few.
    """
    return bindparam(name, type_=Integer(), literal_execute=True)


def insert_per_dialect(build: Callable[[Callable[..., Any]], Any]) -> dict[str, Any]:
    """An INSERT built once per dialect, `build(insert)` given that dialect's `insert` (for ON CONFLICT):
    statements an ack waits on are built at import, not per call (building one, its values and
    its cache key, cost more CPU than SQLite took to run it). Run it with `run_prebuilt`."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def run_prebuilt(session: Session, statements: dict[str, Any], parameters: Any) -> Any:
    """Run the session's dialect's statement of `insert_per_dialect` on its connection (no ORM)."""
    connection = session.connection()
    return connection.execute(statements[connection.dialect.name], parameters)


def rowcount(result: Any) -> int:
    return max(result.rowcount, 0)


def update_if(session: Session, model: type, row_id: int, conditions: list[Any], **values: Any) -> bool:
    """A conditional UPDATE of one row (the compare-and-set behind claims and leases): True
    only if the row matched `conditions`. A copy of the row already loaded in `session` is
    refreshed, so it stays in step with what SQL just changed."""
    result = session.execute(
        update(model).where(model.id == row_id, *conditions).values(**values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    loaded = session.identity_map.get(session.identity_key(model, row_id))
    if loaded is not None:
        session.refresh(loaded)
    return True
