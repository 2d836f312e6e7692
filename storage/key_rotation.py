"""Re-encrypting every stored value under the newest key (`growth-bot keys rotate`).

Each encrypted column (storage.encrypted_columns) is walked in primary-key order, a batch per
short write transaction through the unit of work, so the bot keeps running: its writers wait at
most one batch. A value already under the newest key is skipped, so a rotation stopped half-way
(or run twice) just carries on; plain text from before encryption is encrypted in place the same
way. The rows of a batch are locked as they are read (FOR UPDATE on PostgreSQL; on SQLite a
write transaction holds the write lock from BEGIN), so an answer edited meanwhile is never
overwritten with its older text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Text, bindparam, cast, func, not_, select, update

from storage.crypto import PREFIX, Keyring
from storage.encrypted_columns import encrypted_columns
from storage.types import EncryptedJSON
from storage.uow import UnitOfWork

DEFAULT_BATCH = 500


@dataclass
class ColumnProgress:
    column: str
    rows: int           # rows in the table when the walk started
    seen: int = 0
    rewritten: int = 0


def rotate(uow: UnitOfWork, keyring: Keyring, batch: int = DEFAULT_BATCH,
           report: Callable[[ColumnProgress], None] = lambda progress: None) -> list[ColumnProgress]:
    """Bring every encrypted column under `keyring`'s newest key; `report` hears after each batch.
    Raises storage.crypto.UnreadableValue if a value is under a key `keyring` does not hold."""
    done = []
    for column in encrypted_columns():
        done.append(_rotate_column(uow, keyring, column, batch, report))
    return done


def left_behind(uow: UnitOfWork, keyring: Keyring) -> dict[str, int]:
    """Per column, the values not under the newest key (plain text or an older key): one SQL scan
    each, nothing decrypted. All zero after a rotation, unless an instance still encrypts with
    an older key."""
    counts = {}
    with uow.reading() as session:
        for column in encrypted_columns():
            raw = _raw(column)
            current = ('"' if _is_json(column) else "") + f"{PREFIX}{keyring.current_id}:"
            counts[str(column)] = session.scalar(
                select(func.count()).select_from(column.table)
                .where(raw.is_not(None), not_(raw.startswith(current, autoescape=True)))) or 0
    return counts


def _rotate_column(uow: UnitOfWork, keyring: Keyring, column: Column, batch: int,
                   report: Callable[[ColumnProgress], None]) -> ColumnProgress:
    table = column.table
    (key,) = table.primary_key.columns
    with uow.reading() as session:
        progress = ColumnProgress(str(column), session.scalar(select(func.count()).select_from(table)) or 0)
    name = str(column)
    rewrite = (update(table).where(key == bindparam("_key")).values({column.name: bindparam("_value")})
               .execution_options(synchronize_session=False))
    after = None
    while True:
        with uow.writing() as session:
            page = select(key, _raw(column)).order_by(key).limit(batch)
            if after is not None:
                page = page.where(key > after)
            if session.bind.dialect.name == "postgresql":
                page = page.with_for_update()
            rows = session.execute(page).all()
            changes = []
            for row_key, raw in rows:
                value = _plain_value(keyring, column, name, raw)
                if value is not _CURRENT:
                    changes.append({"_key": row_key, "_value": value})
            if changes:
                session.execute(rewrite, changes)      # the column's type encrypts under the newest key
        if not rows:
            return progress
        after = rows[-1][0]
        progress.seen += len(rows)
        progress.rewritten += len(changes)
        report(progress)


_CURRENT = object()


def _plain_value(keyring: Keyring, column: Column, name: str, raw: str | None):
    """What the row holds, as the column's type takes it; `_CURRENT` if already under the newest key."""
    if raw is None:
        return _CURRENT
    if not _is_json(column):
        return _CURRENT if keyring.is_current(raw) else keyring.decrypt(raw, name)
    stored = json.loads(raw)
    if not isinstance(stored, str):
        return stored                                   # plain JSON from before encryption
    return _CURRENT if keyring.is_current(stored) else json.loads(keyring.decrypt(stored, name))


def _raw(column: Column):
    # The stored text itself, past the column's type (a JSON column as its JSON text).
    return cast(column, Text())


def _is_json(column: Column) -> bool:
    return isinstance(column.type, EncryptedJSON)


def checkpoint_wal(uow: UnitOfWork) -> bool | None:
    """SQLite: copy the WAL into the file and empty it, so no frame written before the rotation
    (plain text, an old key's ciphertext) stays in the -wal file; False if the bot's readers kept
    part of it for now (SQLite rewrites it as it goes on). None on PostgreSQL (no such file)."""
    if uow.engine.dialect.name != "sqlite":
        return None
    # Outside any transaction: SQLAlchemy would BEGIN first, and SQLite refuses to checkpoint
    # inside one ("database table is locked"). The raw DBAPI connection runs in autocommit.
    connection = uow.engine.raw_connection()
    try:
        cursor = connection.cursor()
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        cursor.close()
    finally:
        connection.close()
    return not busy
