"""The in-process ticker (APScheduler). Filled in by the check-ins feature."""

from __future__ import annotations


def start_scheduler(services, client):
    return None
