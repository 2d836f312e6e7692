"""Recording answers to a check-in: from the modal, and from replies in the DM thread.

Only the engineer a check-in was sent to may answer it. Slack retries (events it thinks were
not acknowledged, double-clicked submits) are stored once: thread replies dedupe on the
message ts, modal answers are keyed by (check-in, question), and the event id is remembered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.views import View

from bot.blocks.checkin import build_answer_modal
from bot.domain.dedupe import view_submission_key
from storage.models import AnswerSource, CheckIn, Engineer
from storage.repositories import Answers, CheckIns, ProcessedEvents

THREAD_REPLY_QUESTION = "Reply in the check-in thread"
NOT_YOURS = "That check-in isn't yours, so I can't open it. `/growth now` shows your own."
TOP_LEVEL_HINT = ("To add to your growth log, reply in the thread of a check-in, or press its *Answer* "
                  "button. `/growth now` brings up this week's; `/growth help` shows everything else.")


def first_delivery(session_factory, event_id: str | None, now: datetime) -> bool:
    """False for a Slack retry of an event we already handled."""
    if not event_id:
        return True
    with session_factory.begin() as session:
        return ProcessedEvents(session).first_time(f"event:{event_id}", now)


@dataclass(frozen=True)
class Saved:
    saved: int
    edited: int
    channel_id: str | None
    message_ts: str | None
    duplicate: bool = False


def _own_checkin(session, checkin_id: int, team_id: str, user_id: str) -> CheckIn | None:
    checkin = CheckIns(session).by_id(checkin_id)
    if checkin is None:
        return None
    engineer = session.get(Engineer, checkin.engineer_id)
    if engineer is None or engineer.team_id != team_id or engineer.user_id != user_id:
        return None
    return checkin


def answer_modal(session_factory, checkin_id: int, team_id: str, user_id: str) -> View | None:
    """The modal for answering (or editing answers to) one's own check-in; None if not theirs."""
    with session_factory() as session:
        checkin = _own_checkin(session, checkin_id, team_id, user_id)
        if checkin is None:
            return None
        answers = Answers(session).for_checkin(checkin.id)
        existing = {a.question_id: a.text for a in answers if a.question_id}
        private = any(a.is_private for a in answers if a.question_id)
        return build_answer_modal(checkin.id, list(checkin.questions), existing, private)


def submission_key(view_id: str, values: dict[str, str], private: bool) -> str:
    return view_submission_key(view_id, [values, private])


def owns_checkin(session_factory, checkin_id: int, team_id: str, user_id: str) -> bool:
    """A quick read, so a modal submission can be refused (or acknowledged) within Slack's 3 s."""
    with session_factory() as session:
        return _own_checkin(session, checkin_id, team_id, user_id) is not None


def save_modal_answers(session_factory, checkin_id: int, team_id: str, user_id: str,
                       values: dict[str, str], private: bool, dedupe_key: str, now: datetime) -> Saved | None:
    """Store the submitted answers; None if the check-in is not the submitter's.

    The privacy box covers the whole check-in, thread replies included, so what the modal
    shows ("Keep this check-in private") is what the manager gets to see.
    """
    with session_factory.begin() as session:
        checkin = _own_checkin(session, checkin_id, team_id, user_id)
        if checkin is None:
            return None
        if not ProcessedEvents(session).first_time(dedupe_key, now):
            return Saved(0, 0, checkin.channel_id, checkin.message_ts, duplicate=True)
        answers = Answers(session)
        before = {a.id: (a.text, a.is_private) for a in answers.for_checkin(checkin.id)}
        saved = edited = 0
        for question in checkin.questions:
            text = (values.get(question["id"]) or "").strip()
            if not text:
                continue
            answer, created = answers.record(checkin, question["id"], question["text"], text,
                                             AnswerSource.MODAL.value, now, is_private=private)
            if created:
                saved += 1
            elif before.get(answer.id) != (answer.text, answer.is_private):
                edited += 1
        for answer in answers.for_checkin(checkin.id):
            if answer.question_id is None and answer.is_private != private:
                answers.set_private(answer.id, checkin.engineer_id, private)
        if saved or edited:
            CheckIns(session).mark_answered(checkin.id, now)
        return Saved(saved, edited, checkin.channel_id, checkin.message_ts)


@dataclass(frozen=True)
class ThreadReply:
    team_id: str
    user_id: str
    channel_id: str
    thread_ts: str
    ts: str
    text: str


def record_thread_reply(session_factory, reply: ThreadReply, event_id: str | None, now: datetime,
                        checkin_id_hint: int | None = None) -> bool | None:
    """Store a reply typed in a check-in's thread. True if new, False if a retry we already have,
    None if the thread is not one of this user's check-ins.

    `checkin_id_hint` comes from the thread's parent message metadata, for a reply that arrives
    before the sender has recorded where the check-in was posted.
    """
    with session_factory.begin() as session:
        checkins = CheckIns(session)
        checkin = checkins.by_message(reply.channel_id, reply.thread_ts)
        if checkin is None and checkin_id_hint is not None:
            checkin = checkins.by_id(checkin_id_hint)
        if checkin is None:
            return None
        engineer = session.get(Engineer, checkin.engineer_id)
        if engineer is None or engineer.team_id != reply.team_id or engineer.user_id != reply.user_id:
            return None
        if event_id and not ProcessedEvents(session).first_time(f"event:{event_id}", now):
            return False
        answers = Answers(session)
        # A reply follows its check-in's privacy: answered privately, the thread stays private.
        private = any(a.is_private for a in answers.for_checkin(checkin.id))
        _, created = answers.record(checkin, None, THREAD_REPLY_QUESTION, reply.text,
                                    AnswerSource.THREAD.value, now, slack_ts=reply.ts, is_private=private)
        if created:
            checkins.mark_answered(checkin.id, now)
        return created


def edit_thread_reply(session_factory, team_id: str, user_id: str, ts: str, text: str | None,
                      now: datetime) -> bool:
    """The engineer edited (`text`) or deleted (`text` None) a reply in Slack: the log follows."""
    with session_factory.begin() as session:
        answers = Answers(session)
        answer = answers.by_slack_ts(ts)
        if answer is None:
            return False
        engineer = session.get(Engineer, answer.engineer_id)
        if engineer is None or engineer.team_id != team_id or engineer.user_id != user_id:
            return False
        if text is None:
            answers.delete(answer)
            return True
        return answers.edit_text(answer, text, now)
