"""Turning what people type into lookup keys: case, punctuation and shorthand insensitive."""

from __future__ import annotations

import re
import unicodedata

# Shorthands people actually type, expanded token by token before lookup.
SHORTHANDS = {
    "sr": "senior", "snr": "senior", "sen": "senior",
    "jr": "junior", "jnr": "junior",
    "mgr": "manager",
    "eng": "engineer", "engr": "engineer", "engineers": "engineer", "dev": "engineer",
    "developer": "engineer", "swe": "engineer",
    "lvl": "level", "lv": "level", "l": "level",  # "L 4", "L-4" (punctuation splits "L4")
    "stg": "stage",
    "principle": "principal",  # the common misspelling
    "intermediate": "mid",
}
# Words that only qualify a rung ("Senior Engineer", "Staff level") and can be dropped.
TRAILING_FILLER = ("software engineer", "engineering", "engineer", "level", "role")
_LEVEL_NUMBER = re.compile(r"^(l|lv|lvl|level|stage|stg|s)(\d+)$")


def normalize(text: str) -> str:
    """Lowercase, accents and punctuation removed, spaces collapsed: `Mid-Level` → `mid level`."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def expand(text: str) -> str:
    """Normalise and expand shorthands: `Sr. Eng` → `senior engineer`, `L4` → `level 4`."""
    tokens = []
    for token in _join_initials(normalize(text).split()):
        number = _LEVEL_NUMBER.match(token)
        if number:
            prefix = "stage" if number.group(1) in ("stage", "stg", "s") else "level"
            tokens.extend([prefix, number.group(2)])
        else:
            tokens.append(SHORTHANDS.get(token, token))
    return " ".join(tokens)


def _join_initials(tokens: list[str]) -> list[str]:
    """`C.T.O.` and `V.P.` normalise to single letters: join runs of them back into `cto`, `vp`."""
    joined: list[str] = []
    run = ""
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run += token
            continue
        if run:
            joined.append(run)
            run = ""
        if token:
            joined.append(token)
    return joined


def variants(text: str) -> list[str]:
    """The key itself, then the key without a trailing qualifier (`senior engineer` → `senior`)."""
    key = expand(text)
    found = [key] if key else []
    for filler in TRAILING_FILLER:
        if key.endswith(" " + filler):
            shorter = key[: -len(filler) - 1].strip()
            if shorter and shorter not in found:
                found.append(shorter)
    return found
