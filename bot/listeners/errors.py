"""The one error handler: log the traceback for us, say something kind to the person."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk.webhook import WebhookClient

SORRY = ("Sorry, something went wrong on our side and I couldn't finish that. "
         "It has been logged; please try again in a moment.")


def handle_error(error: Exception, body: dict, logger: logging.Logger) -> None:
    logger.exception("Unhandled error in a listener", exc_info=error)
    response_url = (body or {}).get("response_url") or next(
        (r.get("response_url") for r in (body or {}).get("response_urls", []) if r.get("response_url")), None
    )
    if not response_url:
        return
    try:
        WebhookClient(response_url).send(text=SORRY, response_type="ephemeral", replace_original=False)
    except Exception:  # noqa: BLE001 - best effort; the original error is already logged
        logger.exception("Could not tell the user about the error")


def register(app: App) -> None:
    app.error(handle_error)
