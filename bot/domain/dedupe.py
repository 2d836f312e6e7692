"""Keys that let a double-clicked Save be stored once."""

from __future__ import annotations

import hashlib
import json


def view_submission_key(view_id: str, payload: object) -> str:
    """Same view, same submitted content → same key (`payload` must be JSON-serialisable)."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return f"view:{view_id}:{digest}"
