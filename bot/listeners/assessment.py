"""`/growth assess` (the capability-matrix form and its submission) and `/growth profile [@user]`
(the jagged-profile chart, sent to the requester's DM)."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.blocks import assessment as blocks
from bot.growthlog.access import REFUSAL, Reader
from bot.growthlog.assessment import (
    assessment_choices,
    clean_picks,
    matrix_intro,
    merge_page,
    previous_picks,
    read_profile_recorded,
    record_assessment,
    submission_key,
)
from bot.growthlog.exporting import display_name
from bot.growthlog.mentions import split_mention
from bot.growthlog.profile_chart import profile_png
from bot.growthlog.reads import NOT_RECORDED, READS_NOTICE, ReadNotRecorded
from bot.listeners.replies import say
from bot.services import Services

logger = logging.getLogger(__name__)


def open_assessment(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    """`/growth assess`: the form, pre-selecting the engineer's last picks."""
    pages = blocks.assessment_pages(assessment_choices(services.catalog))
    if not pages:
        say(respond, blocks.NO_MATRIX)
        return
    with services.uow.reading() as session:
        picks, previous_on = previous_picks(session, services.catalog, command["team_id"], command["user_id"])
    client.views_open(trigger_id=command["trigger_id"],
                      view=blocks.build_assessment_modal(pages, picks, 0, previous_on,
                                                         intro=matrix_intro(services.catalog)))


def handle_assessment_submission(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    catalog = services.catalog
    pages = blocks.assessment_pages(assessment_choices(catalog))
    form = blocks.decode_metadata(view.get("private_metadata"))
    page = min(form.page, len(pages) - 1)
    shown = [item.capability.id for item in pages[page]]
    picks = merge_page(form.picks, shown, blocks.read_picks((view.get("state") or {}).get("values", {})))
    if page + 1 < len(pages):
        ack(response_action="update", view=blocks.build_assessment_modal(pages, picks, page + 1))
        return
    picks = clean_picks(catalog, picks)
    if not picks:
        ack(response_action="errors", errors={blocks.pick_block_id(shown[0]): blocks.NEED_ONE})
        return
    ack()
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    with services.uow.writing() as session:
        summary = record_assessment(session, catalog, team_id, user_id, picks, services.now(),
                                    submission_key(view["id"], picks))
    if summary is not None:
        client.chat_postMessage(channel=user_id, blocks=blocks.build_saved_confirmation(summary),
                                text="Saved your self-assessment")


def send_profile(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    """`/growth profile [@user]`: the chart in the requester's DM, if they may read that log."""
    team_id, requester = command["team_id"], command["user_id"]
    target, leftover = split_mention(rest)
    if target is None and leftover:
        say(respond, blocks.MENTION_SOMEONE)
        return
    target = target or requester
    own = target == requester
    try:
        found = read_profile_recorded(services.uow, services.catalog, Reader(team_id, requester), target,
                                      services.now())
    except ReadNotRecorded:
        say(respond, NOT_RECORDED)
        return
    if found.refused:
        say(respond, REFUSAL)
        return
    if found.profile is None:
        say(respond, blocks.NO_ASSESSMENT_OWN if own else blocks.NO_ASSESSMENT_OTHER.format(user=target))
        return
    name = display_name(client, target)
    name = target if name.startswith("<@") else name   # the chart is plain text, not mrkdwn
    png = profile_png(services.catalog, found.profile, f"Jagged profile · {name}")
    try:
        channel = client.conversations_open(users=requester)["channel"]["id"]
        client.files_upload_v2(channel=channel, file=png, filename="growth-profile.png",
                               title=f"Jagged profile: {name}",
                               initial_comment=blocks.profile_comment(target, own, found.profile.summary))
    except SlackApiError as exc:
        logger.exception("uploading a profile chart for %s failed", requester)
        say(respond, blocks.UPLOAD_FAILED.format(error=exc.response.get("error")))
        return
    say(respond, blocks.profile_sent(target, own) + (f"\n{READS_NOTICE}" if found.reads_notice else ""))


# The /growth verbs this feature answers (see growth_command.register).
VERBS = {"assess": open_assessment, "profile": send_profile}


def register(app: App) -> None:
    app.view(ids.ASSESS_MODAL)(handle_assessment_submission)
