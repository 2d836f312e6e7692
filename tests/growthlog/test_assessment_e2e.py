"""`/growth assess` and `/growth profile` end to end: signed requests to the running app, a fake Slack."""

from __future__ import annotations

import copy
import io
import json
import shutil
import time
from datetime import UTC, datetime

import yaml
from PIL import Image

from bot import ids
from bot.blocks import assessment as blocks
from bot.catalog import BUNDLED_CONTENT_DIR
from bot.growthlog.access import REFUSAL
from bot.growthlog.assessment import FRAMEWORK_ID, assessment_choices
from bot.growthlog.profile_chart import PNG_SIGNATURE
from storage.repositories import Assessments, Engineers
from tests import slack_requests as req
from tests.running_bot import blocks_text, start_bot

QUIET = 0.3  # how long to watch for an upload that must not happen
TEAM = "T1"


def seed(bot, user_id: str, manager: str | None = None, level=("delivery", "senior"),
         assessments: list[tuple[datetime, dict]] = ()) -> None:
    with bot.services.session_factory.begin() as session:
        engineer = Engineers(session).get_or_create(TEAM, user_id)
        engineer.manager_user_id = manager
        engineer.framework_id, engineer.level_id = level if level else (None, None)
        engineer.tz_checked_at = datetime(2030, 1, 1, tzinfo=UTC)
        session.flush()
        for when, picks in assessments:
            Assessments(session).add(engineer.id, FRAMEWORK_ID, picks, when)


def stored(bot, user_id: str) -> list:
    with bot.services.session_factory() as session:
        engineer = Engineers(session).get(TEAM, user_id)
        return [] if engineer is None else [(a.framework_id, dict(a.picks))
                                            for a in Assessments(session).for_engineer(engineer.id)]


def capability_ids(bot) -> list[str]:
    return [item.capability.id for item in assessment_choices(bot.services.catalog)]


def radio(role: str | None) -> dict:
    return {"type": "radio_buttons", "selected_option": {"value": role} if role else None}


def submit(bot, user_id: str, picks: dict[str, str | None], metadata: str = "", view_id: str = "V1"):
    values = {blocks.pick_block_id(cid): {ids.ASSESS_PICK_INPUT: radio(role)} for cid, role in picks.items()}
    body, ctype = req.view_submission(user_id=user_id, callback_id=ids.ASSESS_MODAL, state_values=values,
                                      private_metadata=metadata, view_id=view_id)
    return bot.post(body, ctype)


def ephemeral_text(reply) -> str:
    message = reply.followups()[0]
    assert message.get("response_type") == "ephemeral"
    return blocks_text(message.get("blocks", [])) or message.get("text", "")


def a_profile(bot) -> tuple[list[str], dict, dict]:
    caps = capability_ids(bot)
    older = {cid: "mid" for cid in caps}
    latest = dict(older, **{caps[0]: "lead", caps[1]: "junior", caps[2]: "senior"})
    return caps, older, latest


def test_assess_opens_the_matrix_form(running_bot):
    reply = running_bot.command("/growth assess")
    assert reply.status == 200
    call = running_bot.fake.wait_for("views.open")[0]
    assert call.args["trigger_id"] == "t1"
    view = call.args["view"]
    assert view["callback_id"] == ids.ASSESS_MODAL
    assert len(view["blocks"]) <= 100
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) == 27
    catalog = running_bot.services.catalog
    sizing = catalog.framework(FRAMEWORK_ID).matrix.stages[0].capabilities[1]
    sizing_input = next(b for b in inputs if b["block_id"] == blocks.pick_block_id(sizing.id))
    assert [o["text"]["text"] for o in sizing_input["element"]["options"]] == list(sizing.cells.values())
    # It opens with the matrix's own introduction, verbatim, before how to answer.
    opening = blocks_text(view["blocks"][:2])
    assert "This is the part you grow against. The ladder tells you your altitude; this tells you your shape." in opening
    assert "How to read it. One table per stage of the journey." in opening
    assert "still a draft" not in opening  # the draft note is the matrix page's, not the form's


def test_submitting_stores_a_dated_assessment_and_confirms_in_the_dm(running_bot):
    caps = capability_ids(running_bot)
    status, _, body = submit(running_bot, "U1", {caps[0]: "senior", caps[1]: "mid", caps[2]: None})
    assert status == 200 and not body
    running_bot.fake.wait_for("chat.postMessage")
    assert stored(running_bot, "U1") == [(FRAMEWORK_ID, {caps[0]: "senior", caps[1]: "mid"})]
    dm = running_bot.fake.messages_in("DU1")
    assert "Saved your self-assessment" in blocks_text(dm[-1]["blocks"])
    assert "2 of 27 capabilities" in blocks_text(dm[-1]["blocks"])

    # The same Save delivered twice is stored once.
    submit(running_bot, "U1", {caps[0]: "senior", caps[1]: "mid"})
    assert len(stored(running_bot, "U1")) == 1

    # The next form pre-selects those picks.
    running_bot.command("/growth assess")
    view = running_bot.fake.wait_for("views.open")[0].args["view"]
    preselected = {b["block_id"]: b["element"]["initial_option"]["value"]
                   for b in view["blocks"] if b["type"] == "input" and "initial_option" in b["element"]}
    assert preselected == {blocks.pick_block_id(caps[0]): "senior", blocks.pick_block_id(caps[1]): "mid"}


def test_submitting_nothing_is_a_field_error_and_stores_nothing(running_bot):
    caps = capability_ids(running_bot)
    status, _, body = submit(running_bot, "U1", {caps[0]: None})
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {blocks.pick_block_id(caps[0]): blocks.NEED_ONE}
    assert stored(running_bot, "U1") == []


