"""Hostile /growth input: values that parse but have no meaning at the edges of the calendar."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot import ids
from tests.checkins.test_checkins_e2e import enrol
from tests.running_bot import blocks_text

SORRY = "went wrong"


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


def answer_of(bot, reply) -> str:
    time.sleep(0.3)
    later = bot.fake.responses_for(reply.token)
    return reply.text() + "\n".join(blocks_text(m.get("blocks", [])) + str(m.get("text", "")) for m in later)


# Midnight on 0001-01-01 east of UTC, or on 9999-12-31 west of it, has no UTC instant.
EDGES = [("Europe/Berlin", "0001-01-01"), ("Asia/Tokyo", "0001-01-01"), ("America/Los_Angeles", "9999-12-31"),
         ("Pacific/Kiritimati", "0001-01-01"), ("Pacific/Pago_Pago", "9999-12-31")]


@pytest.mark.parametrize("tz, day", EDGES)
def test_growth_log_since_the_first_or_last_day_of_the_calendar_answers(running_bot, caplog, tz, day):
    caplog.set_level(logging.INFO)
    enrol(running_bot, tz=tz)
    reply = running_bot.command(f"/growth log since {day}")
    assert reply.status == 200
    assert SORRY not in answer_of(running_bot, reply)
    quiet_log(caplog)


@pytest.mark.parametrize("tz, day", EDGES[:3])
def test_a_paging_button_since_the_edge_of_the_calendar_answers(running_bot, caplog, tz, day):
    caplog.set_level(logging.INFO)
    enrol(running_bot, tz=tz)
    click = running_bot.click(ids.LOG_OLDER, json.dumps({"o": "U1", "p": 1, "s": day}))
    assert click.status == 200
    assert SORRY not in answer_of(running_bot, click)
    quiet_log(caplog)


@pytest.fixture
def bot_on(fake_slack, database_url):
    from tests.running_bot import start_bot

    bot, stop = start_bot(fake_slack, database_url)
    yield bot
    stop()


def test_growth_log_since_the_first_day_of_the_calendar_on_both_databases(bot_on, caplog):
    caplog.set_level(logging.INFO)
    enrol(bot_on, tz="Asia/Tokyo")
    reply = bot_on.command("/growth log since 0001-01-01")
    assert reply.status == 200 and SORRY not in answer_of(bot_on, reply)
    quiet_log(caplog)
