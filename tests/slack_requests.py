"""Build and sign requests the way Slack sends them to the app (stdlib + slack_sdk only).

Every builder returns ``(body, content_type)``; pass both to :func:`post_to_app`
(or to :func:`sign` and your own HTTP call). Slash commands and interactivity
payloads are form-encoded (interactivity as ``payload=<json>``); Events API
requests are JSON.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "FORM", "JSON", "sign", "slash_command", "block_action", "view_submission", "event_callback",
    "url_verification", "post_to_app",
]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
VERIFICATION_TOKEN = "verification-token"  # deprecated field Slack still sends; Bolt ignores it
APP_ID, TEAM_DOMAIN, BOT_USER_ID = "A1", "test", "UBOT"


def sign(body: str, secret: str, timestamp: int | None = None, content_type: str | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: X-Slack-Request-Timestamp, X-Slack-Signature (v0 HMAC-SHA256
    via SignatureVerifier.generate_signature) and Content-Type (JSON if the body starts with "{", else form).
    ``timestamp`` defaults to ``int(time.time())``, so under freezegun it is the frozen time, which is also
    what Bolt's verifier compares against (it rejects timestamps more than 5 minutes away)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    if content_type is None:
        content_type = JSON if body.lstrip().startswith("{") else FORM
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def _user(user_id: str, team_id: str) -> dict:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _team(team_id: str) -> dict:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def _form_payload(payload: dict) -> tuple[str, str]:
    return urlencode({"payload": json.dumps(payload)}), FORM


def slash_command(
    command: str = "/ladder",
    text: str = "senior",
    user_id: str = "U1",
    team_id: str = "T1",
    channel_id: str = "C1",
    response_url: str = "https://hooks.slack.com/commands/T1/1/fake",
    trigger_id: str = "t1",
    channel_name: str = "general",
) -> tuple[str, str]:
    """Form body of a slash command with every field Slack sends (pass ``fake.response_url(...)``
    as response_url so ``respond()`` is recorded)."""
    fields = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "team_domain": TEAM_DOMAIN, "channel_id": channel_id,
        "channel_name": channel_name, "user_id": user_id, "user_name": user_id.lower(), "command": command,
        "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields), FORM


def block_action(
    user_id: str,
    action_id: str,
    value: str | None,
    block_id: str | None = None,
    response_url: str | None = None,
    trigger_id: str = "t1",
    view: dict | None = None,
    message: dict | None = None,
    container: dict | None = None,
    channel_id: str | None = None,
    team_id: str = "T1",
    action: dict | None = None,
) -> tuple[str, str]:
    """``payload=`` form body of a block_actions request with one button action.

    With ``view`` the action comes from that view (modal / App Home; container type "view", no channel).
    Otherwise it comes from a message in ``channel_id`` (default "C1"); ``message`` defaults to a bot
    message with ts "1700000000.000100". ``response_url`` is only included when given (Slack sends one for
    message actions, none for views). ``action`` is merged into the action dict, e.g.
    ``{"type": "static_select", "selected_option": {...}}``."""
    act = {
        "action_id": action_id, "block_id": block_id or "b1", "type": "button", "action_ts": f"{time.time():.6f}",
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
    }
    if value is not None:
        act["value"] = value
    act.update(action or {})
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _user(user_id, team_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": trigger_id, "team": _team(team_id), "enterprise": None,
        "is_enterprise_install": False, "state": {"values": {}}, "actions": [act],
    }
    if view is not None:
        payload["view"] = view
        payload["container"] = container or {"type": "view", "view_id": view.get("id", "V1")}
    else:
        channel_id = channel_id or "C1"
        message = message or {"type": "message", "user": BOT_USER_ID, "bot_id": "BBOT", "text": "",
                              "ts": "1700000000.000100", "blocks": []}
        payload["channel"] = {"id": channel_id, "name": "general" if channel_id[0] == "C" else "directmessage"}
        payload["message"] = message
        payload["container"] = container or {
            "type": "message", "message_ts": message.get("ts"), "channel_id": channel_id, "is_ephemeral": False,
        }
    if response_url is not None:
        payload["response_url"] = response_url
    return _form_payload(payload)


def view_submission(
    user_id: str,
    callback_id: str,
    state_values: dict,
    private_metadata: str = "",
    view_id: str = "V1",
    team_id: str = "T1",
    blocks: list | None = None,
) -> tuple[str, str]:
    """``payload=`` form body of a view_submission. ``state_values`` is
    ``{block_id: {action_id: element_state}}``; an element_state given as a plain string (or None)
    is expanded to ``{"type": "plain_text_input", "value": ...}``, dicts are used as-is."""
    values = {
        block: {action: (s if isinstance(s, dict) else {"type": "plain_text_input", "value": s})
                for action, s in actions.items()}
        for block, actions in state_values.items()
    }
    view = {
        "id": view_id, "team_id": team_id, "type": "modal", "blocks": blocks or [], "private_metadata": private_metadata,
        "callback_id": callback_id, "state": {"values": values}, "hash": "1700000000.fakehash",
        "title": {"type": "plain_text", "text": "Modal", "emoji": True}, "clear_on_close": False,
        "notify_on_close": False, "close": None, "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None, "root_view_id": view_id, "app_id": APP_ID, "external_id": "",
        "app_installed_team_id": team_id, "bot_id": "BBOT",
    }
    payload = {
        "type": "view_submission", "team": _team(team_id), "user": _user(user_id, team_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": "t1", "view": view, "response_urls": [],
        "is_enterprise_install": False, "enterprise": None,
    }
    return _form_payload(payload)


def event_callback(event: dict, event_id: str = "Ev1", team_id: str = "T1") -> tuple[str, str]:
    """JSON body of an Events API ``event_callback`` wrapping ``event`` (used as given)."""
    payload = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-fake-{event_id}",
    }
    return json.dumps(payload), JSON


def url_verification(challenge: str) -> tuple[str, str]:
    """JSON body of the Events API URL verification handshake."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}), JSON


def post_to_app(
    base_url: str,
    body: str,
    content_type: str,
    secret: str,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timestamp: int | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], str]:
    """Sign ``body`` and POST it to ``{base_url}/slack/events``. Adds X-Slack-Retry-Num/-Reason when given.
    Returns ``(status, headers with lower-cased keys, body text)``; HTTP errors are returned, not raised."""
    headers = sign(body, secret, timestamp=timestamp, content_type=content_type)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
    if retry_reason is not None:
        headers["X-Slack-Retry-Reason"] = retry_reason
    req = urllib.request.Request(
        base_url.rstrip("/") + "/slack/events", data=body.encode("utf-8"), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, resp_headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, resp_headers, raw = e.code, e.headers, e.read()
    return status, {k.lower(): v for k, v in resp_headers.items()}, raw.decode("utf-8", "replace")
