"""`/ladder` end to end: signed HTTP requests to the running app, answers watched on a fake Slack."""

from __future__ import annotations

import shutil
import time
import urllib.request

import pytest
import yaml

from bot import ids
from bot.catalog import BUNDLED_CONTENT_DIR
from bot.listeners.errors import SORRY
from tests import slack_requests as req
from tests.running_bot import blocks_text, start_bot

QUIET = 0.3  # how long to watch for a response_url post that must not come


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button_with(blocks: list[dict], value: str) -> dict:
    found = [b for b in buttons(blocks) if b["value"] == value]
    assert len(found) == 1, f"no single button with value {value!r} in {[b['value'] for b in buttons(blocks)]}"
    return found[0]


def squash(text: str) -> str:
    return " ".join(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").split())


def test_ladder_senior_acks_with_the_whole_level_ephemeral_with_share_and_equivalents(running_bot):
    started = time.monotonic()
    reply = running_bot.command("/ladder senior")
    elapsed = time.monotonic() - started

    assert reply.status == 200
    assert elapsed < 3, f"acked after {elapsed:.2f}s"
    assert reply.body["response_type"] == "ephemeral"
    assert reply.body["text"]  # the notification fallback
    text = squash(reply.text())
    senior = running_bot.services.catalog.level("delivery", "senior")
    for section in senior.sections:
        for paragraph in (*section.paragraphs, *section.items):
            assert squash(paragraph) in text
    for question in senior.questions:
        assert squash(question.text) in text
    share = [b for b in buttons(reply.blocks) if b["action_id"] == ids.LADDER_SHARE]
    assert [b["value"] for b in share] == ["level:delivery/senior"]
    assert {b["value"] for b in buttons(reply.blocks)} >= {
        "level:roadmap/stage-3", "level:engineering-levels/senior", "level:engineer-track/level-4"}
    # The whole answer was in the ack: nothing more arrives later.
    time.sleep(QUIET)
    assert running_bot.fake.responses_for(reply.token) == []


def test_clicking_an_equivalent_posts_that_level_to_the_response_url(running_bot):
    ack = running_bot.command("/ladder senior")
    button = button_with(ack.blocks, "level:roadmap/stage-3")

    click = running_bot.click(button["action_id"], button["value"])

    assert click.status == 200
    [posted] = click.followups(1)
    assert posted["response_type"] == "ephemeral"
    assert posted["replace_original"] is False
    text = blocks_text(posted["blocks"])
    assert "System Owner" in text
    stage_3 = running_bot.services.catalog.level("roadmap", "stage-3")
    assert all(squash(item) in squash(text) for s in stage_3.sections for item in s.items)
    # The opened level can be shared in its turn.
    assert button_with(posted["blocks"], "level:roadmap/stage-3")["action_id"] == ids.LADDER_SHARE


def test_share_posts_the_answer_in_channel_with_who_shared_it(running_bot):
    ack = running_bot.command("/ladder senior vs staff")
    share = button_with(ack.blocks, "compare:delivery/senior|delivery/staff")

    click = running_bot.click(share["action_id"], share["value"], user_id="U42")

    assert click.status == 200
    [posted] = click.followups(1)
    assert posted["response_type"] == "in_channel"
    text = blocks_text(posted["blocks"])
    assert "Shared by <@U42>" in text
    assert "Senior Engineer → Staff Engineer" in text
    assert buttons(posted["blocks"]) == []  # a channel copy has no buttons of its own


def test_the_leaders_overview_opens_a_theme_in_one_click(running_bot):
    ack = running_bot.command("/ladder execution")
    risk = button_with(ack.blocks, "theme:execution/risk")

    click = running_bot.click(risk["action_id"], risk["value"])

    [posted] = click.followups(1)
    text = squash(blocks_text(posted["blocks"]))
    assert "Risk Management Is Part of Delivery" in text
    assert "Strong teams don't wait for risks to turn into incidents." in text
    assert button_with(posted["blocks"], "theme:execution/risk")["action_id"] == ids.LADDER_SHARE


def test_a_question_as_people_type_it_is_answered_in_the_ack(running_bot):
    reply = running_bot.command("/ladder how do I get to staff?")
    assert reply.status == 200
    text = squash(reply.text())
    assert "Senior Engineer → Staff Engineer" in text
    assert "You're ready for the next stage when others adjust to your delivery pace" in text


def test_a_typo_gets_did_you_mean_and_never_an_error(running_bot):
    reply = running_bot.command("/ladder senoir")

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    text = reply.text()
    assert "Did you mean" in text and "Senior" in text
    assert "Traceback" not in text and SORRY not in text
    suggestion = buttons(reply.blocks)[0]
    # The suggestion is a button: one click opens it.
    [posted] = running_bot.click(suggestion["action_id"], suggestion["value"]).followups(1)
    assert "Senior Engineer · Delivery" in blocks_text(posted["blocks"])
    time.sleep(QUIET)
    assert running_bot.fake.responses_for(reply.token) == []


@pytest.mark.parametrize("line", ["/ladder", "/ladder help", "/ladder   "])
def test_ladder_alone_gives_help(running_bot, line):
    reply = running_bot.command(line)

    assert reply.status == 200
    text = reply.text()
    assert "/ladder senior vs staff" in text
    for framework in running_bot.services.catalog.frameworks:
        assert framework.name in text


@pytest.mark.parametrize("line", ["/ladder <script>", "/ladder senior in narnia", "/ladder " + "x" * 3000,
                                  "/ladder vs", "/ladder ->", "/ladder 🙂"])
def test_odd_input_gets_a_helpful_answer(running_bot, line):
    reply = running_bot.command(line)
    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert "/ladder" in reply.text()
    assert SORRY not in reply.text()


def test_a_forged_signature_is_refused_and_not_answered(running_bot):
    body, content_type = req.slash_command(text="senior", response_url=running_bot.fake.response_url("forged"))

    status, _, text = req.post_to_app(running_bot.url, body, content_type, "not-the-signing-secret")

    assert status == 401
    assert "Senior" not in text
    time.sleep(QUIET)
    assert running_bot.fake.responses_for("forged") == []


def test_a_stale_timestamp_is_refused(running_bot):
    body, content_type = req.slash_command(text="senior", response_url=running_bot.fake.response_url("stale"))
    from tests.running_bot import SIGNING_SECRET

    status, _, text = req.post_to_app(running_bot.url, body, content_type, SIGNING_SECRET,
                                      timestamp=int(time.time()) - 600)

    assert status == 401
    assert "Senior" not in text
    # The same request signed now is answered: it is the age that was refused.
    status, _, text = req.post_to_app(running_bot.url, body, content_type, SIGNING_SECRET)
    assert status == 200 and "Senior" in text


def test_healthz(running_bot):
    with urllib.request.urlopen(running_bot.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert response.read() == b"ok\n"


# -- an answer longer than one message ---------------------------------------------------------


@pytest.fixture
def long_content(tmp_path):
    """The bundled content with the delivery Senior stage grown past 50 blocks."""
    content = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, content)
    delivery = yaml.safe_load((content / "delivery.yaml").read_text())
    senior = next(lvl for lvl in delivery["levels"] if lvl["id"] == "senior")
    senior["sections"] += [{"title": f"Extra {i}", "paragraphs": [f"Extra paragraph number {i}."]}
                           for i in range(70)]
    (content / "delivery.yaml").write_text(yaml.safe_dump(delivery, allow_unicode=True))
    return content


def test_a_long_answer_acks_the_first_message_and_posts_the_rest(fake_slack, sqlite_url, long_content):
    bot, stop = start_bot(fake_slack, sqlite_url, CONTENT_DIR=str(long_content))
    try:
        reply = bot.command("/ladder senior")
        assert reply.status == 200
        assert len(reply.blocks) == 50
        [rest] = reply.followups(1)
    finally:
        stop()
    assert rest["response_type"] == "ephemeral" and rest["replace_original"] is False
    text = squash(reply.text() + "\n" + blocks_text(rest["blocks"]))
    positions = [text.find(f"Extra paragraph number {i}.") for i in range(70)]
    assert -1 not in positions and positions == sorted(positions)
    assert [b["action_id"] for b in buttons(rest["blocks"])][-1] == ids.LADDER_SHARE
    assert not [b for b in buttons(reply.blocks) if b["action_id"] == ids.LADDER_SHARE]
