"""Durable before ack: a DM event is written down before Slack gets its 200, processed once
(whoever else tries, however often Slack retries), and finished after a crash. Both databases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.inbox import intake
from storage.models import AnswerRevision, InboxItem
from tests.checkins.test_answer_paths import dm_event, edit_event, send_event, wait_until
from tests.checkins.test_checkins_e2e import answer_button, checkin_now, enrol, stored_answers
from tests.running_bot import start_bot


@pytest.fixture
def bot(fake_slack, database_url):
    running, stop = start_bot(fake_slack, database_url)
    yield running
    stop()


def confirmations(bot, thread_ts: str) -> list[dict]:
    return [m for m in bot.fake.messages_in("DU1")
            if m.get("thread_ts") == thread_ts and m.get("text") == "Saved to your growth log"]


def later(bot):
    return bot.services.now() + intake.RECOVERY_GRACE + timedelta(seconds=1)


def test_an_acknowledged_reply_survives_a_crash_before_processing(bot, monkeypatch):
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    crashed = threading.Event()

    def crash(services, item_id):  # the process dies right after Slack got its 200
        crashed.set()
        raise SystemExit("killed")

    monkeypatch.setattr(intake, "process_message_event", crash)
    send_event(bot, dm_event("Shipped it.", "1700000999.000100", dm["ts"]), "EvCrash")
    assert crashed.wait(5)
    assert stored_answers(bot, checkin_id) == []
    with bot.services.session_factory() as session:
        [item] = session.query(InboxItem).all()
        assert item.done_at is None and item.payload["event"]["text"] == "Shipped it."

    monkeypatch.undo()  # the restarted process
    assert intake.recover(bot.services, now=later(bot)) == 1
    assert [a.text for a in stored_answers(bot, checkin_id)] == ["Shipped it."]
    assert len(confirmations(bot, dm["ts"])) == 1
    assert intake.recover(bot.services, now=later(bot)) == 0      # done is done
    assert len(confirmations(bot, dm["ts"])) == 1
    with bot.services.session_factory() as session:
        [item] = session.query(InboxItem).all()
        assert item.done_at is not None and item.payload == {}     # the words live in the log alone


def test_a_retried_edit_is_one_revision_even_when_both_copies_race(bot):
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    send_event(bot, dm_event("first draft", "1700000999.000300", dm["ts"]), "EvR1")
    wait_until(lambda: stored_answers(bot, checkin_id))
    edited = edit_event("final words", dm["ts"])
    senders = [threading.Thread(target=send_event, args=(bot, edited, "EvEdit"), kwargs={"retry": n > 0})
               for n in range(4)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    wait_until(lambda: [a.text for a in stored_answers(bot, checkin_id)] == ["final words"])
    # A recovery pass running alongside changes nothing either.
    intake.recover(bot.services, now=later(bot))
    with bot.services.session_factory() as session:
        assert session.query(AnswerRevision).count() == 1


def test_two_processors_of_one_item_store_one_answer(bot):
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    body = {"team_id": "T1", "event_id": "EvTwice",
            "event": dm_event("one answer", "1700000999.000700", dm["ts"])}
    with bot.services.session_factory.begin() as session:
        from storage.repositories.inbox import Inbox

        item_id = Inbox(session).add("event:EvTwice", intake.MESSAGE_EVENT, "T1", body, bot.services.now())
    start = threading.Barrier(3)

    def processor():
        start.wait()
        intake.process(bot.services, item_id)

    threads = [threading.Thread(target=processor) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.text for a in stored_answers(bot, checkin_id)] == ["one answer"]
    assert len(confirmations(bot, dm["ts"])) == 1


def test_events_that_change_nothing_are_not_written_down(bot):
    send_event(bot, {"type": "message", "channel": "DU1", "channel_type": "im", "bot_id": "B1",
                     "text": "the bot's own post", "ts": "1700000999.000800"}, "EvBot")
    send_event(bot, {"type": "message", "subtype": "channel_join", "channel": "C1", "channel_type": "channel",
                     "user": "U1", "ts": "1700000999.000900"}, "EvJoin")
    with bot.services.session_factory() as session:
        assert session.query(InboxItem).count() == 0


def test_an_item_that_keeps_failing_is_set_aside_with_its_reason(bot, monkeypatch):
    with bot.services.uow.writing() as session:
        from storage.repositories.inbox import Inbox

        Inbox(session).add("event:EvPoison", intake.MESSAGE_EVENT, "T1", {"event": {}}, bot.services.now())

    def broken(services, item_id):
        raise ValueError("cannot be processed")

    monkeypatch.setattr(intake, "process_message_event", broken)
    for _ in range(intake.MAX_ATTEMPTS + 3):
        intake.recover(bot.services, now=later(bot))
    with bot.services.uow.reading() as session:
        [item] = session.query(InboxItem).all()
        assert item.done_at is None and item.attempts == intake.MAX_ATTEMPTS
        assert "cannot be processed" in item.last_error


def test_a_closed_modal_survives_a_crash_before_its_answers_are_saved(bot, monkeypatch):
    from tests.checkins.test_checkins_e2e import open_answer_modal, question_blocks, submit

    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    view = open_answer_modal(bot, dm)
    crashed = threading.Event()

    def crash(services, item_id):  # the process dies right after the modal closed
        crashed.set()
        raise SystemExit("killed")

    monkeypatch.setattr(intake, "process_modal_submission", crash)
    answers = {b["block_id"]: f"Written before the crash {n}" for n, b in enumerate(question_blocks(view), 1)}
    assert submit(bot, view, answers, view_id="V-crash") == (200, "")   # the modal closed
    assert crashed.wait(5)
    assert stored_answers(bot, checkin_id) == []
    with bot.services.session_factory() as session:
        [item] = session.query(InboxItem).all()
        assert item.done_at is None and item.kind == "modal_submission"
        assert sorted(item.payload["values"].values()) == sorted(answers.values())

    monkeypatch.undo()  # the restarted process
    assert intake.recover(bot.services, now=later(bot)) == 1
    assert sorted(a.text for a in stored_answers(bot, checkin_id)) == sorted(answers.values())
    bot.fake.wait_for("chat.postMessage", count=2)
    assert len([m for m in bot.fake.messages_in("DU1") if m.get("thread_ts") == dm["ts"]]) == 1
    assert intake.recover(bot.services, now=later(bot)) == 0      # done is done
    assert len(stored_answers(bot, checkin_id)) == len(answers)
    with bot.services.session_factory() as session:
        [item] = session.query(InboxItem).all()
        assert item.done_at is not None and item.payload == {}     # the words live in the log alone


def test_a_second_save_right_after_the_first_is_applied_after_it(bot):
    """One engineer's deliveries run in the order they came (bot.lanes): the edit wins."""
    from tests.checkins.test_checkins_e2e import open_answer_modal, question_blocks, state_for
    from tests import slack_requests as req
    from bot import ids

    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    blocks = [b["block_id"] for b in question_blocks(view)]
    for round_, view_id in enumerate(("V-first", "V-second", "V-third"), 1):
        body, ctype = req.view_submission(user_id="U1", callback_id=ids.CHECKIN_MODAL,
                                          state_values=state_for(view, {b: f"Round {round_}" for b in blocks}),
                                          private_metadata=view["private_metadata"], view_id=view_id)
        assert bot.post(body, ctype)[0] == 200          # no wait in between: all three in the lane
    assert bot.settle()
    assert {a.text for a in stored_answers(bot, int(answer_button(dm)))} == {"Round 3"}
