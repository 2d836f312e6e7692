"""Encryption at rest for what engineers write: a keyring of AES-GCM keys.

A stored value reads `enc1:<key id>:<urlsafe base64 of nonce + ciphertext>`. The key id is a
short fingerprint of the key, so several keys can be live at once: the newest encrypts, every
one decrypts, and `growth-bot keys rotate` moves rows onto the newest. The column a value
belongs to ("answers.text") is bound into it as associated data, with the key id: a
ciphertext copied into another column or row of another column does not open.

A value without the `enc1:` prefix is plain text from before encryption was turned on; it
reads as it is until `keys rotate` encrypts it in place. A value under a key the keyring does
not hold, or one that does not authenticate, raises `UnreadableValue`: a page never shows
half of what it read.

AES-GCM is `cryptography`'s (an authenticated cipher is not ours to write): 256-bit keys,
a random 96-bit nonce per value (2^32 values per key before nonce reuse becomes a concern,
far beyond what a growth log holds between rotations).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID_CHARS = 8
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}=?")


class KeyringError(Exception):
    """A key that cannot be used, or no key at all: one line saying which and what to do."""


class UnreadableValue(KeyringError):
    """A stored value that none of the keys opens (an unknown key id, tampering, a wrong column)."""


def new_key() -> str:
    """A fresh random key, as GROWTH_ENCRYPTION_KEY and key files take it (urlsafe base64)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_key(text: str, where: str) -> bytes:
    """The 32 bytes of a key written as `new_key` writes it; `where` names its source in the error."""
    text = text.strip()
    # Checked by pattern first: base64 decoding quietly skips characters outside its alphabet.
    raw = base64.urlsafe_b64decode(text + "=") if _KEY_PATTERN.fullmatch(text) else b""
    if len(raw) != KEY_BYTES:
        raise KeyringError(f"{where} is not a key (expected 44 characters of urlsafe base64, 32 bytes): "
                           "make one with `growth-bot keys new`.")
    return raw


def key_id(key: bytes) -> str:
    """The key's fingerprint: what a ciphertext names its key by. Says nothing usable about the key."""
    digest = hashlib.sha256(b"growth-bot key id\0" + key).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:_KEY_ID_CHARS]


class Keyring:
    """Keys newest first: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys:
            raise KeyringError("no encryption key given: set GROWTH_ENCRYPTION_KEY (make one with "
                               "`growth-bot keys new`) or GROWTH_ENCRYPTION_KEY_FILE.")
        self._ciphers: dict[str, AESGCM] = {}
        for key in keys:
            self._ciphers.setdefault(key_id(key), AESGCM(key))
        self.ids: tuple[str, ...] = tuple(self._ciphers)
        self.current_id = self.ids[0]
        self._current = self._ciphers[self.current_id]
        self._current_prefix = f"{PREFIX}{self.current_id}:"

    @classmethod
    def from_texts(cls, texts: Iterable[str], where: str = "GROWTH_ENCRYPTION_KEY") -> Keyring:
        return cls([parse_key(text, f"{where} (key {n})") for n, text in enumerate(texts, 1)])

    def encrypt(self, plaintext: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, plaintext.encode("utf-8"), _bound(self.current_id, column))
        return self._current_prefix + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str, column: str) -> str:
        """The plain text of `stored`; legacy plain text (no prefix) comes back as it is."""
        if not stored.startswith(PREFIX):
            return stored
        kid, _, body = stored[len(PREFIX):].partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnreadableValue(f"a value in {column} is encrypted under key {kid}, which is not among the "
                                  f"configured keys ({', '.join(self.ids)}): add that key (newest first) to "
                                  "GROWTH_ENCRYPTION_KEY or the key file.")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound(kid, column)).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError, UnicodeError):
            raise UnreadableValue(f"a value in {column} under key {kid} does not authenticate: it was altered "
                                  "or copied from another column.") from None

    def is_current(self, stored: str | None) -> bool:
        """Whether `stored` is already under the newest key (rotation skips it)."""
        return stored is None or stored.startswith(self._current_prefix)


def key_id_of(stored: str) -> str | None:
    """The key id a stored value names, or None for plain text."""
    if not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX):].partition(":")[0]


def _bound(kid: str, column: str) -> bytes:
    return f"{PREFIX}{kid}:{column}".encode("utf-8")


# -- the process-wide keyring ---------------------------------------------------------------------
# Column types (storage.types.EncryptedText) turn values into ciphertext inside SQLAlchemy's bind
# and result processing, where nothing of ours is passed in: no session, no engine option reaches
# a TypeDecorator's process_*_value. So the keyring is installed once per process at start-up
# (bot.runtime, tests' conftest) and read from here.

_installed: Keyring | None = None


def install_keyring(keyring: Keyring | None) -> Keyring | None:
    """Make `keyring` the one the column types use; returns the one it replaces (tests restore it)."""
    global _installed
    previous, _installed = _installed, keyring
    return previous


def installed_keyring() -> Keyring:
    if _installed is None:
        raise KeyringError("no encryption keyring is installed in this process (storage.crypto.install_keyring "
                           "runs at start-up): the bot cannot read or write what engineers wrote without it.")
    return _installed
