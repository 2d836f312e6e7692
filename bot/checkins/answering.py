"""Recording answers to a check-in: from the modal, and from replies in the DM thread.

Only the engineer a check-in was sent to may answer it. Slack retries (events it thinks were
not acknowledged, double-clicked submits) are stored once: thread replies dedupe on the
message ts (and their delivery on the inbox key), modal answers are keyed by (check-in,
question) and the submission. Every function works in the caller's transaction, and queues
its confirmation in the outbox in that same transaction: saved and confirmed, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.checkins.answer_text import answer_errors, thread_reply_refusal
from bot.domain.dedupe import view_submission_key
from bot.domain.limits import ANSWER_MAX_LENGTH
from bot.outbox.messages import AnswersSaved, Notice, ThreadReplySaved
from bot.outbox.sender import queue_message
from storage.models import AnswerSource, CheckIn, CheckInKind, Engineer
from storage.repositories import Answers, CheckIns, ProcessedEvents

THREAD_REPLY_QUESTION = "Reply in the check-in thread"
NOT_YOURS = "That check-in isn't yours, so I can't open it. `/growth now` shows your own."
TOP_LEVEL_HINT = ("To add to your growth log, reply in the thread of a check-in, or press its *Answer* "
                  "button. `/growth now` brings up this week's; `/growth help` shows everything else.")


@dataclass(frozen=True)
class Saved:
    saved: int
    edited: int
    channel_id: str | None
    message_ts: str | None
    duplicate: bool = False
    confirmation_id: int | None = None  # the outbox message saying so, sent after the commit


def answer_problems(values: dict[str, str]) -> dict[str, str]:
    """Why a submitted answer cannot be stored as typed, by question id ({} if all can).

    Slack's client enforces the modal's `max_length` and sends no NUL, but a crafted request is
    not Slack's client: a NUL was acked and then lost on PostgreSQL (text cannot hold one), and
    an over-long answer made the modal that pre-fills it fail to open; half a surrogate pair
    was a 500 on both databases. The rule itself is bot.checkins.answer_text.
    """
    return answer_errors(values, ANSWER_MAX_LENGTH)


def _own_checkin(session, checkin_id: int, team_id: str, user_id: str) -> CheckIn | None:
    checkin = CheckIns(session).by_id(checkin_id)
    if checkin is None:
        return None
    engineer = session.get(Engineer, checkin.engineer_id)
    if engineer is None or engineer.team_id != team_id or engineer.user_id != user_id:
        return None
    return checkin


@dataclass(frozen=True)
class AnswerForm:
    """What the answer modal shows: the questions, what was answered so far, and its privacy."""

    checkin_id: int
    questions: list[dict[str, Any]]
    existing: dict[str, str]
    private: bool
    team_reflection: bool = False  # a leader's reflection on their team (CheckInKind.LEAD)


def answer_form(session, checkin_id: int, team_id: str, user_id: str) -> AnswerForm | None:
    """The form for answering (or editing answers to) one's own check-in; None if not theirs."""
    checkin = _own_checkin(session, checkin_id, team_id, user_id)
    if checkin is None:
        return None
    answers = Answers(session).for_checkin(checkin.id)
    existing = {a.question_id: a.text for a in answers if a.question_id}
    private = any(a.is_private for a in answers if a.question_id)
    return AnswerForm(checkin.id, list(checkin.questions), existing, private,
                      team_reflection=checkin.kind == CheckInKind.LEAD.value)


def submission_key(view_id: str, team_id: str, user_id: str, checkin_id: int, values: dict[str, str],
                   private: bool) -> str:
    """The same Save again (a double click, Slack's retry) has the same key; anyone else's, or one
    for another check-in, has its own. The view id alone comes from the request: a crafted copy of
    an engineer's view id and words, sent first for the sender's own check-in, took the key and
    the engineer's real Save was acked as a replay and never saved."""
    return view_submission_key(view_id, [team_id, user_id, checkin_id, values, private])


def save_modal_answers(session, checkin_id: int, team_id: str, user_id: str,
                       values: dict[str, str], private: bool, dedupe_key: str, now: datetime) -> Saved | None:
    """Store the submitted answers; None if the check-in is not the submitter's.

    The privacy box covers the whole check-in, thread replies included, so what the modal
    shows ("Keep this check-in private") is what the manager gets to see.
    """
    answers = Answers(session)
    # One SELECT: whose it is, what it asks, what is answered already. This transaction is what
    # the modal's ack, and on SQLite every other ack behind it, waits for: a first answer (the
    # usual case) is that SELECT and four single statements.
    checkin = answers.target(checkin_id, team_id, user_id)
    if checkin is None:
        return None
    if not ProcessedEvents(session).first_time(dedupe_key, now):
        return Saved(0, 0, checkin.channel_id, checkin.message_ts, duplicate=True)
    typed = [(question, (values.get(question["id"]) or "").strip()) for question in checkin.questions]
    typed = [(question, text) for question, text in typed if text]
    first: set[str] = set()
    if typed and not checkin.answered:
        first = answers.add_first(checkin, [(question["id"], question["text"], text) for question, text in typed],
                                  AnswerSource.MODAL.value, now, private)
    saved, edited = len(first), 0
    # An edit, or answers another submission stored first (it won a race): one by one.
    rest = [(question, text) for question, text in typed if question["id"] not in first]
    if rest:
        before = {a.id: (a.text, a.is_private) for a in answers.for_checkin(checkin.id)}
        for question, text in rest:
            answer, created = answers.record(checkin, question["id"], question["text"], text,
                                             AnswerSource.MODAL.value, now, is_private=private)
            if created:
                saved += 1
            elif before.get(answer.id) != (answer.text, answer.is_private):
                edited += 1
    # Thread replies follow the modal's privacy.
    if checkin.public_replies if private else checkin.private_replies:
        answers.set_replies_private(checkin, private)
    if saved or edited:
        CheckIns(session).mark_answered(checkin.id, now)
    confirmation_id = None
    if checkin.channel_id:
        queued = queue_message(session, f"saved:{dedupe_key}", AnswersSaved(saved, edited), channel=checkin.channel_id,
                               thread_ts=checkin.message_ts, now=now, team_id=team_id)
        confirmation_id = queued[0] if queued else None
    return Saved(saved, edited, checkin.channel_id, checkin.message_ts, confirmation_id=confirmation_id)


