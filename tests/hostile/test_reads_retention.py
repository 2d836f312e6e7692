"""Hostile and clumsy clients against #13: the Delete button, the read record, `/growth reads`,
the retention pass and the Block Kit limits of what they draw."""

from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.growthlog.log_view import LogQuery
from storage.models import Answer, AnswerRevision, Engineer, LogRead
from tests.growthlog.test_delete_answer import seed_two
from tests.running_bot import blocks_text, start_bot

SORRY = "went wrong"
NOT_DELETED = "isn't yours to delete"


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


def said(bot, reply) -> str:
    reply.followups()
    time.sleep(0.2)
    return "\n".join(blocks_text(m.get("blocks", [])) + str(m.get("text", ""))
                     for m in bot.fake.responses_for(reply.token))


def answer_count(bot) -> tuple[int, int]:
    with bot.services.session_factory() as session:
        return (session.scalar(select(func.count()).select_from(Answer)),
                session.scalar(select(func.count()).select_from(AnswerRevision)))


def reads_of(bot, owner: str) -> list[LogRead]:
    with bot.services.session_factory() as session:
        return list(session.scalars(select(LogRead).join(Engineer, Engineer.id == LogRead.engineer_id)
                                    .where(Engineer.user_id == owner).order_by(LogRead.id)))


@pytest.fixture
def bot_on(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    yield bot
    stop()


# -- the Delete button ---------------------------------------------------------------------------

QUERY = LogQuery("U1").to_value()
CRAFTED_IDS = [2 ** 31, 2 ** 63 - 1, 2 ** 63, 2 ** 70, -1, 0, "-5", "abc", None, 1.5, True, [1], {"a": 1}]


@pytest.mark.parametrize("answer_id", CRAFTED_IDS, ids=[repr(a)[:20] for a in CRAFTED_IDS])
def test_a_delete_naming_a_non_numeric_huge_or_negative_id_deletes_nothing_and_says_so(bot_on, caplog, answer_id):
    caplog.set_level(logging.INFO)
    seed_two(bot_on.services.session_factory)
    before = answer_count(bot_on)
    value = json.dumps({"a": answer_id, "q": QUERY})
    reply = bot_on.click(f"{ids.LOG_DELETE}:1", value, user_id="U1")
    assert reply.status == 200
    text = said(bot_on, reply)
    assert NOT_DELETED in text and SORRY not in text
    assert answer_count(bot_on) == before
    quiet_log(caplog)


def test_a_delete_click_without_a_value_or_replayed_after_deletion_deletes_nothing_more(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    missing = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", None, user_id="U1")
    assert missing.status == 200 and NOT_DELETED in said(bot_on, missing)
    value = json.dumps({"a": found["first"], "q": QUERY})
    first = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1")
    assert "first final" not in said(bot_on, first)
    assert answer_count(bot_on) == (2, 0)
    replayed = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1")
    assert replayed.status == 200 and NOT_DELETED in said(bot_on, replayed)
    assert answer_count(bot_on) == (2, 0)
    quiet_log(caplog)


def test_a_delete_from_the_same_user_id_in_another_workspace_deletes_nothing(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    value = json.dumps({"a": found["first"], "q": QUERY})
    reply = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1", team_id="T2")
    assert reply.status == 200 and NOT_DELETED in said(bot_on, reply)
    assert answer_count(bot_on) == (3, 1)
    quiet_log(caplog)


def test_a_manager_clicking_delete_on_a_reports_entry_deletes_nothing_and_records_no_read(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    for answer_id in (found["first"], found["second"]):
        value = json.dumps({"a": answer_id, "q": QUERY})
        reply = bot_on.click(f"{ids.LOG_DELETE}:{answer_id}", value, user_id="U2")
        text = said(bot_on, reply)
        assert NOT_DELETED in text and "first final" not in text
    assert answer_count(bot_on) == (3, 1)
    assert reads_of(bot_on, "U1") == []
    quiet_log(caplog)


def test_the_action_id_and_the_value_disagreeing_deletes_only_what_the_value_names_if_own(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    # The action id names the clicker's own answer, the value someone else's: nothing goes.
    value = json.dumps({"a": found["theirs"], "q": QUERY})
    reply = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1")
    assert NOT_DELETED in said(bot_on, reply)
    assert answer_count(bot_on) == (3, 1)
    quiet_log(caplog)


FAR_PAGE = 100_000     # bot.growthlog.log_view.MAX_PAGE: the furthest page a button may name
PAST_PAGES = [FAR_PAGE + 1, 2 ** 31, 2 ** 62, 2 ** 63 - 1]   # page x page size overflowed OFFSET: a 500


@pytest.mark.parametrize("page", [FAR_PAGE, *PAST_PAGES])
def test_a_delete_whose_page_to_redraw_is_huge_answers_and_deletes_only_a_button_of_ours(bot_on, caplog, page):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    value = json.dumps({"a": found["second"], "q": json.dumps({"o": "U1", "p": page})})
    reply = bot_on.click(f"{ids.LOG_DELETE}:{found['second']}", value, user_id="U1")
    assert reply.status == 200
    text = said(bot_on, reply)
    assert SORRY not in text
    if page == FAR_PAGE:
        assert answer_count(bot_on) == (2, 1)
    else:   # not a value the bot draws: nothing deleted, and said so
        assert NOT_DELETED in text and answer_count(bot_on) == (3, 1)
    quiet_log(caplog)


# -- paging buttons with crafted pages: answered, and recorded once when shown -------------------

@pytest.mark.parametrize("page", [FAR_PAGE, *PAST_PAGES])
@pytest.mark.parametrize("clicker", ["U1", "U2"])
def test_a_paging_click_with_a_huge_page_answers_and_records_at_most_one_read(bot_on, caplog, page, clicker):
    caplog.set_level(logging.INFO)
    seed_two(bot_on.services.session_factory)
    reply = bot_on.click(ids.LOG_OLDER, json.dumps({"o": "U1", "p": page}), user_id=clicker)
    assert reply.status == 200
    assert SORRY not in said(bot_on, reply)
    shown = page == FAR_PAGE and clicker == "U2"     # an empty page of a report's log is still a look
    assert [(r.reader_user_id, r.entries) for r in reads_of(bot_on, "U1")] == ([("U2", 0)] if shown else [])
    quiet_log(caplog)
