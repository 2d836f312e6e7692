"""What the bot does, counted for operators: `GET /metrics` serves these in Prometheus text format.

Every counter lives here and the code that does the work increments it; nothing else defines
metrics. They are process-wide (prometheus_client's default registry, with its process and GC
collectors): each instance exposes its own numbers and Prometheus sums across instances.

Labels are closed sets (see `failure_reason`), so a misbehaving peer cannot grow the number of
time series.
"""

from __future__ import annotations

import re

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

CHECKIN, REMINDER = "checkin", "reminder"
SENDERS, LISTENERS = "senders", "listeners"

MESSAGES_CLAIMED = Counter(
    "growth_messages_claimed", "Check-ins and reminders claimed for sending by this instance", ["kind"])
MESSAGES_SENT = Counter(
    "growth_messages_sent", "Check-ins and reminders posted to Slack and recorded as sent", ["kind"])
FOUND_AFTER_CRASH = Counter(
    "growth_checkins_found_after_crash",
    "Retried claims whose DM an earlier, interrupted sender had already posted (found, not posted again)")
MESSAGES_FAILED = Counter(
    "growth_messages_failed", "Sends that did not go out this time (retried later unless permanent), by reason",
    ["kind", "reason"])
SLACK_RATE_LIMITED = Counter(
    "growth_slack_rate_limited", "HTTP 429 answers from Slack's Web API", ["client"])
SLACK_PAUSED_SECONDS = Counter(
    "growth_slack_paused_seconds", "Seconds spent waiting out Slack's Retry-After", ["client"])
CHECKIN_LAG = Histogram(
    "growth_checkin_lag_seconds", "How late scheduled check-ins went out: recorded as sent minus due",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 3 * 86400))
ACK_SECONDS = Histogram(
    "growth_slack_ack_seconds", "From a verified Slack request arriving to the bot's HTTP answer (the ack)",
    ["kind"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10))
OUTBOX_OUTCOMES = Counter(
    "growth_outbox_outcomes",
    "Outbox send attempts by outcome: sent, found (posted earlier, found by its metadata), retry, failed",
    ["outcome"])
INBOX_RECOVERED = Counter(
    "growth_inbox_recovered", "Slack deliveries acknowledged but left unprocessed, finished by the recovery pass")
REQUESTS_REFUSED = Counter(
    "growth_http_requests_refused", "Requests to /slack/events refused before Bolt saw them", ["reason"])

_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_REQUEST_KINDS = frozenset({"block_actions", "view_submission", "view_closed", "event_callback",
                            "url_verification", "shortcut", "message_action", "block_suggestion"})


def failure_reason(outcome: object) -> str:
    """A bounded label for a failed send: Slack's error code, "week_over", or the exception type."""
    if isinstance(outcome, BaseException):
        return "week_over" if type(outcome).__name__ == "WeekOver" else type(outcome).__name__[:64]
    text = str(outcome)
    if text.startswith("slack error: "):
        code = text.removeprefix("slack error: ")
        return code if _ERROR_CODE.fullmatch(code) else "slack_other"
    name = text.partition(":")[0]
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name) else "other"


def request_kind(body: dict) -> str:
    """The kind of Slack request for the ack histogram: "command", a payload type, or "other"."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if kind in _REQUEST_KINDS else "other"


def render() -> tuple[bytes, str]:
    """The metrics page and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
