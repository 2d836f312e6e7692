"""Hostile button values: JSON that Python cannot read back, someone else's ids, other frameworks' ids."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot import ids
from tests.running_bot import blocks_text

SORRY = "went wrong"
DEEP = "[" * 5000          # json.loads raises RecursionError, not ValueError
DEEP_OBJECT = '{"o":' * 3000


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


def said_after(bot, click) -> str:
    time.sleep(0.3)
    return "\n".join(blocks_text(m.get("blocks", [])) + str(m.get("text", "")) for m in bot.fake.responses_for(click.token))


@pytest.mark.parametrize("action_id", [ids.LOG_OLDER, ids.LOG_NEWER])
@pytest.mark.parametrize("value", [DEEP, DEEP_OBJECT, json.dumps({"o": "U1", "p": 0, "s": DEEP})])
def test_a_paging_button_nested_past_the_recursion_limit_is_refused_politely(running_bot, caplog, action_id, value):
    caplog.set_level(logging.INFO)
    click = running_bot.click(action_id, value)
    assert click.status == 200
    assert SORRY not in said_after(running_bot, click)
    quiet_log(caplog)


@pytest.mark.parametrize("value", [DEEP, json.dumps({"a": 1, "v": 1, "q": DEEP})])
def test_a_privacy_toggle_nested_past_the_recursion_limit_is_refused_politely(running_bot, caplog, value):
    caplog.set_level(logging.INFO)
    click = running_bot.click(f"{ids.LOG_PRIVACY}:1", value)
    assert click.status == 200
    assert SORRY not in said_after(running_bot, click)
    quiet_log(caplog)
