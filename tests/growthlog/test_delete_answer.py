"""Deleting one answer from `/growth log`: a Delete button (behind Slack's confirm dialog) on each
of the engineer's own entries only, and a handler that deletes only the clicker's own answer."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot import ids
from bot.blocks.growthlog import build_log_messages
from bot.growthlog.access import Reader
from bot.growthlog.log_view import LogQuery, read_log_view
from storage.models import Answer, AnswerRevision
from storage.repositories import Answers
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.growthlog.test_read_record import MONDAY
from tests.running_bot import blocks_text


def seed_two(session_factory) -> dict[str, int]:
    """U1's log (manager U2): one check-in with two answers, the first edited once; U3's log."""
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        row = seed.checkin(session, owner, MONDAY, [("q1", "First?"), ("q2", "Second?")])
        first = seed.answer(session, row, "q1", "first draft")
        Answers(session).edit_text(first, "first final", first.created_at)
        second = seed.answer(session, row, "q2", "second answer")
        other = seed.engineer(session, "U3")
        theirs = seed.answer(session, seed.checkin(session, other, MONDAY, [("q1", "Q?")]), "q1", "not yours")
        seed.engineer(session, "U2")
        return {"first": first.id, "second": second.id, "theirs": theirs.id}


def delete_buttons(message: dict) -> list[dict]:
    return [element for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"] if element["action_id"].startswith(ids.LOG_DELETE)]


def answer_texts(session_factory) -> list[str]:
    with session_factory() as session:
        return sorted(session.scalars(select(Answer.text)))


def test_only_the_owner_sees_delete_buttons_each_behind_a_confirm(session_factory, uow):
    seed_two(session_factory)
    own = build_log_messages(read_log_view(uow, Reader("T1", "U1"), LogQuery()))[0]
    buttons = [e for b in own if b.type == "actions" for e in b.elements if e.action_id.startswith(ids.LOG_DELETE)]
    assert len(buttons) == 2
    assert all(b.confirm is not None and b.confirm.to_dict()["confirm"]["text"] == "Delete" for b in buttons)
    managed = build_log_messages(read_log_view(uow, Reader("T1", "U2"), LogQuery("U1")))[0]
    assert not [b for b in managed if b.type == "actions"
                and any(e.action_id.startswith(ids.LOG_DELETE) for e in b.elements)]


def test_delete_removes_the_answer_and_its_revisions_and_updates_the_message(running_bot):
    found = seed_two(running_bot.services.session_factory)
    page = acked(running_bot.command("/growth log", user_id="U1"))
    button = next(b for b in delete_buttons(page) if b["action_id"] == f"{ids.LOG_DELETE}:{found['first']}")
    reply = running_bot.click(button["action_id"], button["value"], user_id="U1")
    updated = reply.followups()[0]
    assert updated["replace_original"] is True
    text = blocks_text(updated["blocks"])
    assert "first final" not in text and "second answer" in text
    assert answer_texts(running_bot.services.session_factory) == ["not yours", "second answer"]
    with running_bot.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AnswerRevision)) == 0


def test_a_crafted_delete_naming_someone_elses_answer_deletes_nothing(running_bot):
    found = seed_two(running_bot.services.session_factory)
    query = LogQuery("U1").to_value()
    for clicker, answer_id in (("U1", found["theirs"]), ("U2", found["first"]), ("U9", found["second"]),
                               ("U3", found["first"])):
        value = json.dumps({"a": answer_id, "q": query})
        reply = running_bot.click(f"{ids.LOG_DELETE}:{answer_id}", value, user_id=clicker)
        assert "isn't yours to delete" in blocks_text(reply.followups()[0]["blocks"])
    for junk in ("", "[" * 1000, json.dumps({"a": "1; drop", "q": query}), json.dumps({"a": found["first"]})):
        reply = running_bot.click(f"{ids.LOG_DELETE}:{found['first']}", junk, user_id="U1")
        assert "isn't yours to delete" in blocks_text(reply.followups()[0]["blocks"])
    assert answer_texts(running_bot.services.session_factory) == ["first final", "not yours", "second answer"]


def test_a_delete_button_that_names_another_log_shows_the_clickers_own(running_bot):
    found = seed_two(running_bot.services.session_factory)
    value = json.dumps({"a": found["second"], "q": LogQuery("U3").to_value()})
    reply = running_bot.click(f"{ids.LOG_DELETE}:{found['second']}", value, user_id="U1")
    text = blocks_text(reply.followups()[0]["blocks"])
    assert "Your growth log" in text and "not yours" not in text