@dataclass(frozen=True)
class ThreadReply:
    team_id: str
    user_id: str
    channel_id: str
    thread_ts: str
    ts: str
    text: str


def record_thread_reply(session, reply: ThreadReply, now: datetime,
                        checkin_id_hint: int | None = None) -> tuple[bool, int | None] | None:
    """Store a reply typed in a check-in's thread: (created, confirmation's outbox id), or None
    if the thread is not one of this user's check-ins. A reply already stored (same ts) is
    (False, None). A reply that cannot be stored as typed (bot.checkins.answer_text) stores
    nothing and is (True, the outbox id of the reply saying why).

    `checkin_id_hint` comes from the thread's parent message metadata, for a reply that arrives
    before the sender has recorded where the check-in was posted.
    """
    checkins = CheckIns(session)
    checkin = checkins.by_message(reply.channel_id, reply.thread_ts)
    if checkin is None and checkin_id_hint is not None:
        checkin = checkins.by_id(checkin_id_hint)
    if checkin is None:
        return None
    engineer = session.get(Engineer, checkin.engineer_id)
    if engineer is None or engineer.team_id != reply.team_id or engineer.user_id != reply.user_id:
        return None
    if ProcessedEvents(session).seen(_deleted_key(reply.team_id, reply.user_id, reply.ts)):
        return False, None  # deleted in Slack before this (retried, late) delivery arrived
    refusal = thread_reply_refusal(reply.text, ANSWER_MAX_LENGTH)
    if refusal is not None:
        # Refused whole and said so in the thread (True: there is something to send), never
        # stored cut short, stored with a NUL that PostgreSQL refuses, or dropped without a word.
        queued = queue_message(session, f"thread-reply-refused:{reply.channel_id}:{reply.ts}", Notice(refusal),
                               channel=reply.channel_id, thread_ts=reply.thread_ts, now=now, team_id=reply.team_id)
        return True, (queued[0] if queued else None)
    answers = Answers(session)
    # A reply follows its check-in's privacy: answered privately, the thread stays private.
    private = any(a.is_private for a in answers.for_checkin(checkin.id))
    _, created = answers.record(checkin, None, THREAD_REPLY_QUESTION, reply.text,
                                AnswerSource.THREAD.value, now, slack_ts=reply.ts, is_private=private)
    if not created:
        return False, None
    checkins.mark_answered(checkin.id, now)
    queued = queue_message(session, f"thread-reply:{reply.channel_id}:{reply.ts}", ThreadReplySaved(),
                           channel=reply.channel_id, thread_ts=reply.thread_ts, now=now, team_id=reply.team_id)
    return True, (queued[0] if queued else None)


def _deleted_key(team_id: str | None, user_id: str, ts: str) -> str:
    return f"reply-deleted:{team_id}:{user_id}:{ts}"


def top_level_hint(session, team_id: str | None, channel_id: str, ts: str, now: datetime) -> int | None:
    """A top-level DM isn't tied to a check-in: queue how to answer (once per message)."""
    queued = queue_message(session, f"hint:{channel_id}:{ts}", Notice(TOP_LEVEL_HINT), channel=channel_id, now=now,
                           team_id=team_id)
    return queued[0] if queued else None


def edit_thread_reply(session, team_id: str, user_id: str, ts: str, text: str | None,
                      now: datetime) -> bool:
    """The engineer edited (`text`) or deleted (`text` None) a reply in Slack: the log follows."""
    answers = Answers(session)
    answer = answers.by_slack_ts(ts, team_id, user_id)
    if answer is None:
        if text is None:
            # Slack retries an unacknowledged delivery for up to an hour, and sends a deletion
            # when it happens: the deletion can come first. Remembered (as long as Slack may
            # still retry), so the late reply stays deleted instead of reaching the manager.
            ProcessedEvents(session).first_time(_deleted_key(team_id, user_id, ts), now)
        return False
    engineer = session.get(Engineer, answer.engineer_id)
    if engineer is None or engineer.team_id != team_id or engineer.user_id != user_id:
        return False
    if text is None:
        answers.delete(answer)
        return True
    refusal = thread_reply_refusal(text, ANSWER_MAX_LENGTH)
    if refusal is not None:
        # The earlier text stays; the thread says why (sent by the next outbox drain).
        checkin = session.get(CheckIn, answer.checkin_id)
        if checkin is not None and checkin.channel_id:
            queue_message(session, f"thread-edit-refused:{ts}:{now.isoformat()}",
                          Notice(refusal.replace("that reply", "that edit").replace(
                              "Nothing from it was saved.", "Your earlier reply is kept.")),
                          channel=checkin.channel_id, thread_ts=checkin.message_ts, now=now, team_id=team_id)
        return False
    return answers.edit_text(answer, text, now)
