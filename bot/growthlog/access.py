"""Who may read whose growth log. Plain Python: the one place the rule lives.

An engineer's log is readable by the engineer and by their *current* manager, nobody else.
Admins manage relationships; they do not read reflections. An answer marked private is the
engineer's alone. Every refusal says the same thing whether or not the other person has a log,
so a refusal reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def sees_private(reader: Reader, owner) -> bool:
    """Private answers are shown to the engineer only, never to their manager."""
    return owner is not None and reader.team_id == owner.team_id and reader.user_id == owner.user_id
