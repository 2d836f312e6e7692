"""A fake Slack Web API server for tests and benchmarks (stdlib only).

Point the app's client at it the way bolt-python's own tests do::

    with FakeSlack() as fake:
        client = WebClient(base_url=fake.base_url, token="xoxb-test")
        ...
        fake.wait_for("chat.postMessage")

slack_sdk builds request URLs with ``urllib.parse.urljoin(base_url, method)``,
so ``base_url`` must end in ``/api/`` (without the trailing slash urljoin would
drop the ``api`` segment). Every request to ``/api/<method>`` is recorded as a
:class:`Call`, whatever the outcome (scripted failure, rate limit, unknown
method). Clocks are read with ``time.clock_gettime`` so freezegun cannot stall
``wait_for`` timeouts or the rate limiter.
"""

from __future__ import annotations

import base64
import json
import math
import mimetypes
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

__all__ = ["Call", "UploadedFile", "FakeSlack"]

TEAM_ID, TEAM_NAME, BOT_USER_ID, BOT_ID, APP_ID = "T1", "Test", "UBOT", "BBOT", "A1"

# Form fields slack_sdk sends as JSON strings; they are decoded into objects in Call.args.
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks", "outputs", "inputs"}
)


# Slack accepts this many posts to one response_url (within 30 minutes), then refuses.
RESPONSE_URL_USES = 5
# An internal marker from _api to _handle: answer nothing, drop the connection.
_DROP = "x-fake-drop-connection"


def _mono() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)  # not patched by freezegun


def _wall() -> float:
    return time.clock_gettime(time.CLOCK_REALTIME)


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


@dataclass(frozen=True)
class Call:
    """One request to ``/api/<method>``. ``args`` merges query string and body
    (form or JSON, JSON-string fields decoded); ``headers`` has lower-cased keys;
    ``at`` is the real wall-clock time of receipt. ``status``/``ok``/``error``
    describe what the fake answered."""

    method: str
    args: dict
    headers: dict
    at: float
    status: int = 200
    ok: bool = True
    error: str | None = None
    token: str = ""  # the bearer token it was made with


@dataclass(frozen=True)
class UploadedFile:
    """A file shared through the files_upload_v2 flow (after files.completeUploadExternal)."""

    filename: str
    title: str
    content: bytes
    channel_id: str | None
    initial_comment: str | None
    file_id: str = ""
    thread_ts: str | None = None


