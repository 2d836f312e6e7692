"""What a send came to, shared by check-ins and reminders: a delivery, or a reason to retry."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.workspace_clients import WorkspaceGone

logger = logging.getLogger(__name__)

# How long a claim is ours; another sender may take it over after that (a crashed process).
CLAIM_LEASE = timedelta(minutes=10)


class WeekOver(Exception):
    """The check-in's week ended while it waited to be posted (a long pass, a long 429 pause)."""


def outcome_of(future: Future):
    """The delivery, or a short error string for the log and the retry."""
    try:
        return future.result()
    except WeekOver as exc:
        return exc
    except SlackApiError as exc:
        return f"slack error: {exc.response.get('error')}"
    except WorkspaceGone as exc:
        # Expected after an uninstall (nothing was sent): a reason, not a traceback every tick.
        return f"not sent: {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure is retried on a later tick, with its reason kept
        logger.exception("Sending failed")
        return f"{type(exc).__name__}: {exc}"