def test_profile_uploads_a_png_to_the_requesters_dm(running_bot):
    caps, older, latest = a_profile(running_bot)
    seed(running_bot, "U1", assessments=[(datetime(2026, 2, 2, tzinfo=UTC), older),
                                         (datetime(2026, 3, 2, tzinfo=UTC), latest)])
    started = time.monotonic()
    reply = running_bot.command("/growth profile")
    assert reply.status == 200
    assert time.monotonic() - started < 3, "the command is acked before the chart is drawn"
    assert "in our DM" in ephemeral_text(reply)
    [upload] = running_bot.fake.uploaded_files
    assert upload.channel_id == "DU1"
    assert upload.filename == "growth-profile.png"
    assert upload.content.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(upload.content)) as image:
        image.load()
        assert image.format == "PNG"
    names = {item.capability.id: item.capability.name for item in assessment_choices(running_bot.services.catalog)}
    comment = upload.initial_comment
    assert "Your jagged profile" in comment
    assert f"Furthest below (Junior, 2 roles away): *{names[caps[1]]}*" in comment
    assert f"Furthest above (Lead, 1 role away): *{names[caps[0]]}*" in comment
    assert f"up on *{names[caps[0]]}* (Mid → Lead)" in comment


def test_a_stranger_is_refused_and_nothing_is_uploaded(running_bot):
    _, older, _ = a_profile(running_bot)
    seed(running_bot, "U1", assessments=[(datetime(2026, 3, 2, tzinfo=UTC), older)])
    reply = running_bot.command("/growth profile <@U1|ada>", user_id="U3")
    assert REFUSAL in ephemeral_text(reply)
    # Someone with no log at all gets the very same answer.
    other = running_bot.command("/growth profile <@U9|nobody>", user_id="U3")
    assert ephemeral_text(other) == ephemeral_text(reply)
    time.sleep(QUIET)
    assert running_bot.fake.uploaded_files == []
    assert running_bot.fake.calls_to("files.getUploadURLExternal") == []


def test_the_manager_sees_the_profile_in_their_own_dm(running_bot):
    _, older, latest = a_profile(running_bot)
    seed(running_bot, "U1", manager="U2", assessments=[(datetime(2026, 3, 2, tzinfo=UTC), latest)])
    reply = running_bot.command("/growth profile <@U1|ada>", user_id="U2")
    assert "<@U1>'s jagged profile" in ephemeral_text(reply)
    [upload] = running_bot.fake.uploaded_files
    assert upload.channel_id == "DU2"
    assert upload.content.startswith(PNG_SIGNATURE)
    assert "<@U1>'s jagged profile" in upload.initial_comment


def test_no_assessment_yet_points_to_growth_assess(running_bot):
    reply = running_bot.command("/growth profile")
    assert "/growth assess" in ephemeral_text(reply)
    seed(running_bot, "U1", manager="U2")
    manager = running_bot.command("/growth profile <@U1|ada>", user_id="U2")
    assert "hasn't done a self-assessment yet" in ephemeral_text(manager)
    time.sleep(QUIET)
    assert running_bot.fake.uploaded_files == []


def test_without_a_level_the_profile_says_there_is_no_reference_line(running_bot):
    _, older, _ = a_profile(running_bot)
    seed(running_bot, "U1", level=None, assessments=[(datetime(2026, 3, 2, tzinfo=UTC), older)])
    running_bot.command("/growth profile")
    running_bot.fake.wait_for("files.completeUploadExternal")
    [upload] = running_bot.fake.uploaded_files
    assert "No level set" in upload.initial_comment


def test_a_matrix_too_big_for_one_modal_is_answered_over_two_pages(fake_slack, sqlite_url, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, content)
    levels = yaml.safe_load((content / "engineering-levels.yaml").read_text())
    again = copy.deepcopy(levels["matrix"]["stages"])
    for stage in again:
        stage["id"] += "-again"
        for capability in stage["capabilities"]:
            capability["id"] += "-again"
    levels["matrix"]["stages"].extend(again)
    (content / "engineering-levels.yaml").write_text(yaml.safe_dump(levels, allow_unicode=True))
    bot, stop = start_bot(fake_slack, sqlite_url, CONTENT_DIR=str(content))
    try:
        caps = capability_ids(bot)
        assert len(caps) == 54
        bot.command("/growth assess")
        first = bot.fake.wait_for("views.open")[0].args["view"]
        assert first["submit"]["text"] == "Next" and len(first["blocks"]) <= 100
        on_first = [b["block_id"][len(ids.ASSESS_PICK_BLOCK):] for b in first["blocks"] if b["type"] == "input"]
        status, _, body = submit(bot, "U1", {on_first[0]: "junior"}, metadata=first["private_metadata"])
        answer = json.loads(body)
        assert answer["response_action"] == "update"
        second = answer["view"]
        assert second["submit"]["text"] == "Save" and len(second["blocks"]) <= 100
        on_second = [b["block_id"][len(ids.ASSESS_PICK_BLOCK):] for b in second["blocks"] if b["type"] == "input"]
        assert on_first + on_second == caps
        assert stored(bot, "U1") == []
        status, _, body = submit(bot, "U1", {on_second[-1]: "lead"}, metadata=second["private_metadata"])
        assert status == 200 and not body
        bot.fake.wait_for("chat.postMessage")
        assert stored(bot, "U1") == [(FRAMEWORK_ID, {on_first[0]: "junior", on_second[-1]: "lead"})]
    finally:
        stop()
