"""Column types shared by the models and the migrations (so migrations never import models)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from storage.crypto import PREFIX, installed_keyring


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: timezone-aware UTC in Python, whichever database stores it.

    PostgreSQL stores `timestamptz` (and hands values back in the session's TimeZone, so we
    convert); SQLite has no timezone support, so we store naive UTC text and re-attach UTC
    on the way out. Naive datetimes are refused rather than guessed at: a naive value is
    almost always a local time by mistake.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def __repr__(self) -> str:
        return "UTCDateTime()"


class EncryptedText(TypeDecorator[str]):
    """Text an engineer wrote: AES-GCM ciphertext in the database (storage.crypto), plain `str`
    in Python. The column stays `Text`, so no migration; legacy plain text reads as it is.

    `column` ("answers.text") is bound into each ciphertext, so one cannot be moved to another
    column. The keyring is the process-wide one (storage.crypto.install_keyring): a
    TypeDecorator is called by SQLAlchemy with a value and a dialect only, nothing else of ours.
    A ciphertext never compares equal in SQL (each has a fresh nonce): filter in Python.
    """

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.column}: expected str, got {type(value).__name__}")
        return installed_keyring().encrypt(value, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value                        # plain text from before encryption: no key needed
        return installed_keyring().decrypt(value, self.column)

    def __repr__(self) -> str:
        return f"EncryptedText({self.column!r})"


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value an engineer's words live in (picks, a Slack payload, a message's blocks),
    stored as one JSON string holding its ciphertext: `"enc1:…"`.

    The column stays `JSON` (PostgreSQL's `json` takes a JSON string as readily as an object),
    so no migration. A stored object or array is legacy plain JSON and reads as it is.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        # ASCII escapes: a Slack payload may carry a lone surrogate (half an emoji), which is valid
        # JSON escaped and not encodable as UTF-8 raw; the handler refuses it later, in a sentence.
        return installed_keyring().encrypt(json.dumps(value, separators=(",", ":")), self.column)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str):
            return json.loads(installed_keyring().decrypt(value, self.column))
        return value

    def __repr__(self) -> str:
        return f"EncryptedJSON({self.column!r})"
