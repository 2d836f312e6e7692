"""The tables of a multi-workspace install (one deployment serving several Slack workspaces).

Kept apart from `storage.models` so the workspace lifecycle (installed, uninstalled, purged)
reads in one place; registered on the same `Base`, so migrations and checks see it.
"""

from __future__ import annotations
