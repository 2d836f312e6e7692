"""Every encrypted column of the schema, found by its type: what the start-up check samples and
`growth-bot keys rotate` walks. A column given EncryptedText/EncryptedJSON in storage.models is
in this list with nothing else to change."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Column

from storage.types import EncryptedJSON, EncryptedText


@lru_cache(maxsize=1)
def encrypted_columns() -> tuple[Column, ...]:
    from storage.models import Base

    return tuple(column for table in Base.metadata.sorted_tables for column in table.columns
                 if isinstance(column.type, (EncryptedText, EncryptedJSON)))
