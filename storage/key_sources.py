"""Where the encryption keys come from at start-up, and the check that they open the data.

    keyring = load_keyring(keys, key_file, engine.url)    # raises KeyringError (one line)
    check_keyring_opens(uow, keyring)                     # raises KeyringError (one line)
    install_keyring(keyring)

Keys are GROWTH_ENCRYPTION_KEY's (comma-separated, newest first), then the lines of
GROWTH_ENCRYPTION_KEY_FILE's file (newest first; blank lines and `#` comments skipped). With
neither, SQLite generates a key file beside the database (`growth-bot.db.key`, mode 0600) on
the first start and reads it afterwards, so the README's first command just works and a copy
of the database alone reads as noise; PostgreSQL refuses to start (a generated key would live
on one host, and the next instance would read nothing).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from storage.crypto import PREFIX, Keyring, KeyringError, UnreadableValue, new_key, parse_key

logger = logging.getLogger("growth_bot")

# Rows read per encrypted column at start-up: the newest and the oldest few, by primary key.
_SAMPLE = 8


def load_keyring(keys: Sequence[str], key_file: Path | None, uow) -> Keyring:
    """The keyring for the database of `uow`, from the settings' keys and key file."""
    url = uow.engine.url
    parsed = [parse_key(text, f"GROWTH_ENCRYPTION_KEY (key {n} of {len(keys)})") for n, text in enumerate(keys, 1)]
    if key_file is not None:
        parsed += _read_key_file(key_file, "GROWTH_ENCRYPTION_KEY_FILE")
    if parsed:
        return Keyring(parsed)
    if url.get_backend_name() != "sqlite":
        raise KeyringError("GROWTH_ENCRYPTION_KEY is not set: on PostgreSQL no key is generated (every instance "
                           "needs the same one); make one with `growth-bot keys new` and set GROWTH_ENCRYPTION_KEY "
                           "or GROWTH_ENCRYPTION_KEY_FILE.")
    if url.database in (None, "", ":memory:"):
        return Keyring([parse_key(new_key(), "a generated key")])   # nothing outlives the process
    return Keyring(_beside_database(Path(url.database).resolve(), uow))


def key_file_beside(database: Path) -> Path:
    return database.with_name(database.name + ".key")


def _beside_database(database: Path, uow) -> list[bytes]:
    path = key_file_beside(database)
    if not path.exists() and _holds_ciphertext(uow):
        # A copied database without its key file: a new key would open none of it.
        raise KeyringError(f"The database holds encrypted data but there is no key file at {path} and "
                           "GROWTH_ENCRYPTION_KEY is not set: restore the key file, or set the key it was "
                           "encrypted with.")
    try:
        # O_EXCL: of several processes starting on a new database together, one writes the key
        # and the others read it; 0600 from creation, never readable by others even briefly.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path, "the key file beside the database", wait=True)
    except OSError as exc:
        # A database folder the bot may not write into (a read-only mount, another owner).
        raise KeyringError(f"The key file {path} cannot be created ({exc.strerror or type(exc).__name__}): let the "
                           "bot write beside the database, or set GROWTH_ENCRYPTION_KEY or "
                           "GROWTH_ENCRYPTION_KEY_FILE.") from None
    with os.fdopen(descriptor, "w") as file:
        file.write(new_key() + "\n")
    logger.warning("Generated the encryption key for what engineers write at %s (mode 0600): keep it with the "
                   "database, back it up apart from it; without it nothing they wrote can be read.", path)
    return _read_key_file(path, "the key file beside the database")


def _read_key_file(path: Path, what: str, wait: bool = False) -> list[bytes]:
    # Another process may have just created it and not yet written its one line.
    deadline = time.monotonic() + (2.0 if wait else 0.0)
    while True:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyringError(f"{what} {path} cannot be read ({type(exc).__name__}): check its owner and "
                               "mode (0600, readable by the bot).") from None
        keys = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        if keys or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if not keys:
        raise KeyringError(f"{what} {path} holds no key: put one per line, newest first "
                           "(make one with `growth-bot keys new`).")
    return [parse_key(text, f"{what} {path} (line {n})") for n, text in enumerate(keys, 1)]


def _holds_ciphertext(uow) -> bool:
    from sqlalchemy import Text, cast

    from storage.encrypted_columns import encrypted_columns

    with uow.reading() as session:
        for column in encrypted_columns():
            key = column.table.primary_key.columns.values()[0]
            for order in (key.desc(), key.asc()):
                raw = session.scalars(select(cast(column, Text())).order_by(order).limit(_SAMPLE))
                if any(value is not None and value.lstrip('"').startswith(PREFIX) for value in raw):
                    return True
    return False


def check_keyring_opens(uow, keyring: Keyring) -> None:
    """Raise KeyringError unless `keyring` opens a sample of every encrypted column's rows (the
    newest and oldest few): a wrong key stops start-up instead of failing page by page."""
    from storage.crypto import install_keyring
    from storage.encrypted_columns import encrypted_columns

    previous = install_keyring(keyring)
    try:
        with uow.reading() as session:
            for column in encrypted_columns():
                key = column.table.primary_key.columns.values()[0]
                for order in (key.desc(), key.asc()):
                    session.execute(select(column).order_by(order).limit(_SAMPLE)).all()
    except UnreadableValue as exc:
        raise KeyringError(f"The encryption key does not open the data already in the database: {exc}") from None
    finally:
        install_keyring(previous)
