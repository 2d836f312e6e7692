"""THE access test: every reader against every owner, through every read path of the running bot.

People: A is an engineer whose manager is M; F was A's manager until A switched to M; X is a
workspace admin (ADMIN_USER_IDS); S is a stranger; B is another engineer, managed by M2.
Owners: A and B, each with a shared and a private answer (under questions nobody else was
asked) and a self-assessment.

Rule: a log is readable by its engineer and their *current* manager; private answers by the
engineer only; a prep digest by the current manager only; the App Home shows content to its
owner only (a manager sees who their reports are, never what they wrote). Everyone else gets
`REFUSAL`, and nothing of the owner's reaches them anywhere in Slack: not in responses, DMs,
uploaded files or their Home tab.

Each read path is one small function in `PATHS`: it makes the request as `reader` about `owner`
and returns everything the fake Slack delivered to the reader because of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.growthlog.access import REFUSAL
from storage.repositories import Assessments
from tests import slack_requests as req
from tests.fake_slack import FakeSlack
from tests.growthlog import log_seed as seed
from tests.running_bot import RunningBot, blocks_text, start_bot

A, M, F, X, S, B, M2 = "UA", "UM", "UF", "UX", "US", "UB", "UM2"
READERS = {"A": A, "M": M, "F": F, "X": X, "S": S, "B": B, "M2": M2}
OWNERS = {"A": A, "B": B}
CURRENT_MANAGER = {A: M, B: M2}
SETTLE = 0.25  # after the first response, how long later messages of the same request may take


def marker(owner: str, kind: str) -> str:
    return f"zz{kind}{owner}zz"  # one word, so no mrkdwn or Markdown escaping can split it


@dataclass
class Received:
    """Everything the fake Slack delivered to the reader for one request."""

    texts: list[str] = field(default_factory=list)
    uploads: int = 0

    @property
    def all(self) -> str:
        return "\n".join(self.texts)

    @property
    def refused(self) -> bool:
        return REFUSAL in self.texts


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    from storage.db import upgrade_database

    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'bot.db'}"
    upgrade_database(url)
    with FakeSlack() as fake:
        running, stop = start_bot(fake, url, ADMIN_USER_IDS=X)
        _seed(running)
        yield running
        stop()


def _seed(bot: RunningBot) -> None:
    catalog = bot.services.catalog
    matrix = catalog.framework("engineering-levels").matrix
    picks = {capability.id: "senior" for _, capability in matrix.capabilities()}
    with bot.services.session_factory.begin() as session:
        for owner in (A, B):
            engineer = seed.engineer(session, owner)
            row = seed.checkin(session, engineer, date.today() - timedelta(days=date.today().weekday() + 7),
                               [("q1", marker(owner, "sharedquestion")), ("q2", marker(owner, "privatequestion"))])
            at = datetime.now(UTC) - timedelta(days=3)
            seed.answer(session, row, "q1", marker(owner, "sharedanswer"), at=at)
            seed.answer(session, row, "q2", marker(owner, "privateanswer"), at=at, private=True)
            Assessments(session).add(engineer.id, "engineering-levels", picks, at)
        for other in (M, X):  # people with logs of their own; S, F and M2 have none
            seed.engineer(session, other)
    # The relationships are made the way people make them: A names F, then switches to M.
    for user, line in ((A, f"/growth manager <@{F}|fran>"), (A, f"/growth manager <@{M}|maria>"),
                       (B, f"/growth manager <@{M2}|mo>")):
        bot.command(line, user_id=user).followups()


# -- the read paths -------------------------------------------------------------------------------

def _collect(bot: RunningBot, reader: str, token: str | None, acked: dict | None = None) -> Received:
    fake = bot.fake
    got = Received()
    if acked and acked.get("blocks"):
        # Answered in the ack itself (log, prep): what it says counts, and so does anything after.
        got.texts += [str(acked.get("text", "")), blocks_text(acked["blocks"])]
    if token is not None:
        if not (acked and acked.get("blocks")):
            fake.wait_for_response(token)
        time.sleep(SETTLE)
        for body in fake.responses_for(token):
            got.texts.append(str(body.get("text", "")) if isinstance(body, dict) else str(body))
            if isinstance(body, dict):
                got.texts.append(blocks_text(body.get("blocks") or []))
    for call in fake.calls_to("chat.postMessage"):
        if call.args.get("channel") in (reader, "D" + reader):
            got.texts += [str(call.args.get("text", "")), blocks_text(call.args.get("blocks") or [])]
    for upload in fake.uploaded_files:
        assert upload.channel_id == "D" + reader, "a file went somewhere other than the reader's DM"
        got.uploads += 1
        got.texts += [upload.title, upload.initial_comment or "", upload.content.decode("utf-8", "replace")]
    if reader in fake.published_views:
        got.texts.append(blocks_text(fake.published_views[reader].get("blocks") or []))
    # Nothing for this request may have gone to anyone else.
    others = [c.args.get("channel") for c in fake.calls_to("chat.postMessage")
              if c.args.get("channel") not in (reader, "D" + reader)]
    assert not others, f"messages went to {others}"
    assert set(fake.published_views) <= {reader}
    return got


def _command(line: str):
    def path(bot: RunningBot, reader: str, owner: str) -> Received:
        reply = bot.command(line.format(owner=owner), user_id=reader)
        return _collect(bot, reader, reply.token, reply.body if isinstance(reply.body, dict) else None)
    return path


def _app_home(bot: RunningBot, reader: str, owner: str) -> Received:
    event = {"type": "app_home_opened", "user": reader, "channel": "D" + reader, "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    body, ctype = req.event_callback(event, event_id=f"Ev{reader}{owner}{time.monotonic_ns()}")
    status, _, _ = bot.post(body, ctype)
    assert status == 200
    bot.fake.wait_for("views.publish")
    time.sleep(SETTLE / 2)
    return _collect(bot, reader, None)


PATHS = {
    "log": _command("/growth log <@{owner}|someone>"),
    "export": _command("/growth export <@{owner}|someone>"),
    "profile": _command("/growth profile <@{owner}|someone>"),
    "prep": _command("/growth prep <@{owner}|someone>"),
    "home": _app_home,
}


def allowed(path: str, reader: str, owner: str) -> bool:
    if path == "prep":
        return reader == CURRENT_MANAGER[owner]
    if path == "home":
        return reader == owner
    return reader in (owner, CURRENT_MANAGER[owner])


CASES = [(path, r, o) for path in PATHS for r in READERS for o in OWNERS]


@pytest.mark.parametrize("path, reader_name, owner_name", CASES,
                         ids=[f"{p}-{r}-reads-{o}" for p, r, o in CASES])
def test_who_sees_what(bot, path, reader_name, owner_name):
    reader, owner = READERS[reader_name], OWNERS[owner_name]
    bot.fake.clear()
    got = PATHS[path](bot, reader, owner)
    text = got.all
    others = [o for o in OWNERS.values() if o != owner and o != reader]

    # Never anything of a third owner, whatever the path.
    for other in others:
        for kind in ("sharedanswer", "privateanswer", "sharedquestion", "privatequestion"):
            assert marker(other, kind) not in text

    if reader == owner:
        # The engineer's private answers (and the questions they answered privately) are theirs to see.
        if path in ("log", "export", "home"):
            assert marker(owner, "privateanswer") in text and marker(owner, "privatequestion") in text
    else:
        # Nobody else ever sees a private answer, or any hint of it.
        assert marker(owner, "privateanswer") not in text
        assert marker(owner, "privatequestion") not in text

    if allowed(path, reader, owner):
        assert not got.refused
        if path in ("log", "export", "prep", "home"):
            assert marker(owner, "sharedanswer") in text and marker(owner, "sharedquestion") in text
        if path in ("export", "profile"):
            assert got.uploads == 1
        return

    assert marker(owner, "sharedanswer") not in text and marker(owner, "sharedquestion") not in text
    assert got.uploads == 0
    if path == "home":
        # A Home tab is always the reader's own: their current manager sees who their reports
        # are (never what they wrote); anyone else, not even that the owner exists.
        assert (f"<@{owner}>" in text) == (reader == CURRENT_MANAGER[owner])
        return
    assert got.refused and all(t in ("", REFUSAL) for t in got.texts), got.texts


@pytest.mark.parametrize("path", [p for p in PATHS if p != "home"])
def test_a_refusal_is_the_same_whether_or_not_the_other_person_has_a_log(bot, path):
    bot.fake.clear()
    about_someone = PATHS[path](bot, S, A)
    bot.fake.clear()
    about_nobody = PATHS[path](bot, S, "UNOBODY")
    assert about_someone.refused and about_someone.texts == about_nobody.texts