class _ApiError(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # default backlog of 5 drops SYNs under concurrent load
    fake: "FakeSlack"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, like urllib uses it
    server_version = "FakeSlack/1.0"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

    def do_POST(self) -> None:
        self.server.fake._handle(self)  # type: ignore[attr-defined]

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass


class FakeSlack:
    """Fake Slack Web API on 127.0.0.1:<OS-chosen port>, served from a daemon thread.

    ``rate_limit_per_second``: if set, each method in ``rate_limit_methods``
    (default only chat.postMessage; ``None`` = every method) gets its own token
    bucket refilled at that rate, holding at most ``rate_limit_burst`` tokens
    (default: one second's worth; Slack does not publish its burst, and it may be a few
    messages). A call finding the bucket empty gets HTTP 429,
    ``{"ok": false, "error": "ratelimited"}`` and a whole-second ``Retry-After`` >= 1 (the
    wait for a token, rounded up). As in Slack, the buckets are per workspace and method: a
    token's workspace is ``token_teams[token]`` (default ``TEAM_ID``), which auth.test reports.

    Several workspaces: ``add_workspace(team)`` gives the OAuth ``code`` Slack would hand the
    browser for an install there; ``oauth.v2.access`` trades it (checking the client id and
    secret) for a bot token of that workspace only, and rotates it (``refresh_token``) when
    ``token_rotation`` is on. ``set_user(..., team_id=T)`` makes a user exist in T only: asked
    for with another workspace's token, users.info says ``user_not_found``, as Slack does.
    ``revoke(team)`` makes every token of the workspace ``invalid_auth``. Each Call records its
    ``token``.
    """

    def __init__(
        self,
        rate_limit_per_second: float | None = None,
        rate_limit_methods: Iterable[str] | None = ("chat.postMessage",),
        rate_limit_burst: float | None = None,
        token_teams: dict[str, str] | None = None,
        client_id: str = "1111.2222",
        client_secret: str = "fake-client-secret",
        token_rotation: bool = False,
        token_lifetime: int = 43200,
    ):
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._rate = rate_limit_per_second
        self._rl_methods = None if rate_limit_methods is None else frozenset(rate_limit_methods)
        default_burst = max(1.0, float(rate_limit_per_second or 1))
        self._burst = default_burst if rate_limit_burst is None else max(1.0, float(rate_limit_burst))
        self._buckets: dict[tuple[str, str], list[float]] = {}  # (team, method) -> [tokens, at]
        self._token_teams = dict(token_teams or {})
        self.client_id, self.client_secret, self._rotation = client_id, client_secret, token_rotation
        self._lifetime = token_lifetime  # seconds a rotating token lives (Slack: 12 hours)
        self._codes: dict[str, str] = {}  # OAuth code -> team (or enterprise, for an org-wide install)
        self._enterprises: dict[str, str | None] = {}  # team -> its Enterprise Grid org
        self._org_installs: set[str] = set()  # enterprises installed org-wide
        self._refresh: dict[str, str] = {}  # refresh token -> team
        self._revoked: set[str] = set()
        self._token_seq = 0
        self._caller_team = TEAM_ID
        self._failures: dict[str, deque] = defaultdict(deque)
        self._users: dict[str, dict] = {}
        self._user_errors: dict[str, str] = {}
        self._channels: dict[str, dict] = {}  # add_channel: conversations.info / .members
        self._seq = 0  # ts / id counter; never reset so ids stay unique across clear()
        self._methods = {
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "views.open": lambda a: self._view_call(a, need_trigger=True),
            "views.push": lambda a: self._view_call(a, need_trigger=True),
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self._reset()

    def _reset(self) -> None:
        self._calls: list[Call] = []
        self._by_method: dict[str, list[Call]] = defaultdict(list)
        self._responses: list[tuple[str, Any]] = []
        self._messages: dict[str, list[dict]] = defaultdict(list)
        self._post_counts: Counter = Counter()
        self._opened: set[str] = set()
        self._pending_files: dict[str, dict] = {}
        self._uploaded: list[UploadedFile] = []
        self._rate_limited = 0
        self.published_views: dict[str, dict] = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "FakeSlack":
        """Bind and serve in a daemon thread; returns self."""
        if self._server is None:
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.fake = self
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeSlack", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)  # type: ignore[union-attr]
            self._server = self._thread = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/`` for ``WebClient(base_url=...)``."""
        return self.root_url + "/api/"

    def response_url(self, token: str = "r1") -> str:
        """A response_url to put in a payload; posts to it are recorded under ``token``."""
        return f"{self.root_url}/response/{token}"

    # ------------------------------------------------------------ scripting
    def fail_next(
        self, method: str, error: str = "ratelimited", status: int | None = None, retry_after: int = 1, times: int = 1,
        after_work: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail with ``{"ok": false, "error": error}``.
        ``status`` defaults to 429 (with ``Retry-After: retry_after``) for "ratelimited", else 200.

        ``after_work=True`` is Slack at its least kind: the method does its work (the message
        is posted) and *then* the caller gets the failure, e.g. ``status=500``. The error
        ``"timeout"`` drops the connection after the work without any answer, as a timed-out
        request looks to the client."""
        if status is None:
            status = 429 if error == "ratelimited" else 200
        with self._lock:
            self._failures[method].extend([(error, status, retry_after, after_work)] * times)

    def add_workspace(self, team_id: str, *, enterprise_id: str | None = None, org_install: bool = False) -> str:
        """An install of the app in ``team_id`` (with ``org_install``: in all of ``enterprise_id``,
        the org): the one-time code Slack would redirect the browser with."""
        with self._lock:
            self._enterprises[team_id] = enterprise_id
            if org_install:
                self._org_installs.add(enterprise_id or team_id)
            code = self._next_id("code-")
            self._codes[code] = enterprise_id if org_install else team_id
            return code

    def tokens_of(self, team_id: str) -> list[str]:
        """Every bot token handed out for ``team_id`` (an org's for an org-wide install), oldest first."""
        with self._lock:
            return [t for t, team in self._token_teams.items() if team == team_id]

    def revoke(self, team_id: str) -> None:
        """The app is uninstalled from ``team_id``: its tokens stop working."""
        with self._lock:
            self._revoked.add(team_id)

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Set users.info fields for ``user_id`` (tz, tz_offset, tz_label, real_name, name, email,
        is_bot, deleted; anything else is merged into the user object). Merges with earlier calls.
        tz_offset/tz_label default from ``tz`` via zoneinfo at the current (possibly frozen) date;
        tz_label is the zone abbreviation (e.g. "EST"), Slack sends a long name."""
        with self._lock:
            self._users.setdefault(user_id, {}).update(fields)
            self._user_errors.pop(user_id, None)

    def add_channel(self, channel_id: str, name: str, *, members: Iterable[str] = (), private: bool = False,
                    bot_member: bool = True, archived: bool = False) -> None:
        """A channel for conversations.info / conversations.members, answered as Slack answers:
        a private channel the bot is not in (or an unknown one) is ``channel_not_found``."""
        with self._lock:
            self._channels[channel_id] = {"id": channel_id, "name": name, "members": list(members),
                                          "private": private, "bot_member": bot_member, "archived": archived}

    def reply_in_thread(self, channel: str, thread_ts: str, user: str, text: str) -> str:
        """Someone (a person, not the bot) replies in a thread, as typed in Slack; returns its ts."""
        with self._lock:
            ts = self._next_ts()
            self._messages[channel].append({"type": "message", "user": user, "text": text, "ts": ts,
                                            "thread_ts": thread_ts})
            return ts

    def set_user_error(self, user_id: str, error: str = "user_not_found") -> None:
        """Make users.info for ``user_id`` answer ``{"ok": false, "error": error}``."""
        with self._lock:
            self._user_errors[user_id] = error

    def clear(self) -> None:
        """Forget everything recorded: calls, responses, posted messages (history), uploads, counters.
        Keeps configuration: users, user errors, pending fail_next scripts, rate-limit settings."""
        with self._lock:
            self._reset()

    # ------------------------------------------------------------ inspection
    @property
    def calls(self) -> list[Call]:
        """Snapshot of every /api call so far, in arrival order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, ok: bool | None = None) -> list[Call]:
        """Calls to ``method`` in arrival order; ``ok=True/False`` keeps only successes/failures."""
        with self._lock:
            return self._select(method, ok)

    def _select(self, method: str, ok: bool | None) -> list[Call]:
        calls = self._by_method.get(method, [])
        return list(calls) if ok is None else [c for c in calls if c.ok == ok]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5, ok: bool | None = None) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` (filtered by ``ok``) have arrived;
        return all of them so far. Raises AssertionError after ``timeout`` seconds."""
        deadline = _mono() + timeout
        with self._cond:
            while True:
                got = self._select(method, ok)
                remaining = deadline - _mono()
                if len(got) >= count:
                    return got
                if remaining <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(f"expected {count} call(s) to {method}, got {len(got)}; all calls: {seen}")
                self._cond.wait(remaining)

    @property
    def responses(self) -> list[Any]:
        """JSON bodies posted to any response_url, in arrival order."""
        with self._lock:
            return [body for _, body in self._responses]

    def responses_for(self, token: str) -> list[Any]:
        """JSON bodies posted to ``response_url(token)``."""
        with self._lock:
            return [body for t, body in self._responses if t == token]

    def wait_for_response(self, token: str | None = None, count: int = 1, timeout: float = 5) -> list[Any]:
        """Like wait_for, for response_url posts (to ``token``, or to any token if None)."""
        deadline = _mono() + timeout
        with self._cond:
            while True:
                got = [b for t, b in self._responses if token is None or t == token]
                remaining = deadline - _mono()
                if len(got) >= count:
                    return got
                if remaining <= 0:
                    raise AssertionError(f"expected {count} response_url post(s) to {token!r}, got {len(got)}")
                self._cond.wait(remaining)

    @property
    def uploaded_files(self) -> list[UploadedFile]:
        """Files completed through files.completeUploadExternal, in order."""
        with self._lock:
            return list(self._uploaded)

    @property
    def rate_limited_count(self) -> int:
        """How many calls were refused by the rate limiter (not counting fail_next)."""
        with self._lock:
            return self._rate_limited

    def post_message_counts(self) -> dict[str, int]:
        """Successful chat.postMessage calls per channel id as answered (a user id "U1" counts as "DU1")."""
        with self._lock:
            return dict(self._post_counts)

    def messages_in(self, channel: str) -> list[dict]:
        """Messages currently stored for ``channel`` (oldest first, with metadata), as history sees them."""
        with self._lock:
            return [dict(m) for m in self._messages.get(self._channel(channel), [])]

    # ------------------------------------------------------------ HTTP plumbing
    def _handle(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        extra: dict[str, str] = {}
        if url.path.startswith("/api/"):
            status, payload, extra = self._api(url.path[5:], url.query, raw, h.headers)
            if extra.pop(_DROP, None):
                h.close_connection = True  # the work is done; the caller never hears of it
                return
            out, ctype = json.dumps(payload).encode(), "application/json; charset=utf-8"
        elif url.path.startswith("/response/"):
            try:
                body: Any = json.loads(raw or b"null")
            except ValueError:
                body = raw.decode("utf-8", "replace")
            token = unquote(url.path[len("/response/") :])
            with self._cond:
                # Slack takes at most five posts per response_url; the sixth is refused.
                if sum(1 for t, _ in self._responses if t == token) >= RESPONSE_URL_USES:
                    status, out, ctype = 404, b"used_url", "text/html"
                else:
                    self._responses.append((token, body))
                    self._cond.notify_all()
                    status, out, ctype = 200, b"ok", "text/html"
        elif url.path.startswith("/upload/"):
            with self._lock:
                pending = self._pending_files.get(url.path[len("/upload/") :])
                if pending is not None:
                    pending["content"] = raw
            status, ctype = (200, "text/plain") if pending is not None else (404, "text/plain")
            out = f"OK - {len(raw)}".encode() if pending is not None else b"not found"
        else:
            status, out, ctype = 404, b"not found", "text/plain"
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(out)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(out)

    @staticmethod
    def _parse_args(query: str, raw: bytes, content_type: str) -> dict:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        if content_type.split(";")[0].strip().lower() == "application/json":
            args.update(json.loads(raw) if raw else {})
        elif raw:
            args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        for key in _JSON_FIELDS & args.keys():
            if isinstance(args[key], str) and args[key][:1] in ("[", "{"):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    def _api(self, method: str, query: str, raw: bytes, req_headers: Any) -> tuple[int, dict, dict]:
        headers = {k.lower(): v for k, v in req_headers.items()}
        try:
            args = self._parse_args(query, raw, headers.get("content-type", ""))
            if headers.get("authorization", "").startswith("Basic "):
                args["_basic"] = base64.b64decode(headers["authorization"][6:]).decode("utf-8", "replace")
        except ValueError:
            args, parse_error = {"_raw": raw.decode("utf-8", "replace")}, "invalid_json"
        else:
            parse_error = None
        has_token = headers.get("authorization", "").startswith("Bearer ") or bool(args.get("token")) or (
            method.startswith("oauth.") and (headers.get("authorization", "").startswith("Basic ")
                                             or bool(args.get("client_id"))))
        status, extra = 200, {}
        with self._cond:
            script = self._failures.get(method)
            self._caller_team = self._team_of(headers, args)
            retry_after = self._rate_check(self._caller_team, method) if not script else None
            after_work = bool(script) and script[0][3] and not parse_error and has_token
            if script and not after_work:
                error, status, wait, _ = script.popleft()
                if status == 429:
                    extra = {"Retry-After": str(wait)}
                payload: dict = {"ok": False, "error": error}
            elif after_work:
                error, status, wait, _ = script.popleft()
                try:
                    done = self._methods[method](args) if method in self._methods else {"ok": False}
                except _ApiError as e:
                    done = {"ok": False, "error": e.error}
                payload = {"ok": False, "error": error, "did_work": bool(done.get("ok"))}
                if error == "timeout":
                    extra = {_DROP: "1"}
            elif retry_after is not None:
                self._rate_limited += 1
                status, extra = 429, {"Retry-After": str(retry_after)}
                payload = {"ok": False, "error": "ratelimited"}
            elif parse_error:
                payload = {"ok": False, "error": parse_error}
            elif not has_token:
                payload = {"ok": False, "error": "not_authed"}
            elif method not in self._methods:
                payload = {"ok": False, "error": "unknown_method"}
            elif not method.startswith("oauth.") and self._caller_team in self._revoked:
                payload = {"ok": False, "error": "invalid_auth"}
            else:
                try:
                    payload = self._methods[method](args)
                except _ApiError as e:
                    payload = {"ok": False, "error": e.error}
                except Exception as e:  # a bug in the fake or an odd argument: answer, don't drop the socket
                    status, payload = 500, {"ok": False, "error": "fake_internal_error", "detail": repr(e)}
            ok = bool(payload.get("ok"))
            call = Call(method, args, headers, _wall(), status, ok, None if ok else payload.get("error"),
                        headers.get("authorization", "").removeprefix("Bearer ") or str(args.get("token") or ""))
            self._calls.append(call)
            self._by_method[method].append(call)
            self._cond.notify_all()
        return status, payload, extra

    def _team_of(self, headers: dict, args: dict) -> str:
        token = headers.get("authorization", "").removeprefix("Bearer ") or str(args.get("token") or "")
        return self._token_teams.get(token, TEAM_ID)

    def _rate_check(self, team: str, method: str) -> int | None:
        """Token bucket per workspace and method; returns Retry-After seconds if the call must be refused."""
        if self._rate is None or (self._rl_methods is not None and method not in self._rl_methods):
            return None
        now = _mono()
        bucket = self._buckets.setdefault((team, method), [self._burst, now])
        tokens = min(self._burst, bucket[0] + (now - bucket[1]) * self._rate)
        bucket[1] = now
        if tokens >= 1:
            bucket[0] = tokens - 1
            return None
        bucket[0] = tokens
        return max(1, math.ceil((1 - tokens) / self._rate))

    # ------------------------------------------------------------ helpers
    def _next_ts(self) -> str:
        self._seq += 1
        micros = self._seq * 100
        return f"{1700000000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:08d}"

    @staticmethod
    def _channel(channel: Any) -> str:
        """Channel id as Slack answers: posting to a user id goes to their DM "D<user>"."""
        if not channel or not isinstance(channel, str):
            raise _ApiError("channel_not_found")
        return "D" + channel if channel[0] in "UW" else channel

    def _find(self, channel: str, ts: Any) -> dict | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    # ------------------------------------------------------------ methods (called under the lock)
    def _auth_test(self, args: dict) -> dict:
        team = self._caller_team
        enterprise = team if team in self._org_installs else self._enterprises.get(team)
        return {"ok": True, "url": "https://test.slack.com/", "team": TEAM_NAME, "user": "growth-bot",
                "team_id": team, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "enterprise_id": enterprise,
                "is_enterprise_install": team in self._org_installs}

    def _sees(self, caller: str, home: str) -> bool:
        """A token of `caller` sees users of `home`: its own, or its org's (Enterprise Grid users are org-wide)."""
        org = self._enterprises.get(home)
        return caller == home or (org is not None and org in (caller, self._enterprises.get(caller)))

    def _oauth_v2_access(self, args: dict) -> dict:
        if args.get("grant_type") == "refresh_token":
            team = self._refresh.pop(str(args.get("refresh_token")), None)
            if team is None:
                raise _ApiError("invalid_refresh_token")
        else:
            team = self._codes.pop(str(args.get("code")), None)
            if team is None:
                raise _ApiError("invalid_code")
        # The client's credentials come as HTTP Basic auth (slack_sdk) or as form fields.
        if args.get("_basic") not in (None, f"{self.client_id}:{self.client_secret}") or (
                args.get("client_id") and args.get("client_id") != self.client_id):
            raise _ApiError("invalid_client_id")
        self._revoked.discard(team)
        self._token_seq += 1
        token = f"xoxb-{team}-{self._token_seq}"
        self._token_teams[token] = team
        org = team in self._org_installs
        enterprise = team if org else self._enterprises.get(team)
        out = {"ok": True, "app_id": APP_ID, "access_token": token, "token_type": "bot",
               "scope": "chat:write,commands,users:read", "bot_user_id": BOT_USER_ID,
               "team": None if org else {"id": team, "name": f"Workspace {team}"},
               "enterprise": {"id": enterprise, "name": f"Org {enterprise}"} if enterprise else None,
               "is_enterprise_install": org, "authed_user": {"id": "UINSTALLER"}}
        if self._rotation:
            refresh = f"xoxe-{team}-{self._token_seq}"
            self._refresh[refresh] = team
            out.update(refresh_token=refresh, expires_in=self._lifetime)
        return out

    def _chat_post_message(self, args: dict) -> dict:
        channel = self._channel(args.get("channel"))
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise _ApiError("no_text")
        ts = self._next_ts()
        msg = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID,
               "text": args.get("text", ""), "ts": ts}
        for key in ("blocks", "attachments", "thread_ts"):
            if args.get(key):
                msg[key] = args[key]
        stored = dict(msg)
        if args.get("metadata"):
            stored["metadata"] = args["metadata"]
        self._messages[channel].append(stored)
        self._post_counts[channel] += 1
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def _chat_post_ephemeral(self, args: dict) -> dict:
        self._channel(args.get("channel"))
        if not args.get("user"):
            raise _ApiError("user_not_in_channel")
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            raise _ApiError("no_text")
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict) -> dict:
        """Updates the stored message if the fake posted it; unknown ts is answered ok (lenient)."""
        channel = self._channel(args.get("channel"))
        if not args.get("ts"):
            raise _ApiError("message_not_found")
        msg = self._find(channel, args["ts"]) or {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID,
                                                  "ts": args["ts"]}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                msg[key] = args[key]
        echo = {k: v for k, v in msg.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": args["ts"], "text": msg.get("text", ""), "message": echo}

    def _chat_delete(self, args: dict) -> dict:
        channel = self._channel(args.get("channel"))
        msg = self._find(channel, args.get("ts"))
        if msg is not None:
            self._messages[channel].remove(msg)
        return {"ok": True, "channel": channel, "ts": args.get("ts")}

    def _conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        cid = "D" + users[0] if len(users) == 1 else "G" + "_".join(sorted(users))
        already = cid in self._opened
        self._opened.add(cid)
        channel = {"id": cid, "is_im": len(users) == 1, "is_mpim": len(users) > 1}
        if len(users) == 1:
            channel["user"] = users[0]
        return {"ok": True, "no_op": already, "already_open": already, "channel": channel}

    def _conversations_history(self, args: dict) -> dict:
        """Top-level messages the fake stored for the channel, newest first. Honours limit (default 100),
        oldest/latest/inclusive, cursor, and include_all_metadata (metadata is omitted otherwise)."""
        channel = self._channel(args.get("channel"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        inclusive = _truthy(args.get("inclusive"))
        msgs = [m for m in reversed(self._messages.get(channel, []))
                if m.get("thread_ts", m["ts"]) == m["ts"]
                and (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)]
        start = int(str(args.get("cursor") or "offset:0").split(":")[-1])
        limit = min(int(args.get("limit") or 100), 999)
        page, more = msgs[start:start + limit], start + limit < len(msgs)
        with_meta = _truthy(args.get("include_all_metadata"))
        page = [dict(m) if with_meta else {k: v for k, v in m.items() if k != "metadata"} for m in page]
        return {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""}}

    def _conversations_replies(self, args: dict) -> dict:
        """The thread of message ``ts``: its parent first, then replies oldest first, as Slack
        answers. Honours limit and include_all_metadata; an unknown ts is thread_not_found."""
        channel = self._channel(args.get("channel"))
        parent = self._find(channel, args.get("ts"))
        if parent is None:
            raise _ApiError("thread_not_found")
        root = parent.get("thread_ts", parent["ts"])
        msgs = [m for m in self._messages.get(channel, []) if m["ts"] == root or m.get("thread_ts") == root]
        limit = min(int(args.get("limit") or 1000), 1000)
        with_meta = _truthy(args.get("include_all_metadata"))
        page = [dict(m) if with_meta else {k: v for k, v in m.items() if k != "metadata"} for m in msgs[:limit]]
        return {"ok": True, "messages": page, "has_more": len(msgs) > limit}

    def _visible_channel(self, args: dict) -> dict:
        channel = self._channels.get(str(args.get("channel") or ""))
        if channel is None or (channel["private"] and not channel["bot_member"]):
            raise _ApiError("channel_not_found")
        return channel

    def _conversations_info(self, args: dict) -> dict:
        c = self._visible_channel(args)
        return {"ok": True, "channel": {"id": c["id"], "name": c["name"], "is_channel": not c["private"],
                                        "is_group": c["private"], "is_private": c["private"], "is_im": False,
                                        "is_mpim": False, "is_member": c["bot_member"], "is_archived": c["archived"]}}

    def _conversations_members(self, args: dict) -> dict:
        """Honours limit and cursor (``offset:N``), as conversations.history does."""
        members = self._visible_channel(args)["members"]
        start = int(str(args.get("cursor") or "offset:0").split(":")[-1])
        limit = min(int(args.get("limit") or 100), 1000)
        more = start + limit < len(members)
        return {"ok": True, "members": members[start:start + limit],
                "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""}}

    def _chat_get_permalink(self, args: dict) -> dict:
        channel, ts = str(args.get("channel") or ""), args.get("message_ts")
        if self._find(channel, ts) is None:
            raise _ApiError("message_not_found")
        return {"ok": True, "channel": channel,
                "permalink": f"https://test.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"}

    def _users_info(self, args: dict) -> dict:
        uid = args.get("user")
        if not uid:
            raise _ApiError("user_not_found")
        if uid in self._user_errors:
            raise _ApiError(self._user_errors[uid])
        p = dict(self._users.get(uid, {}))
        tz = p.pop("tz", "UTC")
        try:
            now = datetime.now(ZoneInfo(tz))
            offset, label = int(now.utcoffset().total_seconds()), now.tzname() or tz  # type: ignore[union-attr]
        except Exception:
            offset, label = 0, tz
        real_name = p.pop("real_name", f"User {uid}")
        name, email = p.pop("name", uid.lower()), p.pop("email", f"{uid.lower()}@example.com")
        home = p.pop("team_id", None)
        if home is not None and not self._sees(self._caller_team, home):
            raise _ApiError("user_not_found")  # another workspace's user
        user = {"id": uid, "team_id": home or TEAM_ID, "name": name, "deleted": p.pop("deleted", False),
                "real_name": real_name, "tz": tz, "tz_label": p.pop("tz_label", label),
                "tz_offset": p.pop("tz_offset", offset), "is_bot": p.pop("is_bot", False), "is_admin": False,
                "is_owner": False, "is_app_user": False, "updated": 1700000000,
                "profile": {"real_name": real_name, "display_name": real_name, "email": email, "team": TEAM_ID}}
        user.update(p)
        return {"ok": True, "user": user}

    def _echo_view(self, view: Any, view_id: str) -> dict:
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        out = {"id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": BOT_ID, "private_metadata": "",
               "callback_id": "", "external_id": "", "state": {"values": {}}, "previous_view_id": None,
               "root_view_id": view_id, "app_installed_team_id": TEAM_ID, "close": None, "submit": None}
        out.update(view)
        out.update({"id": view_id, "hash": self._next_ts().replace(".", "") + ".fakehash"})
        return out

    def _view_call(self, args: dict, need_trigger: bool) -> dict:
        if need_trigger and not args.get("trigger_id"):
            raise _ApiError("invalid_arguments")
        return {"ok": True, "view": self._echo_view(args.get("view"), self._next_id("V"))}

    def _views_update(self, args: dict) -> dict:
        if not args.get("view_id") and not args.get("external_id"):
            raise _ApiError("invalid_arguments")
        view_id = args.get("view_id") or "VX" + str(args["external_id"])
        return {"ok": True, "view": self._echo_view(args.get("view"), view_id)}

    def _views_publish(self, args: dict) -> dict:
        """Records the view in ``published_views[user_id]`` (home view id is "VH<user>")."""
        if not args.get("user_id"):
            raise _ApiError("invalid_arguments")
        view = self._echo_view(args.get("view"), "VH" + args["user_id"])
        self.published_views[args["user_id"]] = view
        return {"ok": True, "view": view}

    def _files_get_upload_url(self, args: dict) -> dict:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            raise _ApiError("invalid_arguments")
        file_id = self._next_id("F")
        self._pending_files[file_id] = {"filename": args["filename"], "length": int(args["length"]), "content": None}
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict) -> dict:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        if any(self._pending_files.get(f.get("id"), {}).get("content") is None for f in files):
            raise _ApiError("file_not_found")
        channel_id = args.get("channel_id") or args.get("channels") or None
        out = []
        for f in files:
            pending = self._pending_files.pop(f["id"])
            name, title = pending["filename"], f.get("title") or pending["filename"]
            self._uploaded.append(UploadedFile(name, title, pending["content"], channel_id,
                                               args.get("initial_comment"), f["id"], args.get("thread_ts")))
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
            out.append({"id": f["id"], "created": 1700000000, "timestamp": 1700000000, "name": name, "title": title,
                        "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream", "filetype": ext,
                        "user": BOT_USER_ID, "size": len(pending["content"]), "mode": "hosted",
                        "is_external": False, "shares": {}, "channels": [channel_id] if channel_id else [],
                        "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{f['id']}/{name}",
                        "permalink": f"https://test.slack.com/files/{BOT_USER_ID}/{f['id']}/{name}"})
        return {"ok": True, "files": out}
