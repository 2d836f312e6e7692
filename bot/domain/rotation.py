"""Which questions a check-in asks: rotate so every question is asked before any repeats."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Pick:
    items: tuple
    next_offset: int


def pool_key(source_key: str, question_ids: Sequence[str]) -> str:
    """Identifies a pool; when the pool changes (new level, edited content) rotation restarts."""
    digest = hashlib.sha1("\n".join(question_ids).encode()).hexdigest()[:12]
    return f"{source_key}#{digest}"


def pick_questions(pool: Sequence[T], offset: int, count: int) -> Pick:
    """`count` questions starting at `offset`, wrapping around the pool.

    Consecutive picks walk the pool in order, so within any run of ceil(len/count) check-ins
    every question is asked once before the first one comes round again.
    """
    if not pool:
        return Pick((), 0)
    count = max(1, min(count, len(pool)))
    start = offset % len(pool)
    items = tuple(pool[(start + i) % len(pool)] for i in range(count))
    return Pick(items, (start + count) % len(pool))
