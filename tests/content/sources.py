"""Where the source documents are: `$SEEDS_DIR`, else `<repo root>/../shared/seeds`.

A missing folder fails the test (never skips): the content tests are the check that the YAML
still says what the sources say.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def seeds_dir() -> Path:
    env = os.environ.get("SEEDS_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "seeds"
    if not path.is_dir():
        where = f"SEEDS_DIR={env}" if env else f"{path} (set SEEDS_DIR to override)"
        pytest.fail(f"source documents not found: looked in {where}")
    return path
