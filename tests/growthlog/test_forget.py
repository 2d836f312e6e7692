"""`/growth forget-me`: a confirmation, then everything about the clicker (and only them) is gone."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot import ids
from bot.blocks.files import build_forget_prompt, forgotten_text
from bot.growthlog.forget import Forgotten, forget_person
from storage.models import Answer, AnswerRevision, Assessment, CheckIn, Engineer, OneOnOne
from storage.repositories import Engineers
from tests.growthlog.files_seed import add_checkin, add_engineer, add_extras
from tests.running_bot import blocks_text


def counts(session_factory, user_id: str, team_id: str = "T1") -> dict[str, int]:
    """Rows stored about one person, table by table."""
    with session_factory() as session:
        engineer = session.scalars(select(Engineer).where(Engineer.team_id == team_id,
                                                          Engineer.user_id == user_id)).one_or_none()
        eid = engineer.id if engineer else -1

        def count(query) -> int:
            return session.scalar(select(func.count()).select_from(query.subquery()))

        return {
            "engineers": 1 if engineer else 0,
            "checkins": count(select(CheckIn.id).where(CheckIn.engineer_id == eid)),
            "answers": count(select(Answer.id).where(Answer.engineer_id == eid)),
            "revisions": count(select(AnswerRevision.id).join(Answer, Answer.id == AnswerRevision.answer_id)
                               .where(Answer.engineer_id == eid)),
            "assessments": count(select(Assessment.id).where(Assessment.engineer_id == eid)),
            "one_on_ones": count(select(OneOnOne.id).where((OneOnOne.manager_user_id == user_id)
                                                           | (OneOnOne.report_user_id == user_id))),
        }


def seed(session_factory) -> None:
    add_checkin(session_factory, "U1", date(2026, 2, 23), [("q1", "Shipped?", "The index", False)])
    add_checkin(session_factory, "U1", date(2026, 3, 2), [("q1", "Shipped?", "Billing", False),
                                                          ("q2", "Scared?", "The VP", True)])
    add_extras(session_factory, "U1")
    add_checkin(session_factory, "U2", date(2026, 3, 2), [("q1", "Shipped?", "U2's own work", False)],
                manager_user_id="U1")


# -- the deletion itself, on SQLite and PostgreSQL ------------------------------------------------


def test_forget_person_deletes_everything_about_them_and_nothing_else(session_factory):
    seed(session_factory)
    before_u2 = counts(session_factory, "U2")
    with session_factory.begin() as session:
        result = forget_person(session, "T1", "U1")
    assert result.answers == 3 and result.assessments == 1 and result.reports_unlinked == 1
    # engineer + 2 check-ins + 3 answers + 1 assessment + 2 one-on-ones
    assert result.records == 9
    assert counts(session_factory, "U1") == dict.fromkeys(before_u2, 0)
    assert counts(session_factory, "U2") == before_u2
    with session_factory() as session:
        assert Engineers(session).get("T1", "U2").manager_user_id is None


def test_forgetting_someone_unknown_deletes_nothing(session_factory):
    with session_factory.begin() as session:
        assert forget_person(session, "T1", "UNOBODY").nothing


# -- the messages ---------------------------------------------------------------------------------


def test_the_prompt_offers_export_a_dangerous_confirmed_delete_and_cancel():
    blocks = [b.to_dict() for b in build_forget_prompt("U1")]
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == [ids.EXPORT_OWN_LOG, ids.FORGET_DELETE, ids.FORGET_CANCEL]
    delete = buttons[1]
    assert delete["style"] == "danger" and delete["confirm"]["style"] == "danger"
    assert delete["text"]["text"] == "Delete everything" and delete["value"] == "U1"
    assert "cannot be undone" in blocks_text(blocks)


def test_the_confirmation_says_how_many_entries_went():
    text = forgotten_text(Forgotten(answers=3, assessments=1, reports_unlinked=2, records=9))
    assert "3 growth-log entries, 1 self-assessment and your settings and check-ins (9 records in all)" in text
    assert "2 people who named you as their manager no longer have one" in text
    assert "nothing" in forgotten_text(Forgotten(0, 0, 0, 0))


# -- end to end -----------------------------------------------------------------------------------


def test_forget_me_asks_first_with_buttons(running_bot, fake_slack):
    seed(running_bot.services.session_factory)
    blocks = running_bot.command("/growth forget-me", user_id="U1").followups()[0]["blocks"]
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == [ids.EXPORT_OWN_LOG, ids.FORGET_DELETE, ids.FORGET_CANCEL]
    assert counts(running_bot.services.session_factory, "U1")["answers"] == 3  # nothing deleted yet


def test_delete_removes_every_row_about_the_clicker_and_leaves_others_alone(running_bot, fake_slack):
    factory = running_bot.services.session_factory
    seed(factory)
    before_u2 = counts(factory, "U2")
    reply = running_bot.click(ids.FORGET_DELETE, "U1", user_id="U1")
    followup = reply.followups()[0]
    assert followup["replace_original"] is True
    assert "3 growth-log entries" in followup["text"]
    assert counts(factory, "U1") == dict.fromkeys(before_u2, 0)
    assert counts(factory, "U2") == before_u2
    # Their Home tab is republished in its empty state.
    fake_slack.wait_for("views.publish")
    assert "Set up check-ins" in blocks_text(fake_slack.published_views["U1"]["blocks"])


def test_someone_else_clicking_delete_deletes_nothing(running_bot, fake_slack):
    factory = running_bot.services.session_factory
    seed(factory)
    before = counts(factory, "U1"), counts(factory, "U2")
    reply = running_bot.click(ids.FORGET_DELETE, "U1", user_id="U2")
    assert "someone else" in reply.followups()[0]["text"]
    assert (counts(factory, "U1"), counts(factory, "U2")) == before


def test_export_first_uploads_the_markdown_log(running_bot, fake_slack):
    seed(running_bot.services.session_factory)
    reply = running_bot.click(ids.EXPORT_OWN_LOG, "md", user_id="U1")
    assert "in our DM" in reply.followups()[0]["text"]
    upload = fake_slack.uploaded_files[-1]
    assert upload.channel_id == "DU1" and upload.filename.endswith(".md")
    assert "The VP" in upload.content.decode()


def test_cancel_deletes_nothing(running_bot, fake_slack):
    factory = running_bot.services.session_factory
    seed(factory)
    reply = running_bot.click(ids.FORGET_CANCEL, "cancel", user_id="U1")
    assert "nothing was deleted" in reply.followups()[0]["text"]
    assert counts(factory, "U1")["answers"] == 3


def test_forgetting_twice_says_there_is_nothing_left(running_bot, fake_slack):
    add_engineer(running_bot.services.session_factory, "U1")
    running_bot.click(ids.FORGET_DELETE, "U1", user_id="U1").followups()
    again = running_bot.click(ids.FORGET_DELETE, "U1", user_id="U1").followups()[0]["text"]
    assert "nothing to delete" in again
