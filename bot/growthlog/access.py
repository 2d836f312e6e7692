"""Who may read whose growth log: the one place the rule lives, in Python and as SQL, side by side.

An engineer's log is readable by the engineer and by their *current* manager, nobody else.
Admins manage relationships; they do not read reflections. An answer marked private is the
engineer's alone. A 1:1 digest is for the current manager only. Every refusal says the same
thing whether or not the other person has a log, so a refusal reveals nothing.

Each rule comes twice: `can_read(reader, owner)` on an engineer already read, and
`can_read_where(reader, owner)` as a condition on the owner's row inside a query, for the reads
that check access in the statement that reads the log (storage.repositories.growth_log). The
SQL forms build on the column objects' own operators (`==`, `&`, `|`), so this module imports
no SQLAlchemy; tests/growthlog/test_access_rule.py pins each pair together on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REFUSAL = ("You can only read your own growth log, or the log of someone who has named you as their "
           "manager (`/growth manager @you`). Nothing was shown.")


@dataclass(frozen=True)
class Reader:
    team_id: str
    user_id: str


def can_read(reader: Reader, owner) -> bool:
    """`owner` is an Engineer (or None when the person has no log): same answer shape either way."""
    if owner is None or owner.team_id != reader.team_id:
        return False
    return reader.user_id == owner.user_id or (
        owner.manager_user_id is not None and reader.user_id == owner.manager_user_id
    )


def can_read_where(reader: Reader, owner: Any) -> Any:
    """`can_read` as a SQL condition on an engineers row (`owner`: its columns, `table.c`).
    A NULL manager compares as unknown, so it never matches: as `is not None` above."""
    return (owner.team_id == reader.team_id) & (
        (owner.user_id == reader.user_id) | (owner.manager_user_id == reader.user_id)
    )


def sees_private(reader: Reader, owner) -> bool:
    """Private answers are shown to the engineer only, never to their manager."""
    return owner is not None and reader.team_id == owner.team_id and reader.user_id == owner.user_id


def can_prep(reader: Reader, owner) -> bool:
    """A digest is for the report's current manager only: reading one's own log is not a 1:1 prep."""
    return owner is not None and owner.user_id != reader.user_id and can_read(reader, owner)


def can_prep_where(reader: Reader, owner: Any) -> Any:
    """`can_prep` as a SQL condition on an engineers row (`owner`: its columns)."""
    return (owner.user_id != reader.user_id) & can_read_where(reader, owner)
