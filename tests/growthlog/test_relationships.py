"""`/growth manager`: naming, changing and removing the one person who may read your log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot import ids
from bot.growthlog.access import REFUSAL
from bot.growthlog.relationships import Target, assign_manager, parse_target
from storage.repositories import Engineers, OneOnOnes
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.running_bot import blocks_text

QUIET = 0.3


@pytest.mark.parametrize("typed, expected", [
    ("<@U2|maria>", Target("user", "U2")),
    ("<@W2>", Target("user", "W2")),
    ("none", Target("remove")),
    ("Remove", Target("remove")),
    ("no one", Target("remove")),
    ("", Target("show")),
    ("maria", Target("unclear")),
    ("<@U2|maria> and <@U3|bo>", Target("unclear")),
])
def test_what_manager_asks_for(typed, expected):
    assert parse_target(typed) == expected


def test_naming_changing_and_removing_a_manager(session_factory):
    with session_factory.begin() as session:
        assert assign_manager(session, "T1", "U1", "U2") == (None, True)
        OneOnOnes(session).set("T1", "U2", "U1", 3, "10:00", "UTC")
        OneOnOnes(session).set("T1", "U2", "U7", 3, "11:00", "UTC")  # another report's 1:1 stays
    with session_factory.begin() as session:
        assert assign_manager(session, "T1", "U1", "U2") == ("U2", False)
        assert OneOnOnes(session).get("T1", "U2", "U1") is not None
    with session_factory.begin() as session:
        assert assign_manager(session, "T1", "U1", "U3") == ("U2", True)
    with session_factory() as session:
        assert Engineers(session).get("T1", "U1").manager_user_id == "U3"
        assert OneOnOnes(session).get("T1", "U2", "U1") is None
        assert OneOnOnes(session).get("T1", "U2", "U7") is not None
    with session_factory.begin() as session:
        assert assign_manager(session, "T1", "U1", None) == ("U3", True)
    with session_factory() as session:
        assert Engineers(session).get("T1", "U1").manager_user_id is None


# -- end to end -----------------------------------------------------------------------------------

def dms_to(fake, user_id: str) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == user_id]


def test_naming_a_manager_tells_them_what_they_can_read_and_who_decides(running_bot):
    fake = running_bot.fake
    [answer] = running_bot.command("/growth manager <@U2|maria>", user_id="U1").followups()
    told = blocks_text(answer["blocks"])
    assert answer["response_type"] == "ephemeral"
    assert "<@U2> is now your manager" in told and "I've let them know" in told and "private" in told

    [dm] = dms_to(fake, "U2")
    text = blocks_text(dm["blocks"])
    assert "<@U1> named you as their manager" in text
    assert "/growth log <@U1>" in text and "/growth prep <@U1>" in text
    assert "except answers they keep private" in text and "/growth manager" in text
    with running_bot.services.session_factory() as session:
        assert Engineers(session).get("T1", "U1").manager_user_id == "U2"

    [show] = running_bot.command("/growth manager", user_id="U1").followups()
    assert "Your manager here is <@U2>" in blocks_text(show["blocks"])


def test_naming_yourself_or_a_bot_is_refused_and_changes_nothing(running_bot):
    fake = running_bot.fake
    fake.set_user("UB0T", is_bot=True, real_name="Deploy bot")
    [me] = running_bot.command("/growth manager <@U1|ada>", user_id="U1").followups()
    assert "can't be your own manager" in blocks_text(me["blocks"])
    [bot] = running_bot.command("/growth manager <@UB0T|deploy>", user_id="U1").followups()
    assert "is a bot or an app" in blocks_text(bot["blocks"])
    [slackbot] = running_bot.command("/growth manager <@USLACKBOT|slackbot>", user_id="U1").followups()
    assert "is a bot or an app" in blocks_text(slackbot["blocks"])
    [plain] = running_bot.command("/growth manager maria", user_id="U1").followups()
    assert "@-menu" in blocks_text(plain["blocks"])
    assert dms_to(fake, "UB0T") == [] and dms_to(fake, "U1") == []
    with running_bot.services.session_factory() as session:
        engineer = Engineers(session).get("T1", "U1")
        assert engineer is None or engineer.manager_user_id is None


def test_switching_managers_cuts_the_former_one_off_at_once(running_bot):
    session_factory = running_bot.services.session_factory
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1")
        row = seed.checkin(session, owner, date(2026, 10, 26), [("q1", "What did you finish?")])
        seed.answer(session, row, "q1", "the migration, end to end")
        for week in seed.weeks_back(date(2026, 10, 19), 6):
            seed.answer(session, seed.checkin(session, owner, week, [("q1", "Older question")]), "q1", "older")
    running_bot.command("/growth manager <@UF|fran>", user_id="U1").followups()
    before = acked(running_bot.command("/growth log <@U1|ada>", user_id="UF"))
    assert "the migration, end to end" in blocks_text(before["blocks"])
    old_button = next(e for b in before["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["action_id"] == ids.LOG_OLDER)
    running_bot.command("/growth 1on1 <@U1|ada> thu 10:00", user_id="UF").followups()
    with session_factory() as session:
        assert OneOnOnes(session).get("T1", "UF", "U1") is not None

    [switched] = running_bot.command("/growth manager <@UM|maria>", user_id="U1").followups()
    assert "<@UF> no longer can" in blocks_text(switched["blocks"])
    with session_factory() as session:
        assert OneOnOnes(session).get("T1", "UF", "U1") is None

    after = acked(running_bot.command("/growth log <@U1|ada>", user_id="UF"))
    assert blocks_text(after["blocks"]) == REFUSAL
    [clicked] = running_bot.click(ids.LOG_OLDER, old_button["value"], user_id="UF").followups()
    assert blocks_text(clicked["blocks"]) == REFUSAL and clicked["replace_original"] is True
    prep = acked(running_bot.command("/growth prep <@U1|ada>", user_id="UF"))
    assert blocks_text(prep["blocks"]) == REFUSAL
    now_reads = acked(running_bot.command("/growth log <@U1|ada>", user_id="UM"))
    assert "the migration, end to end" in blocks_text(now_reads["blocks"])

    [removed] = running_bot.command("/growth manager none", user_id="U1").followups()
    assert "<@UM> is no longer your manager" in blocks_text(removed["blocks"])
    gone = acked(running_bot.command("/growth log <@U1|ada>", user_id="UM"))
    assert blocks_text(gone["blocks"]) == REFUSAL
    [again] = running_bot.command("/growth manager remove", user_id="U1").followups()
    assert "nobody to remove" in blocks_text(again["blocks"])


@pytest.mark.parametrize("after_work", [False, True], ids=["before-posting", "after-posting"])
def test_the_new_manager_dm_is_sent_once_when_slack_fails(running_bot, after_work):
    fake = running_bot.fake
    fake.fail_next("chat.postMessage", "internal_error", status=500, after_work=after_work)
    [answer] = running_bot.command("/growth manager <@U2|maria>", user_id="U1").followups()
    assert "keep trying" in blocks_text(answer["blocks"])    # never "couldn't" for what may be posted
    assert len(fake.messages_in("DU2")) == int(after_work)
    later = running_bot.services.now()
    running_bot.services.now = lambda: later + timedelta(minutes=1)
    running_bot.services.outbox.drain()
    [notice] = fake.messages_in("DU2")
    assert "<@U1> named you as their manager" in blocks_text(notice["blocks"])
