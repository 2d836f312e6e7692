"""Hostile checks of bot.blocks.serialize.block_dicts: for every kind of Block Kit object slack_sdk
has (and every builder of bot.blocks), the same JSON as `to_dict()`, and the same refusal, with
the same message, for anything over Slack's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.blocks import (
    ActionsBlock, Block, ButtonElement, CallBlock, ChannelMultiSelectElement, ChannelSelectElement, CheckboxesElement,
    ConfirmObject, ContextBlock, ConversationFilter, ConversationMultiSelectElement, ConversationSelectElement,
    DatePickerElement, DateTimePickerElement, DividerBlock, EmailInputElement,
    ExternalDataMultiSelectElement, ExternalDataSelectElement, FileBlock, HeaderBlock, ImageBlock,
    ImageElement, InputBlock, LinkButtonElement, MarkdownTextObject, NumberInputElement, Option, OptionGroup,
    OverflowMenuElement, PlainTextInputElement, PlainTextObject, RadioButtonsElement, RichTextBlock,
    RichTextElementParts, RichTextInputElement, RichTextListElement, RichTextPreformattedElement,
    RichTextQuoteElement, RichTextSectionElement, SectionBlock, StaticMultiSelectElement, StaticSelectElement,
    TimePickerElement, UrlInputElement, UserMultiSelectElement, UserSelectElement, VideoBlock,
)

from bot.blocks import assessment as assessment_blocks
from bot.blocks import checkin, files, growth, leaders, reads, retros
from bot.blocks.home import build_home
from bot.blocks.serialize import block_dicts
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.domain.schedule import zone
from bot.growthlog.forget import Forgotten
from bot.growthlog.home import HomeData
from bot.growthlog.reads import MyReads
from bot.leaders.plan import leader_questions
from storage.repositories.log_reads import ReadRecord

CATALOG = load_catalog(BUNDLED_CONTENT_DIR)
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def same(blocks) -> None:
    blocks = list(blocks)
    assert block_dicts(blocks) == [b if isinstance(b, dict) else b.to_dict() for b in blocks]


def options(n: int, prefix: str = "o") -> list[Option]:
    return [Option(value=f"{prefix}{i}", text=f"Option {i}", description=f"about {i}" if i % 2 else None)
            for i in range(n)]


CONFIRM = ConfirmObject(title="Sure?", text=MarkdownTextObject(text="*Really*"), confirm="Yes", deny="No",
                        style="danger")
EVERY_KIND = [
    SectionBlock(text="plain str becomes mrkdwn", block_id="b1"),
    SectionBlock(fields=[PlainTextObject(text="f1", emoji=True), MarkdownTextObject(text="*f2*", verbatim=True)]),
    SectionBlock(text="x", accessory=ImageElement(image_url="https://example.com/a.png", alt_text="a")),
    SectionBlock(text="x", accessory=OverflowMenuElement(action_id="ov", options=options(3), confirm=CONFIRM)),
    SectionBlock(text="x", accessory=StaticSelectElement(placeholder="p", action_id="s", options=options(4),
                                                          initial_option=options(4)[2], confirm=CONFIRM)),
    SectionBlock(text="x", accessory=StaticSelectElement(
        placeholder="p", action_id="g", option_groups=[OptionGroup(label="A", options=options(2, "a")),
                                                       OptionGroup(label="B", options=options(2, "b"))])),
    SectionBlock(text="x", accessory=StaticMultiSelectElement(placeholder="p", action_id="m", options=options(3),
                                                               initial_options=options(3)[:2], max_selected_items=2)),
    SectionBlock(text="x", accessory=ExternalDataSelectElement(placeholder="p", action_id="e", min_query_length=2)),
    SectionBlock(text="x", accessory=ExternalDataMultiSelectElement(placeholder="p", action_id="em")),
    SectionBlock(text="x", accessory=UserSelectElement(placeholder="p", action_id="u", initial_user="U1")),
    SectionBlock(text="x", accessory=UserMultiSelectElement(placeholder="p", action_id="um", initial_users=[])),
    SectionBlock(text="x", accessory=ConversationSelectElement(
        placeholder="p", action_id="c", filter=ConversationFilter(include=["im", "public"],
                                                                  exclude_bot_users=True),
        default_to_current_conversation=True, response_url_enabled=False)),
    SectionBlock(text="x", accessory=ConversationMultiSelectElement(placeholder="p", action_id="cm")),
    SectionBlock(text="x", accessory=ChannelSelectElement(placeholder="p", action_id="ch")),
    SectionBlock(text="x", accessory=ChannelMultiSelectElement(placeholder="p", action_id="chm")),
    SectionBlock(text="x", accessory=DatePickerElement(action_id="d", initial_date="2026-11-05")),
    SectionBlock(text="x", accessory=TimePickerElement(action_id="t", initial_time="09:30", timezone="Europe/Berlin")),
    SectionBlock(text="x", accessory=ButtonElement(text="Go", action_id="b", value="v", style="primary",
                                                   url="https://example.com", confirm=CONFIRM)),
    SectionBlock(text="x", accessory=LinkButtonElement(text="Link", url="https://example.com")),
    SectionBlock(text="x", accessory=CheckboxesElement(action_id="cb", options=options(2),
                                                       initial_options=options(2)[:1])),
    SectionBlock(text="x", accessory=RadioButtonsElement(action_id="r", options=options(2),
                                                         initial_option=options(2)[1])),
    SectionBlock(text="x", expand=True),
    DividerBlock(), DividerBlock(block_id="div"),
    HeaderBlock(text="A header"),
    ImageBlock(image_url="https://example.com/a.png", alt_text="a", title="t"),
    ContextBlock(elements=[ImageElement(image_url="https://example.com/a.png", alt_text="a"),
                           MarkdownTextObject(text="ctx"), PlainTextObject(text="plain")]),
    ActionsBlock(elements=[ButtonElement(text="One", action_id="1"), DatePickerElement(action_id="2"),
                           DateTimePickerElement(action_id="3", initial_date_time=1700000000)]),
    ActionsBlock(elements=[]),                             # empty list: omitted by both
    InputBlock(label="L", element=PlainTextInputElement(action_id="i", multiline=True, max_length=3000,
                                                        dispatch_action_config=DispatchActionConfig(
                                                            trigger_actions_on=["on_enter_pressed"])),
               dispatch_action=True, optional=True, hint="h"),
    InputBlock(label="N", element=NumberInputElement(action_id="n", is_decimal_allowed=False, min_value="0")),
    InputBlock(label="E", element=EmailInputElement(action_id="e")),
    InputBlock(label="U", element=UrlInputElement(action_id="u")),
    InputBlock(label="R", element=RichTextInputElement(action_id="rt")),
    InputBlock(label="S", element=StaticSelectElement(action_id="s", options=options(2))),
    InputBlock(label="Optional false", element=PlainTextInputElement(action_id="x"), optional=False),
    FileBlock(external_id="ext", source="remote"),
    CallBlock(call_id="R1"),
    VideoBlock(alt_text="v", video_url="https://example.com/v", thumbnail_url="https://example.com/t.png",
               title="t", title_url="https://example.com/v", description="d", provider_name="p"),
    RichTextBlock(elements=[
        RichTextSectionElement(elements=[]),                 # an empty list Slack allows: kept by both
        RichTextSectionElement(elements=[
            RichTextElementParts.Text(text="bold", style=RichTextElementParts.TextStyle(bold=True, code=False)),
            RichTextElementParts.Link(url="https://example.com", text="l"),
            RichTextElementParts.Emoji(name="tada"), RichTextElementParts.User(user_id="U1"),
            RichTextElementParts.Channel(channel_id="C1"), RichTextElementParts.Date(timestamp=1700000000,
                                                                                     format="{date}")]),
        RichTextListElement(style="bullet", elements=[RichTextSectionElement(elements=[])], indent=1),
        RichTextListElement(style="ordered", elements=[]),
        RichTextPreformattedElement(elements=[]),
        RichTextQuoteElement(elements=[RichTextElementParts.Text(text="q")]),
    ]),
    Block.parse({"type": "section", "text": {"type": "mrkdwn", "text": "parsed from a dict"}}),
    {"type": "section", "text": {"type": "mrkdwn", "text": "a dict passes"}, "extra": [SectionBlock(text="x")]},
]


@pytest.mark.parametrize("block", EVERY_KIND, ids=lambda b: b["type"] if isinstance(b, dict) else type(b).__name__)
def test_every_kind_of_block_serializes_as_slack_sdk_does(block):
    same([block])


def test_odd_containers_empty_lists_tuples_and_generators():
    assert block_dicts([]) == [] and [block_dicts(m) for m in []] == [] and [block_dicts(m) for m in [[]]] == [[]]
    same(tuple(EVERY_KIND[:5]))
    assert block_dicts(b for b in EVERY_KIND[:3]) == [b.to_dict() for b in EVERY_KIND[:3]]
    # A tuple inside a block is a list in the JSON, as to_dict makes it.
    block = ActionsBlock(elements=(ButtonElement(text="a", action_id="a"),))
    assert block_dicts([block]) == [block.to_dict()] and isinstance(block_dicts([block])[0]["elements"], list)


def test_the_same_block_twice_and_after_a_change_is_serialized_afresh():
    block = SectionBlock(text="before")
    assert block_dicts([block, block]) == [block.to_dict()] * 2
    block.text = MarkdownTextObject(text="x" * 3001)        # no cache may let it through now
    with pytest.raises(SlackObjectFormationError):
        block_dicts([block])


LIMITS = [
    lambda: HeaderBlock(text="h" * 151),
    lambda: SectionBlock(fields=[MarkdownTextObject(text="f")] * 11),
    lambda: SectionBlock(text="x", block_id="b" * 256),
    lambda: ImageBlock(image_url="https://example.com/" + "a" * 3000, alt_text="a"),
    lambda: ImageBlock(image_url="https://example.com/a.png", alt_text="a" * 2001),
    lambda: ActionsBlock(elements=[ButtonElement(text="b", action_id=str(n)) for n in range(26)]),
    lambda: ActionsBlock(elements=[ButtonElement(text="b", action_id="a" * 256)]),
    lambda: ActionsBlock(elements=[ButtonElement(text="b", action_id="a", style="loud")]),
    lambda: ActionsBlock(elements=[ButtonElement(text="b", action_id="a", url="https://e.com/" + "u" * 3000)]),
    lambda: SectionBlock(text="x", accessory=OverflowMenuElement(action_id="o", options=options(6))),
    lambda: SectionBlock(text="x", accessory=OverflowMenuElement(action_id="o", options=options(1))),
    lambda: SectionBlock(text="x", accessory=StaticSelectElement(action_id="s", options=options(101))),
    lambda: SectionBlock(text="x", accessory=StaticSelectElement(action_id="s", placeholder="p" * 151,
                                                                 options=options(2))),
    lambda: SectionBlock(text="x", accessory=StaticSelectElement(action_id="s", options=options(2),
                                                                 option_groups=[OptionGroup(label="g",
                                                                                            options=options(1))])),
    lambda: SectionBlock(text="x", accessory=StaticSelectElement(action_id="s", option_groups=[
        OptionGroup(label="g" * 76, options=options(1))])),
    lambda: SectionBlock(text="x", accessory=StaticSelectElement(action_id="s", options=[
        Option(value="v" * 151, text="t")])),
    lambda: SectionBlock(text="x", accessory=StaticSelectElement(action_id="s", options=[
        Option(value="v", text="t" * 76)])),
    lambda: SectionBlock(text="x", accessory=CheckboxesElement(action_id="c", options=options(11))),
    lambda: SectionBlock(text="x", accessory=RadioButtonsElement(action_id="r", options=options(11))),
    lambda: SectionBlock(text="x", accessory=ButtonElement(text="b", action_id="b", confirm=ConfirmObject(
        title="t" * 101, text="x"))),
    lambda: SectionBlock(text="x", accessory=ButtonElement(text="b", action_id="b", confirm=ConfirmObject(
        title="t", text="x" * 301))),
    lambda: SectionBlock(text="x", accessory=ButtonElement(text="b", action_id="b", confirm=ConfirmObject(
        title="t", text="x", style="loud"))),
    lambda: SectionBlock(text="x", accessory=DatePickerElement(action_id="d", placeholder="p" * 151)),
    lambda: ContextBlock(elements=[MarkdownTextObject(text="c")] * 11),
    lambda: InputBlock(label="l" * 2001, element=PlainTextInputElement(action_id="i")),
    lambda: InputBlock(label="l", element=PlainTextInputElement(action_id="i"), hint="h" * 2001),
    lambda: InputBlock(label="l", element=PlainTextInputElement(action_id="i", placeholder="p" * 151)),
    lambda: InputBlock(label="l", element=ButtonElement(text="not an input", action_id="b")),
    lambda: RichTextBlock(elements=[RichTextListElement(style="wavy", elements=[])]),
    lambda: VideoBlock(alt_text="v", video_url="https://example.com/v", thumbnail_url="https://e.com/t.png",
                       title="t" * 201),
    # Two faults in one block: the one slack_sdk reports first is the one reported.
    lambda: ActionsBlock(block_id="b" * 256, elements=[ButtonElement(text="t" * 76, action_id="a")] * 26),
    lambda: SectionBlock(text="x" * 3001, fields=[MarkdownTextObject(text="f")] * 11, block_id="b" * 256),
]


@pytest.mark.parametrize("too_big", LIMITS)
def test_what_slack_sdk_refuses_is_refused_with_the_same_message(too_big):
    # A few of these slack_sdk does not check (an overflow of one option, 11 checkboxes, a list
    # style it does not know): then both must let them through alike.
    try:
        expected = too_big().to_dict()
    except (SlackObjectFormationError, ValueError, TypeError) as error:
        theirs = error
    else:
        assert block_dicts([too_big()]) == [expected]
        return
    with pytest.raises(type(theirs)) as ours:
        block_dicts([SectionBlock(text="fine"), too_big()])
    assert str(ours.value) == str(theirs)


# -- every builder of bot.blocks ------------------------------------------------------------------

def home_data(me: bool, reports: bool) -> HomeData:
    from tests.growthlog.test_home import logged, me as make_me

    week = date(2026, 11, 2)
    recent = (logged(week, "a *bold* answer", "second"), logged(week - timedelta(days=7), "private", private=True))
    report_rows = ()
    if reports:
        from bot.growthlog.home import ReportLine
        report_rows = tuple(ReportLine(f"U{n}", NOW - timedelta(days=n) if n else None) for n in range(3))
    return HomeData("U1", zone("Europe/Berlin"), make_me(recent=recent) if me else None, report_rows)


@pytest.mark.parametrize("me", [True, False])
@pytest.mark.parametrize("reports", [True, False])
def test_app_home_blocks_serialize_as_slack_sdk_does(me, reports):
    same(build_home(home_data(me, reports), NOW).blocks)


def test_assessment_modal_pages_serialize_as_slack_sdk_does():
    from tests.growthlog.test_assessment import assessment_choices

    pages = assessment_blocks.assessment_pages(assessment_choices(CATALOG))
    assert pages
    for page in range(len(pages)):
        same(assessment_blocks.build_assessment_modal(pages, {}, page=page).blocks)
    same(assessment_blocks.build_saved_confirmation(["Delivery: senior", "Craft: staff"]))


def test_every_other_builder_serializes_as_slack_sdk_does():
    questions = [{"id": f"q{n}", "text": f"What went well {n}?"} for n in range(3)]
    same(checkin.build_reminder_message(7, date(2026, 11, 2)))
    same(checkin.build_saved_confirmation(2, 1))
    same(checkin.build_thread_reply_confirmation())
    same(checkin.build_answer_modal(7, questions, {}, private=False).blocks)
    same(files.build_forget_prompt("U1"))
    same(files.build_forgotten(Forgotten(answers=3, assessments=1, reports_unlinked=2, records=9)))
    same(files.build_forgotten(Forgotten(answers=0, assessments=0, reports_unlinked=0, records=0)))
    same(growth.build_status(["line one", "line *two*"], True, 12))
    same(growth.build_status([], False, None))
    same(growth.reply("A sentence with <@U1> and `code`."))
    same(growth.reply(""))
    same(growth.build_open_checkin_reply("Open it", 7))
    frameworks = [(f.id, f.name) for f in CATALOG.frameworks]
    same(growth.build_setup_modal(None, frameworks, frameworks[0][0], 3, time(9, 30), 3, True).blocks)
    same(growth.build_setup_modal("Senior", frameworks, None, 0, time(0, 0), 10, False).blocks)
    at = datetime(2026, 12, 1, 10, 4, tzinfo=UTC)
    records = tuple(ReadRecord(f"U{n}", what, n, at - timedelta(hours=n))
                    for n, what in zip(range(8), ["log", "prep", "export", "profile"] * 2))
    same(reads.build_reads(MyReads(records, ZoneInfo("Pacific/Kiritimati"), True, "UM")))
    same(reads.build_reads(MyReads((), ZoneInfo("UTC"), False, None)))
    lead = leader_questions(CATALOG)
    same(leaders.build_offer(len(lead)))
    same(leaders.build_reflection(7, [q.payload() for q in lead], date(2026, 11, 2)))
    same(leaders.build_lead_reply("Thanks"))
    same(retros.build_question(1, 7, lead[0], date(2026, 11, 2)))
    same(retros.build_summary(date(2026, 11, 2), [(q["text"], 3, "https://x/y") for q in
                                                  [q.payload() for q in lead]]))
    same(retros.build_summary(date(2026, 11, 2), []))


def test_prep_digests_serialize_as_slack_sdk_does(session_factory, uow):
    from bot.blocks.growthlog import build_prep_messages
    from bot.growthlog.access import Reader
    from bot.growthlog.prep import read_digest
    from tests.hostile.test_today_read_path import seed_reports

    seed_reports(session_factory, "M1", ["U1"], weeks=4)
    digest = read_digest(uow, CATALOG, Reader("T1", "M1"), "U1", NOW)
    for automatic in (False, True):
        messages = build_prep_messages(digest, automatic=automatic)
        assert [block_dicts(m) for m in messages] == [[b.to_dict() for b in m] for m in messages]
    empty = digest._replace(checkins=(), more_checkins=False, quiet_weeks=(), guidance=(), profile=(),
                            level_name=None, reads_notice=True)
    same([b for m in build_prep_messages(empty) for b in m])
